// DNS-rebinding and cross-site WebSocket guards (DESIGN §7). A page on
// evil.example whose DNS name is rebound to 127.0.0.1 reaches rxroute with
// `Host: evil.example`; refusing unknown Host names stops it from reading the
// dev server, the backend and Django admin (the attack in Vite's CVE-2025-24010).

export interface HostPolicy {
  /** Extra names from `allowed_hosts`, lowercase, without port. */
  allowed: ReadonlySet<string>;
  /** The host rxroute is bound to (`--host`), lowercase. */
  bound: string;
  /** Verdicts on Host values seen lately: a browser sends the same one every time. */
  seen: Map<string, GuardVerdict>;
}

/** Distinct Host values remembered; a flood of made-up ones just empties it. */
const SEEN_LIMIT = 256;

export function hostPolicy(allowedHosts: readonly string[], boundHost: string): HostPolicy {
  return {
    allowed: new Set(allowedHosts.map((h) => normalizeName(h))),
    bound: normalizeName(boundHost),
    seen: new Map(),
  };
}

/**
 * The hostname of a Host header value (`name[:port]`, `[v6]:port`), lowercase
 * and without one trailing dot; undefined when the value is not a host.
 */
export function hostnameOf(hostHeader: string): string | undefined {
  const value = hostHeader.trim();
  if (value === '' || /[\s/\\?#@]/.test(value)) return undefined;
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i.exec(value);
  if (v6) return `[${v6[1]!.toLowerCase()}]`;
  const m = /^([^:[\]]+)(?::\d{1,5})?$/.exec(value);
  return m ? normalizeName(m[1]!) : undefined;
}

function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Loopback names, IP literals (a rebound DNS name never arrives as an IP),
 * the bound host and `allowed_hosts` pass; every other name is refused.
 */
export function isAllowedHostname(hostname: string, policy: HostPolicy): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (isIpLiteral(hostname)) return true;
  return hostname === policy.bound || policy.allowed.has(hostname);
}

function isIpLiteral(hostname: string): boolean {
  if (hostname.startsWith('[')) return true;
  const parts = hostname.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

export type GuardVerdict = { ok: true } | { ok: false; status: 400 | 403; reason: string; hint: string };

const OK: GuardVerdict = { ok: true };

/** Checks Host, and for WebSocket upgrades also Origin. */
export function checkRequest(headers: Headers, isUpgrade: boolean, policy: HostPolicy): GuardVerdict {
  const host = headers.get('host');
  let verdict = host === null ? undefined : policy.seen.get(host);
  if (verdict === undefined) {
    verdict = checkHost(host, policy);
    if (host !== null) {
      if (policy.seen.size >= SEEN_LIMIT) policy.seen.clear();
      policy.seen.set(host, verdict);
    }
  }
  if (!verdict.ok || !isUpgrade) return verdict;
  return checkOrigin(headers.get('origin'), policy);
}

function checkHost(host: string | null, policy: HostPolicy): GuardVerdict {
  if (host === null || host.trim() === '') {
    return { ok: false, status: 400, reason: 'the request has no Host header', hint: 'send a Host header (every browser does)' };
  }
  const hostname = hostnameOf(host);
  if (hostname === undefined) {
    return { ok: false, status: 400, reason: `malformed Host header ${JSON.stringify(host)}`, hint: 'send Host as name[:port]' };
  }
  if (!isAllowedHostname(hostname, policy)) {
    return {
      ok: false,
      status: 403,
      reason: `Host "${hostname}" is not allowed (DNS-rebinding guard)`,
      hint: `if you meant to open rxroute as ${hostname}, add it to allowed_hosts in rxroute.json or pass --allowed-host ${hostname}`,
    };
  }
  return OK;
}

function checkOrigin(origin: string | null, policy: HostPolicy): GuardVerdict {
  if (origin === null) return OK; // non-browser clients send none
  const originHost = originHostname(origin);
  if (originHost === undefined || !isAllowedHostname(originHost, policy)) {
    return {
      ok: false,
      status: 403,
      reason: `WebSocket from Origin ${JSON.stringify(origin)} refused (cross-site WebSocket guard)`,
      hint: originHost
        ? `if pages on ${originHost} should connect, add it to allowed_hosts in rxroute.json or pass --allowed-host ${originHost}`
        : 'open the app from http://localhost instead of a file or sandboxed frame',
    };
  }
  return OK;
}

function originHostname(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return normalizeName(url.hostname);
  } catch {
    return undefined;
  }
}
