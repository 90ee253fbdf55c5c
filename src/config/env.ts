// Environment variables → a config-shaped layer (DESIGN §2 "env fallback").
// Values that do not parse are passed through as strings so validation can
// name the variable and the bad value instead of silently ignoring it.

export type Layer = Record<string, unknown>;
type Kind = 'string' | 'int' | 'bool' | 'list';

/** env var → [key path, kind]. */
export const ENV_KEYS: Record<string, [string[], Kind]> = {
  RXROUTE_PORT: [['port'], 'int'],
  RXROUTE_HOST: [['host'], 'string'],
  RX_FRONTEND_URL: [['frontend'], 'string'],
  RX_BACKEND_URL: [['backend'], 'string'],
  RX_PROXY_SERVER: [['proxy', 'server'], 'string'],
  RX_SEPARATE_DEV_PORTS: [['proxy', 'separate_dev_ports'], 'bool'],
  RX_DJANGO_PREFIX: [['django_prefix'], 'list'],
  REFLEX_BACKEND_PATH: [['backend_path'], 'string'],
  REFLEX_FRONTEND_PATH: [['frontend_path'], 'string'],
  RX_DEV_PROXY: [['dev_proxy'], 'bool'],
  RX_SERVE_FROM_BUILD: [['serve_from_build'], 'bool'],
  RX_COMPILE_DEV: [['compile_dev'], 'bool'],
  RX_FRONTEND_PRESENT: [['frontend_present'], 'bool'],
  RXROUTE_HTTPS: [['https'], 'bool'],
  RXROUTE_CERT: [['cert'], 'string'],
  RXROUTE_KEY: [['key'], 'string'],
};

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

export function parseBool(raw: string): boolean | string {
  const s = raw.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  return raw;
}

export function parseInt10(raw: string): number | string {
  return /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
}

/** A JSON list (`["/admin","/api"]`) or comma-separated (`/admin,/api`). */
export function parseList(raw: string): unknown {
  const s = raw.trim();
  if (s.startsWith('[')) {
    try {
      return JSON.parse(s);
    } catch {
      return raw;
    }
  }
  return s.split(',').map((p) => p.trim()).filter(Boolean);
}

const PARSERS: Record<Kind, (raw: string) => unknown> = {
  string: (raw) => raw,
  int: parseInt10,
  bool: parseBool,
  list: parseList,
};

/** Builds the env layer and records which variable set each key path. */
export function envLayer(
  env: Record<string, string | undefined>,
  origin: Map<string, string>,
): Layer {
  const layer: Layer = {};
  for (const [name, [path, kind]] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(layer, path, PARSERS[kind](raw));
    origin.set(path.join('.'), `from ${name}`);
  }
  return layer;
}

export function setPath(target: Layer, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === 'object' && next !== null ? next : (node[key] = {})) as Layer;
  }
  node[path[path.length - 1]!] = value;
}
