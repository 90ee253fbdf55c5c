import { djangoUpstream } from '../config/defaults.ts';
import { type Config, servesHttps } from '../config/schema.ts';
import { selfProxyProblem } from '../config/self-proxy.ts';
import { RX_LABEL, RXCONFIG, rxOrigin, type RxconfigValues, type RxKey } from '../dev/rxconfig.ts';
import type { Owner, RouteEntry, RouteTable } from '../routing/route-table.ts';
import type { Runtime } from '../runtime.ts';
import { startHint } from '../ui/error-response.ts';

// The checks behind `rxroute doctor` (DESIGN §8, §10). Each one returns findings
// that say what is wrong and what to do about it; they see the machine only
// through the Runtime (probe, readTextFile, upstream), so they stay portable.

export type Level = 'ok' | 'warn' | 'fail';

export interface Finding {
  level: Level;
  /** What was checked: `port`, `backend`, `.web/env.json`, … */
  check: string;
  message: string;
  /** What to do about it; absent when there is nothing to do. */
  fix?: string;
}

export const ENV_JSON = '.web/env.json';
const LOCAL_HOST = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\]|0\.0\.0\.0|::|\[::\])$/i;

/** The origin the browser opens: localhost for loopback binds, as the banner shows it. */
export function browserOrigin(config: Config): string {
  return `${servesHttps(config) ? 'https' : 'http'}://${LOCAL_HOST.test(config.host) ? 'localhost' : bracket(config.host)}:${config.port}`;
}

/** Whether something already accepts connections where rxroute would listen. */
export async function checkPort(config: Config, runtime: Runtime): Promise<Finding> {
  const where = `port ${config.port} on ${config.host}`;
  if (config.port === 0) return { level: 'ok', check: 'port', message: 'port 0: a free port is picked at start' };
  // A wildcard bind is reachable on loopback; connect there to see who holds it.
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' || config.host === '[::]' ? '::1' : config.host;
  const origin = `http://${bracket(host)}:${config.port}`;
  try {
    await runtime.probe(origin);
  } catch (error) {
    const reason = messageOf(error);
    if (/refused/i.test(reason)) return { level: 'ok', check: 'port', message: `${where} is free` };
    return {
      level: 'warn',
      check: 'port',
      message: `could not check ${where}: ${reason}`,
      fix: 'make sure --host is an address of this machine (127.0.0.1 is the default)',
    };
  }
  const running = await rxrouteVersionAt(origin, runtime);
  if (running) return { level: 'ok', check: 'port', message: `${where} is rxroute ${running}, already running` };
  const other = await freePortNear(config, host, runtime);
  return {
    level: 'fail',
    check: 'port',
    message: `${where} is already in use by another process`,
    fix: `stop that process, or pick another port: rxroute --port ${other} (or RXROUTE_PORT), and set REFLEX_API_URL=${browserOrigin({ ...config, port: other })}`,
  };
}

/** A port that refuses connections and is no upstream's, to suggest instead of a taken one. */
async function freePortNear(config: Config, host: string, runtime: Runtime): Promise<number> {
  const upstreamPorts = new Set([config.frontend, config.backend, config.proxy.server].flatMap((u) => (u ? [portOf(new URL(u))] : [])));
  const first = config.port === 3000 ? 3100 : config.port + 1;
  for (let port = first; port < first + 20 && port <= 65535; port++) {
    if (upstreamPorts.has(String(port))) continue;
    try {
      await runtime.probe(`http://${bracket(host)}:${port}`);
    } catch {
      return port;
    }
  }
  return first;
}

/** The version an rxroute answering at `origin` reports, or undefined for anything else. */
async function rxrouteVersionAt(origin: string, runtime: Runtime): Promise<string | undefined> {
  try {
    const res = await runtime.upstream({
      origin,
      path: '/__rxroute/health',
      method: 'GET',
      headers: { host: new URL(origin).host, accept: 'application/json' },
      body: null,
      // rxroute's health endpoint probes its upstreams first (1 s at most).
      signal: AbortSignal.timeout(2000),
    });
    const body = (await res.json()) as { version?: unknown; upstreams?: unknown };
    return typeof body.version === 'string' && Array.isArray(body.upstreams) ? body.version : undefined;
  } catch {
    return undefined;
  }
}

const DISPLAY_ORDER: Owner[] = ['frontend', 'backend', 'django', 'custom'];
const HINT_ORDER: Owner[] = ['backend', 'django', 'frontend', 'custom'];

/** One TCP probe per distinct upstream origin the route table sends traffic to. */
export async function checkUpstreams(config: Config, table: RouteTable, runtime: Runtime): Promise<Finding[]> {
  const groups = new Map<string, RouteEntry[]>();
  const routed = [...table.entries, table.catchAll]
    .filter((e) => e.target !== null && DISPLAY_ORDER.includes(e.owner))
    .sort((a, b) => DISPLAY_ORDER.indexOf(a.owner) - DISPLAY_ORDER.indexOf(b.owner));
  for (const e of routed) {
    const origin = new URL(e.target!).origin;
    groups.set(origin, [...(groups.get(origin) ?? []), e]);
  }
  return Promise.all(
    [...groups].map(async ([origin, entries]): Promise<Finding> => {
      const check = [...new Set(entries.map((e) => (e.owner === 'custom' ? `${e.prefix} (${e.rule})` : e.owner)))].join(', ');
      try {
        const ms = await runtime.probe(origin);
        return { level: 'ok', check, message: `${origin} accepts connections (${ms.toFixed(1)} ms)` };
      } catch (error) {
        return { level: 'fail', check, message: `down: ${messageOf(error)}`, fix: startHint(hintEntry(config, entries)) };
      }
    }),
  );
}

/**
 * The entry whose start hint fits a server with several roles (backend and
 * django): the main role, and for django the profile, which says whether
 * Django runs on its own or inside the Reflex backend.
 */
function hintEntry(config: Config, entries: RouteEntry[]): RouteEntry {
  const main = [...entries].sort((a, b) => HINT_ORDER.indexOf(a.owner) - HINT_ORDER.indexOf(b.owner))[0]!;
  return main.owner === 'django' ? { ...main, rule: `django (profile ${config.profile})` } : main;
}

/**
 * Reflex writes the URLs the browser uses for the backend into .web/env.json
 * (`PING`, `EVENT`, `UPLOAD`, `HEALTH`, `AUTH_CODESPACE`; `pingUrl`… before
 * 0.4) from REFLEX_API_URL. They should point at rxroute, not the backend.
 */
export function checkEnvJson(config: Config, runtime: Runtime): Finding[] {
  const text = runtime.readTextFile(ENV_JSON);
  if (text === undefined) return [];
  const rewrite = `set REFLEX_API_URL=${browserOrigin(config)} and restart reflex run, which rewrites ${ENV_JSON}`;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return [{ level: 'warn', check: ENV_JSON, message: `is not valid JSON: ${messageOf(error)}`, fix: 'run reflex run again to rewrite it' }];
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return [{ level: 'warn', check: ENV_JSON, message: 'does not hold a JSON object', fix: 'run reflex run again to rewrite it' }];
  }
  const urls = Object.entries(data).flatMap(([key, value]) => {
    const url = typeof value === 'string' ? absoluteUrl(value) : undefined;
    return url ? [{ key, url }] : [];
  });
  if (urls.length === 0) return [];
  if (config.port === 0) {
    return [{ level: 'warn', check: ENV_JSON, message: 'rxroute listens on port 0 (a random port), so env.json cannot point at it', fix: 'pick a fixed --port' }];
  }
  const ours = String(config.port);
  const backendPort = portOf(new URL(config.backend));
  const elsewhere = urls.filter(({ url }) => portOf(url) !== ours);
  const keys = (list: typeof urls) => list.map((u) => u.key).join(', ');
  if (elsewhere.length === 0) {
    return [{ level: 'ok', check: ENV_JSON, message: `${keys(urls)} point the browser at rxroute (port ${ours})` }];
  }
  const atBackend = elsewhere.every(({ url }) => portOf(url) === backendPort);
  if (atBackend && config.proxy.separate_dev_ports) {
    return [{ level: 'ok', check: ENV_JSON, message: `${keys(elsewhere)} point the browser at the backend (port ${backendPort}), as proxy.separate_dev_ports expects` }];
  }
  const where = atBackend
    ? `the Reflex backend (port ${backendPort})`
    : [...new Set(elsewhere.map(({ url }) => `${url.protocol}//${url.host}`))].join(', ');
  return [{ level: 'warn', check: ENV_JSON, message: `${keys(elsewhere)} point the browser at ${where}, not at rxroute (port ${ours})`, fix: rewrite }];
}

/**
 * A route with change_origin sends Django the upstream's host instead of the
 * browser's, so Django's Host and CSRF Origin checks no longer see matching
 * names: print the settings that make them pass.
 */
export function checkDjangoSettings(config: Config, table: RouteTable): Finding[] {
  const django = djangoUpstream(config);
  if (django === null) return [];
  const djangoOrigin = new URL(django).origin;
  const rewriting = table.entries.filter((e) => e.changeOrigin && e.target !== null && new URL(e.target).origin === djangoOrigin);
  if (rewriting.length === 0) return [];
  const routes = rewriting.map((e) => `${e.prefix} (${e.rule})`).join(', ') + (rewriting.length === 1 ? ' sends' : ' send');
  const sent = new URL(django).host;
  const browser = browserOrigin(config);
  const port = config.port;
  const scheme = servesHttps(config) ? 'https' : 'http';
  const origins = [browser, ...config.allowed_hosts.map((name) => `${scheme}://${bracket(name)}:${port}`)];
  const hosts = ['localhost', ...config.allowed_hosts, new URL(django).hostname];
  return [
    {
      level: 'warn',
      check: 'django settings',
      message: `${routes} Host ${sent} (change_origin), so Django's CSRF check sees Origin ${browser} on another host and rejects POSTs`,
      fix: `add to settings.py: CSRF_TRUSTED_ORIGINS = ${pyList(origins)}`,
    },
    {
      level: 'warn',
      check: 'django settings',
      message: `${routes} Host ${sent} (change_origin), and Django answers 400 to a Host not in ALLOWED_HOSTS`,
      fix: `add to settings.py: ALLOWED_HOSTS = ${pyList(hosts)}`,
    },
  ];
}

/**
 * Over --https the upstreams still get plain HTTP, with X-Forwarded-Proto:
 * https. Django reads that header only when told to; without it
 * request.is_secure() is false, so redirects go to http:// and secure
 * cookies' checks fail.
 */
export function checkHttpsSettings(config: Config): Finding[] {
  if (!servesHttps(config) || djangoUpstream(config) === null) return [];
  return [
    {
      level: 'warn',
      check: 'django settings',
      message: 'rxroute serves https and sends Django X-Forwarded-Proto: https; Django trusts it only when told to',
      fix: 'add to settings.py: SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")',
    },
  ];
}

function absoluteUrl(value: string): URL | undefined {
  if (!/^(https?|wss?):\/\//i.test(value)) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function portOf(url: URL): string {
  return url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '443' : '80');
}

function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function pyList(items: string[]): string {
  return `[${[...new Set(items)].map((s) => JSON.stringify(s)).join(', ')}]`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** rxroute's config key each rxconfig.py value feeds in plain `rxroute` (api_url feeds none). */
const RX_TARGET: Partial<Record<RxKey, string>> = {
  frontend_port: 'frontend',
  backend_port: 'backend',
  frontend_path: 'frontend_path',
  profile: 'profile',
  proxy_server: 'proxy.server',
  separate_dev_ports: 'proxy.separate_dev_ports',
};
/** Where Reflex puts Vite when rxconfig.py names no frontend_port. */
const REFLEX_FRONTEND_PORT = 3000;
const RX_ORDER: RxKey[] = ['frontend_port', 'backend_port', 'frontend_path', 'api_url', 'profile', 'proxy_server', 'separate_dev_ports'];

/**
 * What rxconfig.py contributed and from which line, its notes, whether plain
 * rxroute would proxy to itself, and whether Reflex's api_url sends the
 * browser past rxroute.
 */
export function checkRxconfig(
  config: Config,
  origin: Map<string, string>,
  sources: { notes: string[]; rxconfig: RxconfigValues | undefined },
  runtime: Pick<Runtime, 'env'>,
): Finding[] {
  const findings: Finding[] = [];
  const rx = sources.rxconfig;
  if (rx) {
    const parts = RX_ORDER.flatMap((key) => {
      const entry = rx[key];
      if (!entry) return key === 'frontend_port' || key === 'backend_port' ? [`${key} unset`] : [];
      const target = RX_TARGET[key];
      const winner = target === undefined ? undefined : origin.get(target);
      const overridden = target !== undefined && winner !== undefined && winner !== rxOrigin(key, entry.line) ? `; overridden ${winner}` : '';
      return [`${RX_LABEL[key]}=${String(entry.value)} (line ${entry.line}${overridden})`];
    });
    findings.push({ level: 'ok', check: RXCONFIG, message: `read with ${rx.python}: ${parts.join(', ')}` });
    if (!rx.frontend_port && !origin.has('frontend') && config.port === REFLEX_FRONTEND_PORT) {
      findings.push({
        level: 'warn',
        check: RXCONFIG,
        message: `frontend_port unset: reflex run puts Vite on ${REFLEX_FRONTEND_PORT}, rxroute's port (it moves to the next free one only when rxroute is already listening)`,
        fix: `run rxroute dev, or set frontend_port=${new URL(config.frontend).port || '80'} in rxconfig.py for plain rxroute`,
      });
    }
  }
  for (const note of sources.notes) findings.push({ level: 'warn', check: RXCONFIG, message: note, fix: noteFix(note) });
  const self = selfProxyProblem(config, origin);
  if (self) for (const problem of self.problems) findings.push({ level: 'warn', check: 'config', message: `plain rxroute: ${problem}`, fix: self.hint });
  if (rx?.api_url) findings.push(checkApiUrl(config, rx.api_url, runtime.env.REFLEX_API_URL));
  return findings;
}

function noteFix(note: string): string | undefined {
  if (/no Python found/.test(note)) return 'create the project virtualenv (.venv) or put python3 on PATH';
  if (/syntax error/.test(note)) return 'fix rxconfig.py (reflex run fails on it too)';
  if (/skipped/.test(note)) return 'rxroute uses rxroute.json, the environment or its default for that value instead; set it there if the default is wrong';
  return undefined;
}

/** Reflex writes api_url into .web/env.json; unless it is rxroute's URL the browser's /_event bypasses rxroute. */
function checkApiUrl(config: Config, apiUrl: { value: string; line: number }, envOverride: string | undefined): Finding {
  const ours = browserOrigin(config);
  const shown = `api_url=${apiUrl.value} (${RXCONFIG}:${apiUrl.line})`;
  const fix = `run rxroute dev (it sets REFLEX_API_URL=${ours}), or start reflex with REFLEX_API_URL=${ours}, which overrides api_url`;
  const effective = envOverride
    ? { value: envOverride, label: `REFLEX_API_URL=${envOverride} (it overrides ${RXCONFIG}:${apiUrl.line} api_url)` }
    : { value: apiUrl.value, label: shown };
  const url = absoluteUrl(effective.value);
  if (!url) return { level: 'warn', check: 'api_url', message: `${effective.label} is not an http:// URL`, fix };
  const port = portOf(url);
  if (config.port !== 0 && port === String(config.port) && (LOCAL_HOST.test(url.hostname) || url.hostname === config.host)) {
    if (servesHttps(config) && url.protocol === 'http:') {
      return { level: 'warn', check: 'api_url', message: `${effective.label} is http://, but rxroute serves https (${ours}): the page's /_event would be blocked as mixed content`, fix };
    }
    return { level: 'ok', check: 'api_url', message: `${effective.label} points the browser at rxroute` };
  }
  if (config.proxy.separate_dev_ports && port === portOf(new URL(config.backend))) {
    return { level: 'ok', check: 'api_url', message: `${effective.label} points the browser at the backend, as proxy.separate_dev_ports expects` };
  }
  return { level: 'warn', check: 'api_url', message: `${effective.label} points the browser at ${url.origin}, not at rxroute (${ours})`, fix };
}
