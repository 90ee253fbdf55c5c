import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outputs = ['dist/rxroute', 'dist/npm/rxroute.js', 'dist/npm/index.js'];
const inputs = ['src', 'package.json', 'scripts/build.ts'];

/** Build the binary and the npm bundle before any suite spawns them (skipped when dist/ is newer than its sources). */
export default function setup(): void {
  if (isFresh()) return;
  execFileSync(`${root}node_modules/.bin/bun`, ['scripts/build.ts', 'all'], { cwd: root, stdio: 'inherit' });
}

function isFresh(): boolean {
  let built = Infinity;
  for (const file of outputs) {
    try {
      built = Math.min(built, statSync(join(root, file)).mtimeMs);
    } catch {
      return false;
    }
  }
  return newestMtime(inputs.map((p) => join(root, p))) < built;
}

function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const path of paths) {
    const info = statSync(path);
    newest = Math.max(newest, info.mtimeMs);
    if (info.isDirectory()) newest = Math.max(newest, newestMtime(readdirSync(path).map((name) => join(path, name))));
  }
  return newest;
}
