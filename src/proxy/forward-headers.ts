// Header rewriting for both directions of a proxied exchange (DESIGN §3).

/**
 * Hop-by-hop headers describe one connection, not the message, so a proxy
 * must not forward them (RFC 9110 §7.6.1): `Connection` and every header it
 * names, plus the classic set. `Proxy-*` covers Proxy-Authorization,
 * Proxy-Authenticate and the non-standard Proxy-Connection.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Drops the hop-by-hop headers of a message in place. */
export function stripHopByHop(headers: Headers): void {
  const hop = hopByHop(headers);
  const doomed: string[] = [];
  headers.forEach((_, name) => {
    if (hop(name)) doomed.push(name);
  });
  for (const name of doomed) headers.delete(name);
}

/** Whether a header of this message is hop-by-hop, the ones its Connection header names included. */
function hopByHop(headers: Headers): (name: string) => boolean {
  const connection = headers.get('connection');
  if (!connection) return isHopByHopName;
  const listed = new Set<string>();
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name) listed.add(name);
  }
  return (name) => isHopByHopName(name) || listed.has(name);
}

function isHopByHopName(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}

/** X-Forwarded-Proto for a request the client sent to this URL (or origin). */
export function protoOf(clientUrl: string): 'http' | 'https' {
  return clientUrl.startsWith('https:') ? 'https' : 'http';
}

export interface ForwardOptions {
  /** The client's IP address as the server saw it, if the runtime knows it. */
  clientAddress: string | undefined;
  /** `host[:port]` of the upstream, sent as Host when `changeOrigin` is set. */
  upstreamHost: string;
  changeOrigin: boolean;
  /** Whether the forwarded request carries a body (not GET/HEAD). */
  hasBody: boolean;
  /** The scheme the client used to reach rxroute. */
  proto: 'http' | 'https';
}

/** Request headers for an upstream: lowercase names, one value each (a repeated header joined as Headers joins it). */
export type HeaderRecord = Record<string, string>;

/**
 * The headers an upstream should see for this client request. One pass over
 * the client's headers, into a plain object: node:http takes it as it is,
 * and it costs a fraction of building a second Headers (this runs for every
 * module request Vite serves).
 */
export function upstreamRequestHeaders(incoming: Headers, opts: ForwardOptions): HeaderRecord {
  const hop = hopByHop(incoming);
  const clientHost = incoming.get('host');
  const host = clientHost ?? opts.upstreamHost;
  // No prototype: a header named `__proto__` is a valid token and must stay a header.
  const headers: HeaderRecord = Object.create(null);
  // Host stays as the browser sent it so Django's CSRF Origin/Host comparison
  // and Vite's host check see the URL the user opened.
  headers.host = opts.changeOrigin ? opts.upstreamHost : host;
  let chain: string | undefined;
  incoming.forEach((value, name) => {
    if (hop(name)) return;
    switch (name) {
      case 'host':
        return;
      case 'x-forwarded-for':
        chain = value;
        return;
      case 'content-length':
        // A GET/HEAD body is never forwarded, so its length must not be
        // announced either: the upstream would wait for bytes that never come.
        if (!opts.hasBody) return;
        break;
    }
    headers[name] = value;
  });
  // De-facto X-Forwarded-* (the RFC 7239 Forwarded header is rarely read by
  // Django or Reflex). An outer proxy's Host/Proto are kept; For is appended.
  if (opts.clientAddress) headers['x-forwarded-for'] = chain ? `${chain}, ${opts.clientAddress}` : opts.clientAddress;
  else if (chain !== undefined) headers['x-forwarded-for'] = chain;
  headers['x-forwarded-host'] ??= host;
  // Over --https the upstreams still speak plain HTTP; this is how Django
  // (SECURE_PROXY_SSL_HEADER) and Reflex learn that the page is secure.
  headers['x-forwarded-proto'] ??= opts.proto;
  return headers;
}

/**
 * Whether a response head can go to the client as it is: nothing
 * hop-by-hop and no Location that may point at an upstream.
 */
export function isRelayable(headers: Headers): boolean {
  const hop = hopByHop(headers);
  let clean = true;
  headers.forEach((_, name) => {
    if (name === 'location' || hop(name)) clean = false;
  });
  return clean;
}

/**
 * An absolute Location pointing at an upstream would send the browser around
 * rxroute; point it back at the origin the browser used. Relative and foreign
 * locations are left alone.
 */
export function rewriteLocation(
  location: string,
  upstreamOrigins: ReadonlySet<string>,
  routerOrigin: string,
): string {
  if (!/^(https?:)?\/\//i.test(location)) return location;
  let url: URL;
  try {
    url = new URL(location, routerOrigin);
  } catch {
    return location;
  }
  if (!upstreamOrigins.has(url.origin)) return location;
  // Keep the path, query and fragment byte for byte; only the origin changes.
  const authority = location.indexOf('//') + 2;
  const tail = location.slice(authority).search(/[/?#]/);
  return routerOrigin + (tail === -1 ? '' : location.slice(authority + tail));
}
