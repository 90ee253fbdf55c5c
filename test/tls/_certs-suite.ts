import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect, beforeAll } from 'vitest';
import { cleanEnv, command, startRouter, type Runtime } from '../_helpers/router-process.ts';
import { negotiate, readCa, tempDataDir, testCa, type TestCa } from '../_helpers/tls.ts';

const DAY = 86_400_000;

/**
 * DESIGN §11's certificate handling through the shipped CLI: --cert/--key
 * with the user's files, one `rxroute: error:` line and exit 2 for bad ones,
 * renewal of a leaf near its end, and `rxroute trust --print`.
 */
export function addCertificateTests(runtime: Runtime): void {
  describe(`rxroute certificates (${runtime})`, () => {
    let userCa: TestCa;
    let dir: string;
    let good: { cert: string; key: string };

    beforeAll(async () => {
      userCa = await testCa();
      dir = tempDataDir();
      const issued = await userCa.issue({ names: ['localhost', '127.0.0.1'], notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY) });
      good = { cert: join(dir, 'user.pem'), key: join(dir, 'user-key.pem') };
      writeFileSync(good.cert, issued.cert);
      writeFileSync(good.key, issued.key);
    });

    it('serves the --cert/--key files (https implied) and writes no CA of its own', async () => {
      const dataDir = join(tempDataDir(), 'unused');
      const router = await startRouter(runtime, ['--port', '0', '--log', 'json', '--cert', good.cert, '--key', good.key], { env: { RXROUTE_DATA_DIR: dataDir } });
      try {
        const { authorized, peer, alpn } = await negotiate(router.port, userCa.pem, ['h2', 'http/1.1']);
        expect({
          url: router.url.startsWith('https://'),
          authorized,
          alpn,
          served: new X509Certificate(peer.raw).fingerprint256,
          dataDirMade: existsSync(dataDir),
        }).toEqual({ url: true, authorized: true, alpn: 'h2', served: new X509Certificate(readFileSync(good.cert)).fingerprint256, dataDirMade: false });
      } finally {
        await router.stop();
      }
    });

    describe('bad --cert/--key: one error line, a hint, exit 2', () => {
      const cases: [string, () => Promise<string[]>, RegExp][] = [
        ['a --cert that does not exist', async () => ['--cert', join(dir, 'missing.pem'), '--key', good.key], /^rxroute: error: --cert \S+missing\.pem not found$/],
        ['a --cert that cannot be read (a directory)', async () => ['--cert', dir, '--key', good.key], /^rxroute: error: cannot read --cert \S+ \(EISDIR\)$/],
        ['a key that is not the certificate\'s', async () => {
          const other = await userCa.issue({ names: ['localhost'], notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY) });
          const path = join(dir, 'other-key.pem');
          writeFileSync(path, other.key);
          return ['--cert', good.cert, '--key', path];
        }, /^rxroute: error: --key \S+other-key\.pem is not the private key of --cert \S+user\.pem$/],
        ['an expired certificate', async () => {
          const old = await userCa.issue({ names: ['localhost'], notBefore: new Date(Date.now() - 40 * DAY), notAfter: new Date(Date.now() - DAY) });
          writeFileSync(join(dir, 'old.pem'), old.cert);
          writeFileSync(join(dir, 'old-key.pem'), old.key);
          return ['--cert', join(dir, 'old.pem'), '--key', join(dir, 'old-key.pem')];
        }, /^rxroute: error: --cert \S+old\.pem expired on \d{4}-\d\d-\d\dT/],
        ['a key in the wrong format (the certificate passed as --key)', async () => ['--cert', good.cert, '--key', good.cert], /^rxroute: error: --key \S+user\.pem is not a PEM private key \(found "CERTIFICATE"/],
        ['a certificate that is not PEM', async () => {
          writeFileSync(join(dir, 'garbage.pem'), 'not a certificate\n');
          return ['--cert', join(dir, 'garbage.pem'), '--key', good.key];
        }, /^rxroute: error: --cert \S+garbage\.pem holds no PEM "CERTIFICATE" block$/],
        ['--cert without --key', async () => ['--cert', good.cert], /^rxroute: error: --cert \S+user\.pem needs --key FILE, its private key$/],
      ];
      for (const [name, args, line] of cases) {
        it(name, async () => {
          const result = await runToExit(runtime, ['--port', '0', ...(await args())], { RXROUTE_DATA_DIR: tempDataDir() });
          const lines = result.stderr.trim().split('\n');
          expect({ code: result.code, lines: lines.length, first: line.test(lines[0] ?? ''), hint: lines[1]?.startsWith('hint: ') }, result.stderr).toEqual({
            code: 2,
            lines: 2,
            first: true,
            hint: true,
          });
        });
      }
    });

    it('keeps the CA and issues a new leaf when the old one is near its end or lacks a name', { timeout: 60_000 }, async () => {
      const dataDir = tempDataDir();
      // `trust --print` makes the CA (and a first leaf) without running anything.
      const printed = await runToExit(runtime, ['trust', '--print'], { RXROUTE_DATA_DIR: dataDir, HOME: dataDir });
      expect(printed.code, printed.stderr).toBe(0);
      const caPem = readCa(dataDir);
      const ours = await testCa({ cert: caPem, key: readFileSync(join(dataDir, 'ca-key.pem'), 'utf8') });
      const nearEnd = await ours.issue({ names: ['localhost', '*.localhost', '127.0.0.1', '::1'], notBefore: new Date(Date.now() - 380 * DAY), notAfter: new Date(Date.now() + 5 * DAY) });
      writeFileSync(join(dataDir, 'localhost.pem'), nearEnd.cert);
      writeFileSync(join(dataDir, 'localhost-key.pem'), nearEnd.key);

      const served = async (extra: string[]) => {
        const router = await startRouter(runtime, ['--https', '--port', '0', '--log', 'json', ...extra], { env: { RXROUTE_DATA_DIR: dataDir } });
        try {
          const { peer, authorized } = await negotiate(router.port, caPem, ['http/1.1']);
          return { cert: new X509Certificate(peer.raw), authorized, stderr: router.stderr() };
        } finally {
          await router.stop();
        }
      };
      const renewed = await served([]);
      const again = await served([]);
      const named = await served(['--allowed-host', 'new.test']);
      expect({
        authorized: renewed.authorized,
        replaced: renewed.cert.fingerprint256 !== new X509Certificate(nearEnd.cert).fingerprint256,
        daysLeft: Math.round((Date.parse(renewed.cert.validTo) - Date.now()) / DAY),
        said: /the old one it expires in [45] days/.test(renewed.stderr),
        onDisk: new X509Certificate(readFileSync(join(dataDir, 'localhost.pem'))).fingerprint256 === named.cert.fingerprint256,
        keptNextTime: again.cert.fingerprint256 === renewed.cert.fingerprint256,
        newName: named.cert.subjectAltName?.includes('DNS:new.test'),
        caKept: readCa(dataDir) === caPem,
      }).toEqual({ authorized: true, replaced: true, daysLeft: 397, said: true, onDisk: true, keptNextTime: true, newName: true, caKept: true });
    });

    it('trust --print prints the system-store and NSS commands and runs none', async () => {
      const home = tempDataDir();
      mkdirSync(join(home, '.mozilla', 'firefox', 'abc.default-release'), { recursive: true });
      writeFileSync(join(home, '.mozilla', 'firefox', 'abc.default-release', 'cert9.db'), '');
      const result = await runToExit(runtime, ['trust', '--print'], { RXROUTE_DATA_DIR: join(home, 'data'), HOME: home });
      const ca = join(home, 'data', 'ca.pem');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`cp ${ca} /usr/local/share/ca-certificates/rxroute.crt`);
      expect(result.stdout).toContain('update-ca-certificates');
      expect(result.stdout).toMatch(new RegExp(`certutil -d sql:${home}/.pki/nssdb -A -t C,, -n 'rxroute development CA [\\d-]+' -i ${ca}`));
      expect(result.stdout).toContain(`certutil -d sql:${home}/.mozilla/firefox/abc.default-release -A`);
      expect(existsSync(join(home, '.pki', 'nssdb'))).toBe(false);
    });

    it('trust runs each command after printing it: here the NSS database in HOME, which certutil then lists', async () => {
      // A PATH with only certutil and mkdir: no system store to touch on a shared machine.
      const home = tempDataDir();
      const bin = join(home, 'bin');
      mkdirSync(bin);
      for (const tool of ['certutil', 'mkdir']) symlinkSync(which(tool), join(bin, tool));
      const result = await runToExit(runtime, ['trust'], { RXROUTE_DATA_DIR: join(home, 'data'), HOME: home, PATH: bin });
      const db = `sql:${join(home, '.pki', 'nssdb')}`;
      const listed = execFileSync(which('certutil'), ['-L', '-d', db], { encoding: 'utf8' });
      expect({ code: result.code, printed: result.stdout.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.split(' ').slice(0, 4).join(' ')) }, result.stderr).toEqual({
        code: 0,
        printed: [`$ mkdir -p ${join(home, '.pki', 'nssdb')}`, `$ certutil -d ${db}`, `$ certutil -d ${db}`],
      });
      expect(listed).toMatch(/rxroute development CA [\d-]+\s+C,,/);
      expect(result.stdout).toContain('no update-ca-certificates or update-ca-trust here');
    });
  });
}

function which(tool: string): string {
  return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
}

function runToExit(runtime: Runtime, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { file, args: launch } = command(runtime);
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...launch, ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
