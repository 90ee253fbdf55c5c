import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Build the binary and the npm bundle before any suite spawns them. */
export default function setup(): void {
  execFileSync(`${root}node_modules/.bin/bun`, ['scripts/build.ts', 'all'], { cwd: root, stdio: 'inherit' });
}
