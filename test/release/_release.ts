import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ManifestTarget } from '../../scripts/release.ts';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const run = promisify(execFile);

export interface Manifest {
  name: string;
  version: string;
  commit: string;
  targets: ManifestTarget[];
}

/** `npm run release` as CI runs it, into `out`, for some targets; returns what it printed. */
export async function buildRelease(out: string, targets: string[]): Promise<string> {
  const { stdout } = await run(`${root}node_modules/.bin/bun`, ['scripts/release.ts', '--out', out, '--targets', targets.join(',')], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

export async function gitShortCommit(): Promise<string> {
  return (await run('git', ['rev-parse', '--short=7', 'HEAD'], { cwd: root })).stdout.trim();
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `rxroute 0.1.0 (3f2a1c9, bun 1.4.5)` for this checkout's version and a given commit. */
export function versionLine(commit: string): RegExp {
  return new RegExp(`^rxroute ${version.replaceAll('.', '\\.')} \\(${commit}, bun \\d+\\.\\d+\\.\\d+\\)\\n$`);
}
