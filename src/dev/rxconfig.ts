import { parseBool, parseInt10, setPath, type Layer } from '../config/env.ts';
import type { Runtime } from '../runtime.ts';
import { RXCONFIG_READER } from './rxconfig-reader.py.ts';

// rxconfig.py as a config source (DESIGN §10): the project's Python parses it
// with `ast` and evaluates only literals, env lookups, int()/str() and
// f-strings of those, so no user code runs. The values become a config layer
// between the profile defaults and rxroute.json. Anything that goes wrong is a
// note, never an error: a Reflex project without a readable rxconfig.py still
// runs on defaults.

export const RXCONFIG = 'rxconfig.py';
const TIMEOUT_MS = 5000;

export interface RxValue<T> {
  value: T;
  /** 1-based line in rxconfig.py where the value is written. */
  line: number;
}

/** What rxconfig.py says, each value with its line; only keys it sets, with the type rxroute uses. */
export interface RxconfigValues {
  /** `rxconfig.py`, relative to the working directory. */
  path: string;
  /** The interpreter that read it. */
  python: string;
  frontend_port?: RxValue<number>;
  backend_port?: RxValue<number>;
  /** Normalised to a leading `/` (Reflex accepts `app` and `/app/`). */
  frontend_path?: RxValue<string>;
  api_url?: RxValue<string>;
  /** From ReflexDjangoPlugin(config={...}). */
  profile?: RxValue<string>;
  proxy_server?: RxValue<string>;
  separate_dev_ports?: RxValue<boolean>;
}

export type RxKey = Exclude<keyof RxconfigValues, 'path' | 'python'>;

export interface RxconfigRead {
  /** Undefined when there is no rxconfig.py, or it could not be read (see notes). */
  values: RxconfigValues | undefined;
  /**
   * The values as written, before type checks: a wrong type (backend_port="abc")
   * still reaches validation, which names `rxconfig.py:N backend_port`.
   */
  raw: Partial<Record<RxKey, RxValue<unknown>>>;
  /** One line per problem (`rxconfig.py:9 backend_port: skipped (…)`). */
  notes: string[];
}

/** How each key is named in origin labels and notes. */
export const RX_LABEL: Record<RxKey, string> = {
  frontend_port: 'frontend_port',
  backend_port: 'backend_port',
  frontend_path: 'frontend_path',
  api_url: 'api_url',
  profile: 'ReflexDjangoPlugin profile',
  proxy_server: 'ReflexDjangoPlugin proxy.server',
  separate_dev_ports: 'ReflexDjangoPlugin proxy.separate_dev_ports',
};

/** `rxconfig.py:7 backend_port`: the origin label of a value read from rxconfig.py. */
export function rxOrigin(key: RxKey, line: number): string {
  return `${RXCONFIG}:${line} ${RX_LABEL[key]}`;
}

/** The project's Python: .venv, then $VIRTUAL_ENV, then python3 (python on Windows) on PATH. */
export function findPython(runtime: Pick<RxconfigRuntime, 'platform' | 'env' | 'cwd' | 'fileExists' | 'which'>): string | undefined {
  const windows = runtime.platform === 'win32';
  const inVenv = (dir: string) => (windows ? `${dir}\\Scripts\\python.exe` : `${dir}/bin/python`);
  const cwd = runtime.cwd().replace(/[\\/]+$/, '');
  const venvs = [`${cwd}${windows ? '\\' : '/'}.venv`, runtime.env.VIRTUAL_ENV].filter((d): d is string => !!d);
  for (const dir of venvs) {
    const python = inVenv(dir.replace(/[\\/]+$/, ''));
    if (runtime.fileExists(python)) return python;
  }
  return runtime.which(windows ? 'python' : 'python3', runtime.env.PATH ?? runtime.env.Path);
}

/** The reader's JSON (rxconfig-reader.py.ts). */
interface ReaderOutput {
  values?: Record<string, RxValue<unknown>>;
  plugin?: Record<string, RxValue<unknown>>;
  skipped?: { key: string; line: number; reason: string }[];
  syntax_error?: { line: number; message: string };
  no_config?: boolean;
  config_line?: number;
  other_config_lines?: number[];
  error?: string;
}

const PLUGIN_KEYS: Record<string, RxKey> = {
  profile: 'profile',
  'proxy.server': 'proxy_server',
  'proxy.separate_dev_ports': 'separate_dev_ports',
};

/** The part of the Runtime reading rxconfig.py needs. */
export type RxconfigRuntime = Pick<Runtime, 'platform' | 'env' | 'cwd' | 'readTextFile' | 'fileExists' | 'which' | 'runSync'>;

/** Reads ./rxconfig.py with the project's Python. Never throws. */
export function readRxconfig(runtime: RxconfigRuntime): RxconfigRead {
  const none = (notes: string[] = []): RxconfigRead => ({ values: undefined, raw: {}, notes });
  const text = runtime.readTextFile(RXCONFIG);
  if (text === undefined) return none();
  // An editor's byte-order mark is not Python syntax once decoded.
  const source = text.replace(/^\uFEFF/, '');
  const python = findPython(runtime);
  if (python === undefined) {
    return none([`${RXCONFIG} not read: no Python found (.venv, $VIRTUAL_ENV, ${runtime.platform === 'win32' ? 'python' : 'python3'}); using defaults`]);
  }
  const env = Object.fromEntries(Object.entries(runtime.env).filter(([, v]) => v !== undefined));
  const result = runtime.runSync([python, '-I', '-S', '-c', RXCONFIG_READER], {
    cwd: runtime.cwd(),
    input: JSON.stringify({ source, env }),
    timeoutMs: TIMEOUT_MS,
  });
  if (result === undefined) return none([`${RXCONFIG} not read: could not start ${python}; using defaults`]);
  if (result.code === null) return none([`${RXCONFIG} not read: ${python} gave no answer within ${TIMEOUT_MS / 1000} s; using defaults`]);
  let out: ReaderOutput;
  try {
    out = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as ReaderOutput;
  } catch {
    const why = lastLine(result.stderr) || lastLine(result.stdout) || 'no output';
    return none([`${RXCONFIG} not read: ${python} failed (exit ${result.code}: ${why}); using defaults`]);
  }
  if (out.error !== undefined) return none([`${RXCONFIG} not read: ${out.error}; using defaults`]);
  if (out.syntax_error) {
    const { line, message } = out.syntax_error;
    return none([`${RXCONFIG}${line ? `:${line}` : ''}: not read (syntax error: ${message}); using defaults`]);
  }
  return interpret(out, python);
}

/** Type checks and coercion of what the reader found. */
function interpret(out: ReaderOutput, python: string): RxconfigRead {
  const notes: string[] = [];
  if (out.no_config) notes.push(`${RXCONFIG}: no rx.Config(...) call found; using defaults for its settings`);
  if (out.other_config_lines?.length) {
    const others = out.other_config_lines.join(', ');
    notes.push(`${RXCONFIG}:${out.config_line}: several rx.Config(...) calls (also line ${others}); read this one only`);
  }
  for (const s of out.skipped ?? []) notes.push(`${RXCONFIG}:${s.line} ${s.key}: skipped (${s.reason})`);
  const raw: RxconfigRead['raw'] = {};
  for (const [key, v] of Object.entries(out.values ?? {})) raw[key as RxKey] = v;
  for (const [key, v] of Object.entries(out.plugin ?? {})) {
    const mapped = PLUGIN_KEYS[key];
    if (mapped) raw[mapped] = v;
  }
  const values: RxconfigValues = { path: RXCONFIG, python };
  for (const key of Object.keys(raw) as RxKey[]) {
    const entry = raw[key]!;
    // None means "not set" to Reflex (its ports default to None, then 3000/8000).
    if (entry.value === null) {
      delete raw[key];
      continue;
    }
    const typed = coerce(key, entry.value);
    if (typed === undefined) {
      if (key === 'api_url') {
        notes.push(`${RXCONFIG}:${entry.line} api_url: skipped (not a string: ${JSON.stringify(entry.value)})`);
        delete raw[key];
      }
      continue; // validation names the bad value and its line
    }
    raw[key] = { value: typed, line: entry.line };
    (values as unknown as Record<string, RxValue<unknown>>)[key] = { value: typed, line: entry.line };
  }
  return { values, raw, notes };
}

function coerce(key: RxKey, value: unknown): unknown {
  switch (key) {
    case 'frontend_port':
    case 'backend_port': {
      // Reflex's pydantic config accepts "3000" for an int (os.getenv returns strings).
      const n = typeof value === 'string' ? parseInt10(value) : value;
      return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
    }
    case 'frontend_path':
      return typeof value === 'string' ? (value.replace(/^\/+|\/+$/g, '') ? `/${value.replace(/^\/+|\/+$/g, '')}` : '') : undefined;
    case 'separate_dev_ports': {
      const b = typeof value === 'string' ? parseBool(value) : value;
      return typeof b === 'boolean' ? b : undefined;
    }
    default:
      return typeof value === 'string' ? value : undefined;
  }
}

/**
 * The config layer rxconfig.py contributes, with an origin label per key.
 * `run`: frontend_port is where Vite listens, so it becomes the frontend
 * upstream. `dev`: it is the port the user browses, so rxroute listens there
 * (and the dev planner moves Vite elsewhere).
 */
export function rxconfigLayer(read: Pick<RxconfigRead, 'raw'>, mode: 'run' | 'dev'): { layer: Layer; origin: Map<string, string> } {
  const layer: Layer = {};
  const origin = new Map<string, string>();
  const put = (key: RxKey, path: string[], value: unknown) => {
    const line = read.raw[key]!.line;
    setPath(layer, path, value);
    origin.set(path.join('.'), rxOrigin(key, line));
  };
  const { frontend_port, backend_port, frontend_path, profile, proxy_server, separate_dev_ports } = read.raw;
  if (frontend_port) {
    if (mode === 'dev') put('frontend_port', ['port'], frontend_port.value);
    else put('frontend_port', ['frontend'], loopbackUrl(frontend_port.value));
  }
  if (backend_port) put('backend_port', ['backend'], loopbackUrl(backend_port.value));
  if (frontend_path) put('frontend_path', ['frontend_path'], frontend_path.value);
  if (profile) put('profile', ['profile'], profile.value);
  if (proxy_server) put('proxy_server', ['proxy', 'server'], proxy_server.value);
  if (separate_dev_ports) put('separate_dev_ports', ['proxy', 'separate_dev_ports'], separate_dev_ports.value);
  return { layer, origin };
}

/**
 * The upstream URL for a port. A port that failed its type check still makes
 * a URL, one that cannot parse, so validation quotes it with its line
 * (`"8000/x"` or `""` would otherwise slip through as a path or port 80).
 */
function loopbackUrl(port: unknown): string {
  const plain = `http://127.0.0.1:${typeof port === 'number' || typeof port === 'string' ? String(port) : JSON.stringify(port)}`;
  if (typeof port === 'number' && Number.isInteger(port)) return plain;
  try {
    new URL(plain);
  } catch {
    return plain;
  }
  return `http://127.0.0.1:${JSON.stringify(port)}`;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? '';
}
