import { ConfigError } from '../errors.ts';
import { buildRouteTable } from '../routing/route-table.ts';
import type { Config } from './schema.ts';

// Plain `rxroute` with rxconfig.py's frontend_port=3000 (Reflex's default) and
// rxroute's own port 3000 would send every page request back to itself. Say
// so before binding, naming both settings and where each came from.

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\]|0\.0\.0\.0)$/i;
const WILDCARD = /^(0\.0\.0\.0|::|\[::\])$/;

/** A ConfigError when an upstream rxroute routes to is rxroute's own address; else undefined. Pure. */
export function selfProxyProblem(config: Config, origin: Map<string, string>): ConfigError | undefined {
  if (config.port === 0) return undefined;
  const table = buildRouteTable(config);
  const routed = new Map<string, string>(); // upstream URL → owner, first owner wins
  for (const e of [table.catchAll, ...table.entries]) {
    if (e.target !== null && (e.owner === 'frontend' || e.owner === 'backend' || e.owner === 'django') && !routed.has(e.target)) {
      routed.set(e.target, e.owner);
    }
  }
  const portSource = origin.get('port') ?? 'default';
  const problems: string[] = [];
  const owners: string[] = [];
  for (const [url, owner] of routed) {
    if (!pointsAtSelf(url, config)) continue;
    const source = sourceOf(owner, config, origin);
    problems.push(
      `the ${owner} upstream ${url} (${source}) is rxroute's own port ${config.port} (${portSource}): rxroute would proxy to itself`,
    );
    owners.push(owner);
  }
  if (problems.length === 0) return undefined;
  const other = config.port + 1 <= 65535 ? config.port + 1 : config.port - 1;
  let hint: string;
  if (owners.includes('frontend')) {
    const frontendFromRx = (origin.get('frontend') ?? '').startsWith('rxconfig.py');
    const move = frontendFromRx ? `set frontend_port to another port (e.g. ${other}) in rxconfig.py` : `point --frontend at another port (e.g. http://127.0.0.1:${other})`;
    hint = `run rxroute dev, which moves Vite to a free port, or ${move} / pass --port`;
  } else {
    hint = `move the ${owners.join(' and ')} off port ${config.port}, or give rxroute another port with --port`;
  }
  return new ConfigError(problems, hint);
}

function pointsAtSelf(target: string, config: Config): boolean {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false;
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (port !== String(config.port)) return false;
  const host = bare(url.hostname);
  // rxroute on a loopback or wildcard address answers on loopback; on a
  // specific address only there.
  if (LOOPBACK.test(config.host) || WILDCARD.test(config.host)) return LOOPBACK.test(host) || host === bare(config.host);
  return host === bare(config.host);
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '');

function sourceOf(owner: string, config: Config, origin: Map<string, string>): string {
  if (owner === 'django') {
    if (config.profile === 'integrated') return `same as backend (profile integrated)`;
    return origin.get('proxy.server') ?? origin.get('proxy') ?? 'default';
  }
  return origin.get(owner) ?? 'default';
}
