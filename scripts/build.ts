// Builds what ships: `dist/rxroute` (single executable, bun build --compile)
// and `dist/npm/` (the Node/bunx bundle named by package.json `bin`/`exports`).
// Usage: bun scripts/build.ts [bin|npm|all] [--target bun-linux-x64 …]
// scripts/release.ts imports buildBinary for its cross-compiled targets.
import { $ } from 'bun';

/** The short commit the build is made from, or `unknown` outside a git checkout. */
export async function shortCommit(): Promise<string> {
  const result = await $`git rev-parse --short=7 HEAD`.nothrow().quiet();
  return result.exitCode === 0 ? result.stdout.toString().trim() : 'unknown';
}

/** `--define` for src/version.ts: the commit is text in the bundle, not read at run time. */
function defineCommit(commit: string): string[] {
  return ['--define', `RXROUTE_COMMIT=${JSON.stringify(commit)}`];
}

/** One single-file executable for a Bun target (`bun-linux-x64`, …), or this machine when none. */
export async function buildBinary(outfile: string, { target, commit }: { target?: string; commit: string }): Promise<void> {
  const targetArgs = target ? [`--target=${target}`] : [];
  // --bytecode: the binary starts from precompiled JavaScriptCore bytecode,
  // not by parsing the bundle: `rxroute --version` in about 20 ms instead of
  // about 55 (it needs --format=esm for main.ts's top-level await).
  await $`bun build src/main.ts --compile --minify --bytecode --format=esm ${targetArgs} ${defineCommit(commit)} --outfile ${outfile}`.quiet();
}

if (import.meta.main) {
  const what = process.argv[2] ?? 'all';
  const target = process.argv.includes('--target') ? process.argv[process.argv.indexOf('--target') + 1] : undefined;
  const commit = await shortCommit();

  if (what === 'all' || what === 'npm') {
    // Dependencies stay external: npm installs them next to the bundle.
    await $`bun build src/main.ts --target=node --packages=external ${defineCommit(commit)} --outfile dist/npm/rxroute.js`.quiet();
    await $`bun build src/index.ts --target=node --packages=external ${defineCommit(commit)} --outfile dist/npm/index.js`.quiet();
    console.log('built dist/npm/rxroute.js, dist/npm/index.js');
  }
  if (what === 'all' || what === 'bin') {
    const out = target ? `dist/rxroute-${target.replace(/^bun-/, '')}` : 'dist/rxroute';
    await buildBinary(out, { target, commit });
    console.log(`built ${out} (${commit})`);
  }
}
