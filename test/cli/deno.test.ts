import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { addCliTests } from './_suite.ts';

addCliTests('deno');

describe('deno task start', () => {
  it('runs the router with the flags README documents', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const out = execFileSync(`${root}node_modules/.bin/deno`, ['task', 'start', '--version'], { cwd: root, encoding: 'utf8' });
    expect(out.trim().split('\n').pop()).toMatch(/^rxroute \d+\.\d+\.\d+\S* \(unknown, deno \d+\.\d+\.\d+\S*\)$/);
  });
});
