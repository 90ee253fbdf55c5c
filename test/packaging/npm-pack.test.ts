import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
/** `rxroute 0.1.0 (3f2a1c9, node 20.20.2)`: the bundle has the commit it was built from inlined. */
const versionLine = (runtime: string) => new RegExp(`^rxroute ${version.replaceAll('.', '\\.')} \\([0-9a-f]{7,}, ${runtime} \\d+\\.\\d+\\.\\d+\\)\n$`);

// What a user gets from the registry: the packed tarball installed into an
// empty project, run through npx and bunx.
describe('npm package', { timeout: 180_000 }, () => {
  let project: string;

  beforeAll(() => {
    const out = mkdtempSync(join(tmpdir(), 'rxroute-pack-'));
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: root, encoding: 'utf8' });
    const tarball = join(out, packed.trim().split('\n').pop()!);
    project = mkdtempSync(join(tmpdir(), 'rxroute-user-'));
    writeFileSync(join(project, 'package.json'), '{"name":"user-app","private":true,"type":"module"}');
    execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', tarball], { cwd: project, stdio: 'pipe' });
  }, 180_000);

  it('runs with npx', () => {
    expect(execFileSync('npx', ['--no-install', 'rxroute', '--version'], { cwd: project, encoding: 'utf8' })).toMatch(versionLine('node'));
  });

  it('runs with bunx', () => {
    const bunx = join(root, 'node_modules/.bin/bunx');
    // bunx follows the bin's `#!/usr/bin/env node` unless told --bun.
    expect(execFileSync(bunx, ['rxroute', '--version'], { cwd: project, encoding: 'utf8' })).toMatch(versionLine('node'));
    expect(execFileSync(bunx, ['--bun', 'rxroute', '--version'], { cwd: project, encoding: 'utf8' })).toMatch(versionLine('bun'));
  });

  it('exports createRouter, whose fetch handler answers', () => {
    const script = `import { createRouter, ConfigSchema } from 'rxroute';
const app = createRouter({ backend: 'http://127.0.0.1:9' });
const res = await app.fetch(new Request('http://localhost:3000/__rxroute/health', { headers: { host: 'localhost:3000' } }));
console.log(JSON.stringify({ status: res.status, body: await res.json(), schema: typeof ConfigSchema }));`;
    const out = JSON.parse(execFileSync('node', ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' }));
    expect(out).toMatchObject({ status: 200, body: { ok: true, version }, schema: 'object' });
  });
});
