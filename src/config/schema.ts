import * as v from 'valibot';

// The single source of truth for rxroute's configuration (DESIGN §2).
// Every key is required here: defaults are merged in before validation
// (see load.ts), so the inferred output type has no optional holes.

const Path = v.pipe(
  v.string(),
  v.check((s) => s === '' || s.startsWith('/'), 'a path starting with "/"'),
);

function isHttpUrl(s: string): boolean {
  if (!/^https?:\/\//i.test(s)) return false;
  try {
    return new URL(s).hostname !== '';
  } catch {
    return false;
  }
}

const HttpUrl = v.pipe(v.string('an http:// or https:// URL'), v.check(isHttpUrl, 'an http:// or https:// URL'));

const UPSTREAM_NAMES = ['frontend', 'backend', 'django'];

export const RouteSchema = v.strictObject({
  prefix: v.pipe(Path, v.check((s) => s !== '', 'a path starting with "/"')),
  /** An upstream name (`frontend`, `backend`, `django`) or a literal URL. */
  to: v.pipe(
    v.string(),
    v.check(
      (s) => UPSTREAM_NAMES.includes(s) || isHttpUrl(s),
      'an upstream name (frontend, backend, django) or an http:// URL',
    ),
  ),
  ws: v.optional(v.boolean(), false),
  change_origin: v.optional(v.boolean(), false),
});

const Port = v.pipe(
  v.number('an integer 0–65535'),
  v.integer('an integer 0–65535'),
  v.minValue(0, 'an integer 0–65535'),
  v.maxValue(65535, 'an integer 0–65535'),
);

/** One `rxroute dev` child: a shell command, or the command with its options. */
export const DevProcessSchema = v.union(
  [
    v.pipe(v.string(), v.nonEmpty('a shell command')),
    v.strictObject({
      cmd: v.pipe(v.string('a shell command'), v.nonEmpty('a shell command')),
      cwd: v.optional(v.string('a directory path')),
      env: v.optional(v.record(v.string(), v.string('a string value')), {}),
      /** A port on 127.0.0.1 that accepts connections once the process is ready. */
      ready: v.optional(Port),
    }),
  ],
  'a shell command string, or {cmd, cwd?, env?, ready?}',
);

const DevSchema = v.strictObject({
  processes: v.optional(
    v.record(
      v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]+$/, 'a process name of letters, digits, "_", "-" or "."')),
      DevProcessSchema,
      'an object of {name: command}',
    ),
  ),
});

export const PROFILES = ['integrated', 'split_dev', 'reflex_only'] as const;

const ConfigObject = v.strictObject({
  profile: v.picklist(PROFILES, `one of ${PROFILES.join(', ')}`),
  port: Port,
  host: v.pipe(v.string(), v.nonEmpty('a hostname or IP address')),
  frontend: HttpUrl,
  backend: HttpUrl,
  proxy: v.strictObject({
    enabled: v.boolean(),
    server: v.optional(HttpUrl),
    separate_dev_ports: v.boolean(),
  }),
  django_prefix: v.array(Path, 'a list of paths'),
  static_url: Path,
  media_url: Path,
  backend_path: Path,
  frontend_path: Path,
  routes: v.array(RouteSchema, 'a list of {prefix, to, ws?, change_origin?}'),
  dev_proxy: v.boolean(),
  serve_from_build: v.boolean(),
  compile_dev: v.boolean(),
  frontend_present: v.boolean(),
  build_dir: v.pipe(v.string(), v.nonEmpty('a directory path')),
  allowed_hosts: v.array(v.string(), 'a list of hostnames'),
  wait_ms: v.pipe(
    v.number('an integer ≥ 0 (milliseconds)'),
    v.integer('an integer ≥ 0 (milliseconds)'),
    v.minValue(0, 'an integer ≥ 0 (milliseconds)'),
  ),
  https: v.boolean(),
  /** The user's own PEM certificate and key (mkcert's); imply https. */
  cert: v.optional(v.pipe(v.string(), v.nonEmpty('a path to a PEM certificate'))),
  key: v.optional(v.pipe(v.string(), v.nonEmpty('a path to a PEM private key'))),
  log: v.picklist(['pretty', 'json'], 'pretty or json'),
  verbose: v.boolean(),
  quiet: v.boolean(),
  /** `rxroute dev` (DESIGN §10); ignored by the other commands. */
  dev: DevSchema,
});

export const ConfigSchema = v.pipe(
  ConfigObject,
  v.forward(
    v.check(
      (c) => c.profile !== 'split_dev' || c.proxy.server !== undefined,
      'a Django URL: profile split_dev needs proxy.server (or --django URL / RX_PROXY_SERVER)',
    ),
    ['proxy', 'server'],
  ),
);

/** Whether the router serves TLS: `https`, or a certificate or key of the user's own. */
export function servesHttps(config: Config): boolean {
  return config.https || config.cert !== undefined || config.key !== undefined;
}

export type Config = v.InferOutput<typeof ConfigSchema>;
export type ConfigInput = v.InferInput<typeof ConfigSchema>;
export type Route = v.InferOutput<typeof RouteSchema>;
export type Profile = (typeof PROFILES)[number];
export type DevProcess = v.InferOutput<typeof DevProcessSchema>;

/** Keys a config file may set, for "did you mean" hints. */
export const TOP_LEVEL_KEYS = Object.keys(ConfigObject.entries);
export const PROXY_KEYS = Object.keys(ConfigObject.entries.proxy.entries);
export const ROUTE_KEYS = Object.keys(RouteSchema.entries);
export const DEV_KEYS = Object.keys(DevSchema.entries);
