import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { singleUpstreamArgs, startRouterCommand } from '../_helpers/router-process.ts';
import { startUpstream, type Echo, type Upstream } from '../_helpers/upstream.ts';
import { npmFreeEnv, startRegistry, type Registry } from './_verdaccio.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
const escaped = pkg.version.replaceAll('.', '\\.');

// The three ways README offers to run the package, each resolving rxroute
// from the registry into its own empty cache. Deno uses no version younger
// than 24 hours by default (its minimum dependency age); this one was
// published seconds ago, so the test lifts that.
const launchers = {
  npx: { file: 'npx', args: ['--yes', 'rxroute'] },
  bunx: { file: `${root}node_modules/.bin/bunx`, args: ['rxroute'] },
  'bunx --bun': { file: `${root}node_modules/.bin/bunx`, args: ['--bun', 'rxroute'] },
  deno: { file: `${root}node_modules/.bin/deno`, args: ['run', '-A', '--minimum-dependency-age=0', 'npm:rxroute'] },
} as const;

// What each prints for --version: bunx follows the bin's `#!/usr/bin/env node` unless told --bun.
const runsOn = { npx: 'node', bunx: 'node', 'bunx --bun': 'bun', deno: 'deno' } as const;

// The package as a user gets it: published to a registry on loopback
// (verdaccio, no uplinks), then run by npx, bunx and deno from an empty folder.
describe('npm package from a registry', { timeout: 180_000 }, () => {
  let work: string;
  let user: string;
  let registry: Registry;
  let upstream: Upstream;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'rxroute-registry-'));
    registry = await startRegistry(work);
    env = {
      ...npmFreeEnv(),
      NO_COLOR: '1',
      npm_config_userconfig: registry.npmrc,
      npm_config_registry: registry.url,
      npm_config_cache: join(work, 'npm-cache'),
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      BUN_CONFIG_REGISTRY: registry.url,
      BUN_INSTALL_CACHE_DIR: join(work, 'bun-cache'),
      NPM_CONFIG_REGISTRY: registry.url,
      DENO_DIR: join(work, 'deno-dir'),
      DENO_NO_UPDATE_CHECK: '1',
    };
    for (const key of Object.keys(env)) if (/^(RX_|RXROUTE_|REFLEX_)/.test(key)) delete env[key];

    // With no uplinks the registry has only what is published here: the
    // runtime dependencies and theirs (the whole installed tree), from the
    // copies npm installed for this checkout, without the publishConfig that
    // would point a publish at the public registry.
    for (const dir of runtimeTree()) {
      const copy = join(work, 'deps', dir);
      const nested = join(root, dir, 'node_modules');
      cpSync(join(root, dir), copy, { recursive: true, filter: (src) => !src.startsWith(nested) });
      const manifest = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as Record<string, unknown>;
      delete manifest.publishConfig;
      delete manifest.scripts;
      writeFileSync(join(copy, 'package.json'), JSON.stringify(manifest, null, 2));
      // A nested copy (an older major under one package) is not `latest`.
      const tag = dir.lastIndexOf('node_modules/') > 0 ? ['--tag', 'nested'] : [];
      await run('npm', ['publish', '--ignore-scripts', '--access', 'public', '--loglevel=error', ...tag], { cwd: copy, env });
    }
    // rxroute itself: dist/npm is fresh from the global setup.
    await run('npm', ['publish', '--ignore-scripts', '--loglevel=error'], { cwd: root, env });

    user = join(work, 'user');
    mkdirSync(user);
    upstream = await startUpstream('app');
  }, 300_000);

  afterAll(async () => {
    await upstream?.close();
    await registry?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the registry serves rxroute with its version, bin and dependencies', async () => {
    const doc = (await (await fetch(`${registry.url}rxroute`)).json()) as {
      'dist-tags': { latest: string };
      versions: Record<string, { bin: Record<string, string>; dependencies: Record<string, string> }>;
    };
    expect(doc['dist-tags'].latest).toBe(pkg.version);
    expect(doc.versions[pkg.version]).toMatchObject({ bin: { rxroute: 'dist/npm/rxroute.js' }, dependencies: pkg.dependencies });
  });

  for (const [name, launcher] of Object.entries(launchers) as [keyof typeof launchers, (typeof launchers)[keyof typeof launchers]][]) {
    it(`${name}: installs from the registry, prints its version and proxies a request`, async () => {
      const { stdout } = await run(launcher.file, [...launcher.args, '--version'], { cwd: user, env, timeout: 120_000 });
      console.log(`${[launcher.file.split('/').pop(), ...launcher.args, '--version'].join(' ')} → ${stdout.trim()}`);
      expect(stdout).toMatch(new RegExp(`^rxroute ${escaped} \\(([0-9a-f]{7,}), ${runsOn[name]} \\d+\\.\\d+\\.\\d+\\S*\\)\\n$`));

      const router = await startRouterCommand(launcher.file, [...launcher.args, ...singleUpstreamArgs(upstream.url)], {
        cwd: user,
        env,
        label: name,
        processGroup: true,
        timeoutMs: 60_000,
      });
      try {
        expect(router.runtime).toBe(runsOn[name]);
        const res = await fetch(`${router.url}/through/${encodeURIComponent(name)}?q=1`, { method: 'POST', body: `sent through ${name}` });
        expect(res.status).toBe(200);
        expect(res.headers.get('x-upstream')).toBe('app');
        const echo = (await res.json()) as Echo;
        expect({ url: echo.url, method: echo.method, body: echo.bodyText }).toEqual({ url: `/through/${encodeURIComponent(name)}?q=1`, method: 'POST', body: `sent through ${name}` });
      } finally {
        await router.stop();
      }
    });
  }
});

/**
 * Every install location of the runtime dependency tree (package-lock's
 * non-dev `packages` entries, nested copies such as a second tslib
 * included), one per name@version: what a user's install resolves.
 */
function runtimeTree(): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; dev?: boolean; devOptional?: boolean; link?: boolean }>;
  };
  const published = new Map<string, string>();
  for (const [dir, entry] of Object.entries(lock.packages)) {
    if (!dir.startsWith('node_modules/') || entry.dev || entry.devOptional || entry.link) continue;
    const name = dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const id = `${name}@${entry.version}`;
    if (!published.has(id)) published.set(id, dir);
  }
  return [...published.values()];
}
