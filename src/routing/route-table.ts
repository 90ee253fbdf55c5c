import { ConfigError } from '../errors.ts';
import { djangoUpstream } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';

// The route table is pure data built once from the config (DESIGN §1):
// ordered entries, first match wins, prefixes match on segment boundaries.

export type Owner = 'rxroute' | 'frontend' | 'backend' | 'django' | 'custom' | 'build' | 'none';

export interface RouteEntry {
  /** Without trailing slash; `/` matches everything. */
  prefix: string;
  owner: Owner;
  /** Upstream base URL, or null when rxroute answers itself. */
  target: string | null;
  /** Which rule of DESIGN §1 produced the entry, for `rxroute routes` and logs. */
  rule: string;
  /** Whether WebSocket upgrades are relayed on this route. */
  ws: boolean;
  /** Send the upstream's host as Host instead of the browser's. */
  changeOrigin: boolean;
}

export interface RouteTable {
  entries: RouteEntry[];
  /** Rule 5: what gets every path no entry matched. */
  catchAll: RouteEntry;
}

export const RXROUTE_PREFIX = '/__rxroute';
export const REFLEX_PATHS = ['/_event', '/_upload', '/ping', '/_health', '/_all_routes', '/auth-codespace'];

export function buildRouteTable(config: Config): RouteTable {
  const entries: RouteEntry[] = [
    entry(RXROUTE_PREFIX, 'rxroute', null, 'rxroute (own endpoints)', false),
  ];
  const django = djangoUpstream(config);
  const upstreamOf = { frontend: config.frontend, backend: config.backend, django };

  config.routes.forEach((route, i) => {
    const named = route.to === 'frontend' || route.to === 'backend' || route.to === 'django';
    const target = named ? upstreamOf[route.to as keyof typeof upstreamOf] : route.to;
    if (target === null) {
      throw new ConfigError([
        `routes[${i}].to is "django" but profile ${config.profile} has no Django upstream`,
      ], 'use profile integrated or split_dev, or point the route at a URL');
    }
    const owner: Owner = named ? (route.to as Owner) : 'custom';
    entries.push(entry(route.prefix, owner, target, `routes[${i}]`, route.ws, route.change_origin));
  });

  if (!config.proxy.separate_dev_ports) {
    const base = trimSlash(config.backend_path);
    for (const path of REFLEX_PATHS) {
      entries.push(entry(base + path, 'backend', config.backend, 'reflex path', true));
    }
    if (django !== null) {
      const prefixes = [...config.django_prefix, config.static_url, config.media_url];
      for (const prefix of new Set(prefixes.map(trimSlash).filter(Boolean))) {
        entries.push(entry(prefix, 'django', django, `django prefix (profile ${config.profile})`, true));
      }
    }
  }
  return { entries, catchAll: catchAllEntry(config) };
}

function catchAllEntry(config: Config): RouteEntry {
  if (config.frontend_present) return entry('/', 'frontend', config.frontend, 'catch-all (frontend_present)', true);
  if (config.serve_from_build || config.compile_dev) {
    const why = config.compile_dev ? 'compile_dev' : 'serve_from_build';
    return entry('/', 'build', null, `catch-all (${why}: ${config.build_dir})`, false);
  }
  if (config.dev_proxy) return entry('/', 'frontend', config.frontend, 'catch-all (dev_proxy)', true);
  return entry('/', 'none', null, 'catch-all (dev_proxy=false, nothing to serve)', false);
}

function entry(
  prefix: string,
  owner: Owner,
  target: string | null,
  rule: string,
  ws: boolean,
  changeOrigin = false,
): RouteEntry {
  return { prefix: trimSlash(prefix) || '/', owner, target, rule, ws, changeOrigin };
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.replace(/\/+$/, '') : path === '/' ? '' : path;
}

/** `/admin` matches `/admin`, `/admin/`, `/admin/x`, never `/adminx`. */
export function prefixMatches(prefix: string, pathname: string): boolean {
  if (prefix === '/') return true;
  return pathname.startsWith(prefix) && (pathname.length === prefix.length || pathname[prefix.length] === '/');
}

/** First matching entry; `pathname` must already have dot-segments resolved. */
export function matchRoute(table: RouteTable, pathname: string): RouteEntry {
  for (const e of table.entries) if (prefixMatches(e.prefix, pathname)) return e;
  return table.catchAll;
}

export interface Explanation {
  input: string;
  /** The path that was matched: dot-segments resolved, query dropped. */
  path: string;
  entry: RouteEntry;
  reason: string;
}

/** Which owner gets a path and why, for `rxroute routes /path…`. */
export function explainPath(table: RouteTable, input: string): Explanation {
  const path = resolvePath(input);
  const hit = matchRoute(table, path);
  const reason = hit === table.catchAll
    ? `no prefix matched; ${hit.rule}`
    : `matched prefix ${hit.prefix} (${hit.rule})`;
  return { input, path, entry: hit, reason };
}

/** Resolves dot-segments (also `%2e`) the way the request handler sees the path. */
export function resolvePath(input: string): string {
  // Concatenate rather than resolve against a base: `//x` must stay a path.
  return new URL(`http://rxroute.invalid${input.startsWith('/') ? '' : '/'}${input}`).pathname;
}
