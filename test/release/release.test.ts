import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectMachO, signAdHoc } from '../../scripts/release/macho.ts';
import { TARGETS } from '../../scripts/release/targets.ts';
import { singleUpstreamArgs, startRouterCommand, cleanEnv } from '../_helpers/router-process.ts';
import { startUpstream, type Echo, type Upstream } from '../_helpers/upstream.ts';
import { executableKind, type ExecutableKind } from './_formats.ts';
import { buildRelease, gitShortCommit, root, sha256, version, versionLine, type Manifest } from './_release.ts';

const run = promisify(execFile);

// What each target's executable must be, read from its header bytes.
const expectedKind: Record<string, ExecutableKind> = {
  'linux-x64': { format: 'ELF', machine: 'x86-64' },
  'linux-x64-baseline': { format: 'ELF', machine: 'x86-64' },
  'linux-arm64': { format: 'ELF', machine: 'aarch64' },
  'darwin-x64': { format: 'Mach-O', cputype: 'x86_64' },
  'darwin-arm64': { format: 'Mach-O', cputype: 'arm64' },
  'windows-x64': { format: 'PE32+', machine: 'x86-64', subsystem: 'console' },
};

// Debian's qemu-user-static runs the arm64 build here; .ci/run installs it
// with libc6-arm64-cross (the aarch64 glibc it loads through -L).
const QEMU = '/usr/bin/qemu-aarch64-static';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const hasQemu = existsSync(QEMU) && existsSync(join(ARM64_SYSROOT, 'lib/ld-linux-aarch64.so.1'));

// The whole release (six targets, about 45 s here): the archives are what
// users download, so every check below reads them, not the build folder.
describe('npm run release', { timeout: 120_000 }, () => {
  let work: string;
  let out: string;
  let manifest: Manifest;
  let commit: string;
  let upstream: Upstream;
  /** target → folder the archive was unpacked into */
  const unpacked = new Map<string, string>();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'rxroute-release-'));
    out = join(work, 'release');
    const printed = await buildRelease(
      out,
      TARGETS.map((t) => t.name),
    );
    console.log(printed.trim());
    manifest = JSON.parse(readFileSync(join(out, 'release.json'), 'utf8')) as Manifest;
    commit = await gitShortCommit();
    for (const entry of manifest.targets) {
      const dir = join(work, 'unpacked', entry.target);
      mkdirSync(dir, { recursive: true });
      const archive = join(out, entry.archive);
      // The system's own tar and unzip, as a user would unpack them.
      if (entry.archive.endsWith('.zip')) execFileSync('unzip', ['-q', archive, '-d', dir]);
      else execFileSync('tar', ['-xzf', archive, '-C', dir]);
      unpacked.set(entry.target, dir);
    }
    upstream = await startUpstream('app');
  }, 300_000);

  afterAll(async () => {
    await upstream?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('writes one executable and one archive per target, SHA256SUMS, release.json and install.sh, all named for the version', () => {
    const expected = TARGETS.flatMap((t) => {
      const exe = `rxroute-${version}-${t.name}${t.os === 'windows' ? '.exe' : ''}`;
      return [exe, `rxroute-${version}-${t.name}.${t.os === 'windows' ? 'zip' : 'tar.gz'}`];
    });
    expect(readdirSync(out).sort()).toEqual([...expected, 'SHA256SUMS', 'install.sh', 'release.json'].sort());
    expect(readFileSync(join(out, 'install.sh'), 'utf8')).toBe(readFileSync(join(root, 'install.sh'), 'utf8'));
  });

  it('SHA256SUMS checks out with sha256sum -c and covers every archive and executable', async () => {
    const { stdout } = await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(TARGETS.length * 2);
    expect(lines.every((line) => line.endsWith(': OK'))).toBe(true);
  });

  it('release.json names the version, the commit and each target with the real sizes and sums', () => {
    expect(manifest).toMatchObject({ name: 'rxroute', version, commit });
    expect(manifest.targets.map((t) => t.target)).toEqual(TARGETS.map((t) => t.name));
    for (const t of manifest.targets) {
      const exe = readFileSync(join(out, t.executable));
      const archive = readFileSync(join(out, t.archive));
      expect({ target: t.target, bytes: t.executableBytes, sha: t.executableSha256 }).toEqual({ target: t.target, bytes: exe.length, sha: sha256(exe) });
      expect({ target: t.target, bytes: t.archiveBytes, sha: t.archiveSha256 }).toEqual({ target: t.target, bytes: archive.length, sha: sha256(archive) });
    }
  });

  it('each archive holds the executable (mode 755), README.md and LICENSE', () => {
    for (const t of TARGETS) {
      const dir = unpacked.get(t.name)!;
      expect({ target: t.name, files: readdirSync(dir).sort() }).toEqual({ target: t.name, files: [t.executable, 'LICENSE', 'README.md'].sort() });
      const exe = readFileSync(join(dir, t.executable));
      const bare = manifest.targets.find((m) => m.target === t.name)!;
      expect({ target: t.name, sha: sha256(exe) }).toEqual({ target: t.name, sha: bare.executableSha256 });
      expect({ target: t.name, mode: (statSync(join(dir, t.executable)).mode & 0o777).toString(8) }).toEqual({ target: t.name, mode: '755' });
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe(readFileSync(join(root, 'README.md'), 'utf8'));
    }
  });

  it('every executable is the right file type for its target (ELF, Mach-O, PE32+ console)', () => {
    const kinds = Object.fromEntries(TARGETS.map((t) => [t.name, executableKind(readFileSync(join(unpacked.get(t.name)!, t.executable)))]));
    expect(kinds).toEqual(expectedKind);
  });

  it('both darwin executables carry a valid ad-hoc signature over every page (docs/releases.md, macOS)', () => {
    for (const [target, cputype] of [['darwin-arm64', 'arm64'], ['darwin-x64', 'x86_64']] as const) {
      const signature = inspectMachO(readFileSync(join(unpacked.get(target)!, 'rxroute')));
      expect({ target, ...signature }).toMatchObject({ target, cputype, signed: true, adhoc: true, hardenedRuntime: false, valid: true, badPages: 0 });
    }
    // Bun 1.4.5 signs darwin-arm64 itself and leaves darwin-x64 with its own
    // runtime's signature, which no longer matches, so the release re-signs
    // that one. When this fails, Bun changed: update docs/releases.md.
    const resigned = Object.fromEntries(manifest.targets.filter((t) => t.macosSignature).map((t) => [t.target, t.macosSignature!.resignedAdHoc]));
    expect(resigned).toEqual({ 'darwin-x64': true, 'darwin-arm64': false });
  });

  it('the ad-hoc signer gives back Bun’s own darwin-arm64 signature byte for byte', () => {
    const arm64 = readFileSync(join(out, manifest.targets.find((t) => t.target === 'darwin-arm64')!.executable));
    expect(signAdHoc(arm64).equals(arm64)).toBe(true);
  });

  for (const target of ['linux-x64', 'linux-x64-baseline']) {
    it(`${target}: the unpacked executable prints its version and routes a request`, async () => {
      const exe = join(unpacked.get(target)!, 'rxroute');
      const { stdout } = await run(exe, ['--version'], { env: cleanEnv() });
      expect(stdout).toMatch(versionLine(commit));

      const router = await startRouterCommand(exe, singleUpstreamArgs(upstream.url), { cwd: work, label: target });
      try {
        expect(router.runtime).toBe('bun');
        const res = await fetch(`${router.url}/dashboard/page?from=${target}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-upstream')).toBe('app');
        const echo = (await res.json()) as Echo;
        expect(echo.url).toBe(`/dashboard/page?from=${target}`);
        expect(echo.headers.host).toBe(new URL(router.url).host);
      } finally {
        await router.stop();
      }
    });
  }

  it('linux-arm64: the unpacked executable prints its version and routes a request under qemu-aarch64-static', async (ctx) => {
    if (!hasQemu) {
      // CI installs both packages (.ci/run); elsewhere say what is missing.
      if (process.env.CI) throw new Error(`CI needs ${QEMU} and ${ARM64_SYSROOT} (qemu-user-static, libc6-arm64-cross)`);
      console.log(`skipped: no ${QEMU} or ${ARM64_SYSROOT}; apt-get install qemu-user-static libc6-arm64-cross`);
      ctx.skip();
    }
    const exe = join(unpacked.get('linux-arm64')!, 'rxroute');
    const { stdout } = await run(QEMU, ['-L', ARM64_SYSROOT, exe, '--version'], { env: cleanEnv(), timeout: 60_000 });
    console.log(`linux-arm64 under qemu: ${stdout.trim()}`);
    expect(stdout).toMatch(versionLine(commit));

    const router = await startRouterCommand(QEMU, ['-L', ARM64_SYSROOT, exe, ...singleUpstreamArgs(upstream.url)], {
      cwd: work,
      label: 'linux-arm64 under qemu',
      timeoutMs: 60_000,
    });
    try {
      const res = await fetch(`${router.url}/under/qemu?arch=arm64`);
      expect(res.headers.get('x-upstream')).toBe('app');
      expect(((await res.json()) as Echo).url).toBe('/under/qemu?arch=arm64');
    } finally {
      await router.stop();
    }
  });
});
