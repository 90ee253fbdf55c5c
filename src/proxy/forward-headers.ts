// Header rewriting for both directions of a proxied exchange (DESIGN §3).

/**
 * Hop-by-hop headers describe one connection, not the message, so a proxy
 * must not forward them (RFC 9110 §7.6.1): `Connection` and every header it
 * names, plus the classic set. `Proxy-*` covers Proxy-Authorization,
 * Proxy-Authenticate and the non-standard Proxy-Connection.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export function stripHopByHop(headers: Headers): void {
  const connection = headers.get('connection');
  if (connection) {
    for (const name of connection.split(',')) {
      const n = name.trim();
      if (n) headers.delete(n);
    }
  }
  const doomed: string[] = [];
  headers.forEach((_, name) => {
    if (HOP_BY_HOP.has(name) || name.startsWith('proxy-')) doomed.push(name);
  });
  for (const name of doomed) headers.delete(name);
}

export interface ForwardOptions {
  /** The client's IP address as the server saw it, if the runtime knows it. */
  clientAddress: string | undefined;
  /** `host[:port]` of the upstream, sent as Host when `changeOrigin` is set. */
  upstreamHost: string;
  changeOrigin: boolean;
  /** Whether the forwarded request carries a body (not GET/HEAD). */
  hasBody: boolean;
}

/** The headers an upstream should see for this client request. */
export function upstreamRequestHeaders(incoming: Headers, opts: ForwardOptions): Headers {
  const headers = new Headers(incoming);
  stripHopByHop(headers);
  const host = incoming.get('host') ?? opts.upstreamHost;
  // Host stays as the browser sent it so Django's CSRF Origin/Host comparison
  // and Vite's host check see the URL the user opened.
  headers.set('host', opts.changeOrigin ? opts.upstreamHost : host);
  // De-facto X-Forwarded-* (the RFC 7239 Forwarded header is rarely read by
  // Django or Reflex). An outer proxy's Host/Proto are kept; For is appended.
  const chain = incoming.get('x-forwarded-for');
  if (opts.clientAddress) {
    headers.set('x-forwarded-for', chain ? `${chain}, ${opts.clientAddress}` : opts.clientAddress);
  }
  if (!incoming.has('x-forwarded-host')) headers.set('x-forwarded-host', host);
  if (!incoming.has('x-forwarded-proto')) headers.set('x-forwarded-proto', 'http');
  // A GET/HEAD body is never forwarded, so its length must not be announced
  // either: the upstream would wait for bytes that never come.
  if (!opts.hasBody) headers.delete('content-length');
  return headers;
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
