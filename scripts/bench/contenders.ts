import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, command, type Runtime } from '../../test/_helpers/router-process.ts';
import { caddyfile, nginxConf } from './edge-configs.ts';

// Who is measured, in the order the tables list them: the upstream itself
// (the limit), rxroute as each runtime runs it (the same launchers as the
// tests), the production edges, and the proxy Vite's `server.proxy` uses.

export const root = fileURLToPath(new URL('../../', import.meta.url));

export interface Command {
  file: string;
  args: string[];
  env: Record<string, string | undefined>;
}

export interface Contender {
  /** What `--only` and `--skip` take. */
  id: string;
  name: string;
  /** How it is run and configured, for the report. */
  setup: string;
  /** Why it cannot run on this machine, or undefined. */
  missing(): string | undefined;
  /**
   * The command that serves the upstream on 127.0.0.1:`port`, after writing
   * any config into `dir` (a fresh scratch directory). Null for `direct`.
   */
  prepare: ((upstream: URL, port: number, dir: string) => Command) | null;
}

export const CONTENDER_IDS = ['direct', 'bun-floor', 'binary', 'deno', 'node', 'nginx', 'caddy', 'http-proxy-3'] as const;

const NGINX = findExecutable('nginx');
const CADDY = findExecutable('caddy');
const NODE = findExecutable('node');

export const CONTENDERS: Contender[] = [
  {
    id: 'direct',
    name: 'direct',
    setup: 'the client talks to the upstream itself: the limit of this machine',
    missing: () => undefined,
    prepare: null,
  },
  {
    id: 'bun-floor',
    name: 'bare Bun proxy',
    setup:
      'the floor of any Bun.serve + fetch proxy: each request handed to the upstream and its Response returned as is, ' +
      "no routing, header rewriting or logging; WebSockets relayed with Bun's WebSocket (scripts/bench/bun-floor-server.ts)",
    missing: () => undefined,
    prepare: (upstream, port) => ({
      file: process.execPath,
      args: [join(root, 'scripts/bench/bun-floor-server.ts'), upstream.origin, String(port)],
      env: process.env,
    }),
  },
  rxroute('binary', '`dist/rxroute` (Bun, compiled)'),
  rxroute('deno', '`deno run -A --unstable-no-legacy-abort --v8-flags=--expose-gc src/main.ts`'),
  rxroute('node', '`node dist/npm/rxroute.js`'),
  {
    id: 'nginx',
    name: 'nginx',
    setup:
      '1 worker; `upstream` block with `keepalive 64`; `proxy_http_version 1.1`, `Connection ""` ' +
      '(or `upgrade` for WebSockets); `proxy_buffering off`, `proxy_request_buffering off`, `client_max_body_size 0`, ' +
      'and 64 KiB read buffers (`proxy_buffer_size`, `client_body_buffer_size`) so unbuffered streaming moves 64 KiB ' +
      'per read like the others, not 4–16 KiB; Host kept; no access log (scripts/bench/edge-configs.ts)',
    missing: () => (NGINX ? undefined : 'nginx not installed'),
    prepare(upstream, port, dir) {
      writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port, upstream));
      // -e: the error log from the first line on, before the config names one.
      return { file: NGINX!, args: ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], env: process.env };
    },
  },
  {
    id: 'caddy',
    name: 'caddy',
    setup: '`reverse_proxy` with `flush_interval -1`; plain HTTP on loopback, `admin off`, `auto_https off`; Host kept (its default)',
    missing: () => (CADDY ? undefined : 'caddy not installed'),
    prepare(upstream, port, dir) {
      writeFileSync(join(dir, 'Caddyfile'), caddyfile(dir, port, upstream));
      const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'xdg-data'), XDG_CONFIG_HOME: join(dir, 'xdg-config') };
      return { file: CADDY!, args: ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], env };
    },
  },
  {
    id: 'http-proxy-3',
    name: 'http-proxy-3',
    setup:
      "what Vite's `server.proxy` runs, under Node: `createProxyServer({ target, ws: true, xfwd: true })`, " +
      "`proxy.web` per request, `proxy.ws` on `upgrade`; no agent, as in Vite, so one upstream connection per request " +
      '(scripts/bench/http-proxy-3-server.mjs)',
    missing: () =>
      !NODE ? 'node not on PATH' : !existsSync(join(root, 'node_modules/http-proxy-3')) ? 'http-proxy-3 not installed (npm install)' : undefined,
    prepare: (upstream, port) => ({
      file: NODE!,
      args: [join(root, 'scripts/bench/http-proxy-3-server.mjs'), upstream.origin, String(port)],
      env: process.env,
    }),
  },
];

/**
 * `--baseline PATH`: an earlier build of rxroute measured right after the
 * current one of the same runtime, in the same run, for before/after ratios:
 * a binary (after `dist/rxroute`), an npm bundle `….js` (run by Node, after
 * `rxroute node`) or a `main.ts` (run by Deno, after `rxroute deno`).
 * Returns the id it was added as and the id it follows.
 */
export function addBaseline(path: string): { id: string; after: Runtime } {
  const file = resolve(path);
  const runtime: Runtime = file.endsWith('.js') ? 'node' : file.endsWith('.ts') ? 'deno' : 'binary';
  const id = runtime === 'binary' ? 'baseline' : `baseline-${runtime}`;
  const base = rxroute(runtime, `an earlier build: \`${path}\``);
  const contender: Contender = {
    ...base,
    id,
    name: runtime === 'binary' ? 'rxroute baseline' : `rxroute ${runtime} baseline`,
    missing: () => (existsSync(file) ? undefined : `${path} not found`),
    prepare(upstream, port, dir) {
      const launched = base.prepare!(upstream, port, dir);
      if (runtime === 'binary') return { ...launched, file };
      // The current build's entry file is the last argument before rxroute's own options.
      const at = launched.args.indexOf('--port') - 1;
      return { ...launched, args: launched.args.map((a, i) => (i === at ? file : a)) };
    },
  };
  CONTENDERS.splice(CONTENDERS.findIndex((c) => c.id === runtime) + 1, 0, contender);
  return { id, after: runtime };
}

/** rxroute on one runtime, every route (backend, frontend, Django) pointed at the upstream; no request log. */
function rxroute(runtime: Runtime, setup: string): Contender {
  const { file, args } = command(runtime);
  return {
    id: runtime,
    name: `rxroute ${runtime}`,
    setup,
    missing() {
      if (!file.includes('/') && !findExecutable(file)) return `${file} not on PATH`;
      const absent = [file, ...args].find((a) => a.startsWith(root) && !existsSync(a));
      if (!absent) return undefined;
      const hint = absent.startsWith(join(root, 'dist')) ? 'run npm run build' : 'run npm install';
      return `${absent.slice(root.length)} not found (${hint})`;
    },
    prepare: (upstream, port) => ({
      file,
      args: [...args, '--port', String(port), '--host', '127.0.0.1', '--log', 'json', '-q', '--frontend', upstream.origin, '--backend', upstream.origin],
      env: cleanEnv(),
    }),
  };
}

/** From PATH, or the sbin directories a non-root PATH often lacks (Debian puts nginx in /usr/sbin). */
export function findExecutable(name: string): string | undefined {
  const path = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(':');
  return Bun.which(name, { PATH: path }) ?? undefined;
}
