import { RequestError } from '../errors.ts';
import { isRelayable, protoOf, rewriteLocation, stripHopByHop, upstreamRequestHeaders } from './forward-headers.ts';
import type { UpstreamClient } from './upstream-client.ts';

// One proxied HTTP exchange (DESIGN §3) as a few named steps. Bodies are
// passed as streams in both directions and never buffered here.

export interface ForwardTarget {
  /** Upstream base URL, e.g. `http://127.0.0.1:8000`. */
  target: string;
  changeOrigin: boolean;
}

export interface ForwardContext {
  upstream: UpstreamClient;
  clientAddress: string | undefined;
  /** Origins of every configured upstream, for Location rewriting. */
  upstreamOrigins: ReadonlySet<string>;
}

/** Statuses whose responses never have a body (RFC 9110 §6.4.1). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Whether a response to this method with this status never has a body (HEAD's answers included). */
export function isBodyless(method: string, status: number): boolean {
  return method === 'HEAD' || NULL_BODY.has(status);
}

export function forwardHttp(
  req: Request,
  /** `path`: dot-segments resolved; `query`: raw, with its `?`; `origin`: as the client used. */
  url: { path: string; query: string; origin: string },
  route: ForwardTarget,
  ctx: ForwardContext,
): Promise<Response> {
  const target = upstreamTarget(route.target, url.path, url.query);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body !== null;
  const headers = upstreamRequestHeaders(req.headers, {
    clientAddress: ctx.clientAddress,
    upstreamHost: target.host,
    changeOrigin: route.changeOrigin,
    hasBody,
    proto: protoOf(url.origin),
  });
  const sent = ctx.upstream({
    origin: target.origin,
    path: target.path,
    method: req.method,
    headers,
    body: hasBody ? req.body : null,
    // Read when the client asks for it: @hono/node-server makes a request's
    // AbortController on first access, and the node:http client asks only
    // for exchanges still open after a few ms.
    get signal() {
      return req.signal;
    },
  });
  return sent.then((res) => relayResponse(req, res, url.origin, ctx.upstreamOrigins));
}

/**
 * The upstream request target keeps the client's path and raw query; a base
 * URL with a path (`http://host/prefix`) is prepended, like Vite's `target`.
 * Strings, not a URL object: re-serialising would re-encode the query.
 */
export function upstreamTarget(base: string, path: string, query: string) {
  // Glued as strings, so anything but a path could change the authority.
  if (!path.startsWith('/')) throw new RequestError('the request target must be a path');
  const { origin, host, basePath } = parsedBase(base);
  return { origin, host, path: basePath + path + query };
}

/** `http://host:port` of an upstream base URL. */
export function targetOrigin(base: string): string {
  return parsedBase(base).origin;
}

/** Upstream base URLs are few and fixed; parse each once, not per request. */
const bases = new Map<string, { origin: string; host: string; basePath: string }>();
function parsedBase(base: string) {
  let parsed = bases.get(base);
  if (!parsed) {
    const url = new URL(base);
    parsed = { origin: url.origin, host: url.host, basePath: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '') };
    bases.set(base, parsed);
  }
  return parsed;
}

/** Response head cleaned for the client; the body stream is handed through. */
function relayResponse(
  req: Request,
  res: Response,
  routerOrigin: string,
  upstreamOrigins: ReadonlySet<string>,
): Response {
  const bodyless = isBodyless(req.method, res.status);
  // Most responses need no change (an upstream client that already dropped
  // the hop-by-hop headers): hand them on without copying.
  if (isRelayable(res.headers) && (!bodyless || res.body === null)) return res;
  const headers = new Headers(res.headers);
  stripHopByHop(headers);
  const location = headers.get('location');
  if (location) headers.set('location', rewriteLocation(location, upstreamOrigins, routerOrigin));
  if (bodyless) res.body?.cancel().catch(() => {});
  return new Response(bodyless ? null : res.body, {
    status: res.status,
    statusText: res.statusText,
    headers,
  });
}
