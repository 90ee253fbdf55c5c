// `npm run release`: every target's executable, its archive (executable,
// README.md, LICENSE), SHA256SUMS, release.json and install.sh in
// dist/release/. Everything is built in a staging folder next to it and
// swapped in at the end, so dist/release/ only ever holds one complete
// version.
// Usage: bun scripts/release.ts [--targets linux-x64,darwin-arm64] [--out DIR]
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { $ } from 'bun';
import { tarGz, zip, type ArchiveEntry } from './release/archive.ts';
import { inspectMachO, signAdHoc } from './release/macho.ts';
import { TARGETS, archiveName, executableName, type ReleaseTarget } from './release/targets.ts';
import { buildBinary, shortCommit } from './build.ts';

const root = resolve(import.meta.dir, '..');
// buildBinary and git run relative to the checkout, wherever this was started.
process.chdir(root);
const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

const out = resolve(root, option('--out') ?? 'dist/release');
const chosen = option('--targets')?.split(',') ?? TARGETS.map((t) => t.name);
const targets = chosen.map((name) => {
  const found = TARGETS.find((t) => t.name === name);
  if (!found) throw new Error(`unknown target "${name}"; expected one of ${TARGETS.map((t) => t.name).join(', ')}`);
  return found;
});

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const commit = await shortCommit();
// Archive entries carry the commit's time, not the build's.
const committed = await $`git log -1 --format=%ct`.cwd(root).nothrow().quiet();
const mtime = new Date(committed.exitCode === 0 ? Number(committed.stdout.toString().trim()) * 1000 : 0);

const staging = `${out}.partial`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });

const docs: ArchiveEntry[] = ['README.md', 'LICENSE'].map((name) => ({
  name,
  data: readFileSync(join(root, name)),
  executable: false,
}));

export interface ManifestTarget {
  target: string;
  bunTarget: string;
  os: string;
  arch: string;
  executable: string;
  executableBytes: number;
  executableSha256: string;
  archive: string;
  archiveBytes: number;
  archiveSha256: string;
  /** darwin only: the shipped executable's signature, and whether Bun's had to be replaced (docs/releases.md, macOS). */
  macosSignature?: ReturnType<typeof inspectMachO> & { resignedAdHoc: boolean };
}

const started = performance.now();
const manifestTargets: ManifestTarget[] = [];
for (const target of targets) {
  const t0 = performance.now();
  const exePath = join(staging, executableName(version, target));
  await buildBinary(exePath, { target: target.bun, commit });
  let exe: Buffer = readFileSync(exePath);
  let resignedAdHoc = false;
  // Apple Silicon runs only validly signed code. Bun signs its darwin-arm64
  // output ad hoc, but leaves its own, no longer matching, signature on
  // darwin-x64 (1.4.5): replace any signature that does not verify.
  if (target.os === 'darwin' && !inspectMachO(exe).valid) {
    exe = signAdHoc(exe);
    writeFileSync(exePath, exe, { mode: 0o755 });
    resignedAdHoc = true;
  }
  const archive = pack(target, exe);
  const archivePath = join(staging, archiveName(version, target));
  writeFileSync(archivePath, archive);
  manifestTargets.push({
    target: target.name,
    bunTarget: target.bun,
    os: target.os,
    arch: target.arch,
    executable: basename(exePath),
    executableBytes: exe.length,
    executableSha256: sha256(exe),
    archive: basename(archivePath),
    archiveBytes: archive.length,
    archiveSha256: sha256(archive),
    ...(target.os === 'darwin' ? { macosSignature: { ...inspectMachO(exe), resignedAdHoc } } : {}),
  });
  const signed = resignedAdHoc ? ', re-signed ad hoc' : '';
  console.log(`${target.name}: ${mb(exe.length)} executable${signed}, ${mb(archive.length)} ${target.archive} (${seconds(t0)})`);
}

// sha256sum's format: hash, two spaces, name. Archives first (install.sh reads
// them), then the bare executables.
const sums = [
  ...manifestTargets.map((t) => `${t.archiveSha256}  ${t.archive}`),
  ...manifestTargets.map((t) => `${t.executableSha256}  ${t.executable}`),
];
writeFileSync(join(staging, 'SHA256SUMS'), `${sums.join('\n')}\n`);
writeFileSync(join(staging, 'release.json'), `${JSON.stringify({ name: 'rxroute', version, commit, targets: manifestTargets }, null, 2)}\n`);
copyFileSync(join(root, 'install.sh'), join(staging, 'install.sh'));

rmSync(out, { recursive: true, force: true });
mkdirSync(dirname(out), { recursive: true });
renameSync(staging, out);
console.log(`rxroute ${version} (${commit}): ${targets.length} targets in ${out} (${seconds(started)})`);

function pack(target: ReleaseTarget, exe: Buffer): Buffer {
  const entries = [{ name: target.executable, data: exe, executable: true }, ...docs];
  return target.archive === 'zip' ? zip(entries, mtime) : tarGz(entries, mtime);
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

