import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from '../_helpers/router-process.ts';
import { buildRelease, gitShortCommit, root, sha256, version, versionLine, type Manifest } from './_release.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A static file server on 127.0.0.1:0 standing in for the release downloads:
 * `/<name>/<file>` serves `<file>` from `sites[name]`; anything else is 404.
 */
async function serveReleases(sites: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const [, site, file] = /^\/([^/]+)\/([^/]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname) ?? [];
    const dir = site ? sites[site] : undefined;
    const path = dir && file ? join(dir, file) : undefined;
    if (!path || !existsSync(path)) {
      res.writeHead(404).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-length': statSync(path).size });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Runs `sh install.sh` (dash on Debian) with a clean environment plus `env`. */
function install(script: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile('sh', [script], { env: { ...cleanEnv(), ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (error as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const SHELLCHECK = '/usr/bin/shellcheck';

// install.sh against a release built here (linux-x64 only, the target this
// machine gets), served over loopback HTTP.
describe('install.sh', { timeout: 120_000 }, () => {
  let work: string;
  let release: string;
  let server: { url: string; close(): Promise<void> };
  let manifest: Manifest;
  let script: string;
  let n = 0;
  /** A fresh HOME and PATH for one run, with no rxroute anywhere. */
  const sandbox = () => {
    const home = join(work, `home-${++n}`);
    mkdirSync(home);
    return { HOME: home, PATH: '/usr/local/bin:/usr/bin:/bin', TMPDIR: work };
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'rxroute-install-'));
    release = join(work, 'release');
    await buildRelease(release, ['linux-x64']);
    manifest = JSON.parse(readFileSync(join(release, 'release.json'), 'utf8')) as Manifest;
    script = join(release, 'install.sh');

    // The same release with one byte of the archive flipped.
    const tampered = join(work, 'tampered');
    cpSync(release, tampered, { recursive: true });
    const archive = join(tampered, manifest.targets[0]!.archive);
    const bytes = readFileSync(archive);
    const middle = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
    writeFileSync(archive, bytes);

    // SHA256SUMS without the archive it names: the download of the archive fails.
    const partial = join(work, 'partial');
    mkdirSync(partial);
    copyFileSync(join(release, 'SHA256SUMS'), join(partial, 'SHA256SUMS'));

    server = await serveReleases({ good: release, tampered, partial });
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is shellcheck-clean as POSIX sh', async (ctx) => {
    if (!existsSync(SHELLCHECK)) {
      if (process.env.CI) throw new Error(`CI needs ${SHELLCHECK} (apt-get install shellcheck; .ci/run does)`);
      console.log(`skipped: no ${SHELLCHECK}; apt-get install shellcheck`);
      ctx.skip();
    }
    const run = await new Promise<Run>((resolve) =>
      execFile(SHELLCHECK, ['--shell=sh', join(root, 'install.sh')], (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      ),
    );
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('installs the verified executable into ~/.local/bin and prints the PATH line to add', async () => {
    const env = sandbox();
    const run = await install(script, { ...env, RXROUTE_DOWNLOAD_URL: `${server.url}/good` });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const installed = join(env.HOME, '.local/bin/rxroute');
    expect(sha256(readFileSync(installed))).toBe(manifest.targets[0]!.executableSha256);
    expect(run.stdout).toContain('target linux-x64,');
    expect(run.stdout).toMatch(new RegExp(`installed rxroute ${version.replaceAll('.', '\\.')} \\(${await gitShortCommit()}, bun [^)]+\\) to ${installed}\\n`));
    expect(run.stdout).toContain(`export PATH="${env.HOME}/.local/bin:$PATH"`);
    const ran = await new Promise<string>((resolve, reject) =>
      execFile(installed, ['--version'], (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    expect(ran).toMatch(versionLine(manifest.commit));
  });

  it('honours RXROUTE_INSTALL_DIR and says nothing about PATH when the folder is on it', async () => {
    const env = sandbox();
    const dir = join(env.HOME, 'tools', 'bin');
    const run = await install(script, { ...env, PATH: `${dir}:${env.PATH}`, RXROUTE_DOWNLOAD_URL: `${server.url}/good`, RXROUTE_INSTALL_DIR: dir });
    expect(run.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['rxroute']);
    expect(run.stdout).not.toContain('export PATH');
  });

  it('a tampered archive: checksum mismatch, exit 1, nothing installed', async () => {
    const env = sandbox();
    const run = await install(script, { ...env, RXROUTE_DOWNLOAD_URL: `${server.url}/tampered` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^rxroute install: error: checksum mismatch for rxroute-.+-linux-x64\.tar\.gz: SHA256SUMS says [0-9a-f]{64}, the download is [0-9a-f]{64}\n/);
    expect(existsSync(join(env.HOME, '.local'))).toBe(false);
    expect(readdirSync(work).filter((name) => name.startsWith('rxroute-install.'))).toEqual([]);
  });

  it('a release without this target: a clear message, exit 1, nothing installed', async () => {
    const env = sandbox();
    const run = await install(script, { ...env, RXROUTE_DOWNLOAD_URL: `${server.url}/good`, RXROUTE_TARGET: 'darwin-arm64' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`rxroute install: error: the release at ${server.url}/good has no archive for darwin-arm64`);
    expect(existsSync(join(env.HOME, '.local'))).toBe(false);
  });

  it('a download that fails (archive missing, or no server): a clear message, exit 1, nothing installed', async () => {
    const env = sandbox();
    const missing = await install(script, { ...env, RXROUTE_DOWNLOAD_URL: `${server.url}/partial` });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(new RegExp(`rxroute install: error: could not download ${server.url}/partial/rxroute-.+-linux-x64\\.tar\\.gz`));
    const nowhere = await install(script, { ...env, RXROUTE_DOWNLOAD_URL: `${server.url}/nothing-here` });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain(`rxroute install: error: could not download ${server.url}/nothing-here/SHA256SUMS`);
    expect(existsSync(join(env.HOME, '.local'))).toBe(false);
  });

  // A platform is what `uname` and `ldd` report; a stand-in earlier on PATH
  // reports another one, and install.sh itself runs unchanged.
  const withTools = (home: string, tools: Record<string, string>) => {
    const bin = join(home, 'fake-bin');
    mkdirSync(bin);
    for (const [name, body] of Object.entries(tools)) writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return `${bin}:/usr/local/bin:/usr/bin:/bin`;
  };

  it('an unknown platform, or an unknown RXROUTE_TARGET: names it, points to npx, exit 1, nothing installed', async () => {
    const env = sandbox();
    const PATH = withTools(env.HOME, { uname: 'case "$1" in -s) echo FreeBSD ;; -m) echo amd64 ;; esac' });
    const freebsd = await install(script, { ...env, PATH, RXROUTE_DOWNLOAD_URL: `${server.url}/good` });
    expect(freebsd.code).toBe(1);
    expect(freebsd.stderr).toBe(
      'rxroute install: error: there is no rxroute build for FreeBSD (amd64)\n' +
        'hint: use the npm package instead: npx rxroute (or bunx rxroute, or deno run -A npm:rxroute)\n',
    );
    const target = await install(script, { ...env, RXROUTE_DOWNLOAD_URL: `${server.url}/good`, RXROUTE_TARGET: 'linux-riscv64' });
    expect(target.code).toBe(1);
    expect(target.stderr).toContain('RXROUTE_TARGET=linux-riscv64 is not a release target');
    expect(existsSync(join(env.HOME, '.local'))).toBe(false);
  });

  it('musl libc: "not supported, use npx rxroute", exit 1, nothing installed', async () => {
    const env = sandbox();
    const PATH = withTools(env.HOME, { ldd: 'echo "musl libc (x86_64)"; echo "Version 1.2.4"; exit 1' });
    const run = await install(script, { ...env, PATH, RXROUTE_DOWNLOAD_URL: `${server.url}/good` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('musl is not supported');
    expect(run.stderr).toContain('npx rxroute');
    expect(existsSync(join(env.HOME, '.local'))).toBe(false);
  });

  it('re-running the release replaces the folder: files of another version do not survive', async () => {
    // An earlier release left in the folder, and a staging folder a killed run left behind.
    const again = join(work, 'again');
    mkdirSync(again);
    writeFileSync(join(again, 'rxroute-0.0.1-linux-x64.tar.gz'), 'an older release');
    writeFileSync(join(again, 'SHA256SUMS'), `${'0'.repeat(64)}  rxroute-0.0.1-linux-x64.tar.gz\n`);
    mkdirSync(`${again}.partial`);
    writeFileSync(join(`${again}.partial`, 'rxroute-0.0.1-darwin-x64.tar.gz'), 'half of an older run');
    await buildRelease(again, ['linux-x64']);
    const t = manifest.targets[0]!;
    expect(readdirSync(again).sort()).toEqual([t.archive, t.executable, 'SHA256SUMS', 'install.sh', 'release.json'].sort());
    expect(readFileSync(join(again, 'SHA256SUMS'), 'utf8')).not.toContain('0.0.1');
    expect(existsSync(`${again}.partial`)).toBe(false);
  });
});
