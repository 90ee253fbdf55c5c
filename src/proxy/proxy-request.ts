import type { RouteEntry } from '../routing/route-table.ts';
import type { Bindings } from '../runtime.ts';
import { protoOf, upstreamRequestHeaders } from './forward-headers.ts';
import { forwardHttp, upstreamTarget } from './forward-http.ts';
import { relayWebSocket } from './relay-websocket.ts';
import type { UpstreamClient } from './upstream-client.ts';
import type { ConnectUpstreamSocket } from './upstream-socket.ts';
import type { WithWait } from './wait-for-upstream.ts';

// A request whose route has an upstream: a WebSocket upgrade is relayed
// (DESIGN §5), anything else forwarded (§3); both through the wait (§6).

export interface ProxyContext {
  upstream: UpstreamClient;
  connectSocket: ConnectUpstreamSocket | undefined;
  /** Origins of every configured upstream, for Location rewriting. */
  upstreamOrigins: ReadonlySet<string>;
  withWait: WithWait;
  /** Live relays, so a shutdown can close them all with 1001. */
  relays: Set<(code: number, reason: string) => void>;
}

export type ProxiedRoute = RouteEntry & { target: string };

export function proxyRequest(ctx: ProxyContext) {
  /** `onAccepted` runs when a WebSocket upgrade was accepted (the log then records 101). */
  return (req: Request, env: Bindings | undefined, route: ProxiedRoute, url: URL, onAccepted: () => void): Promise<Response> | Response => {
    const queryAt = req.url.indexOf('?');
    const query = queryAt === -1 ? '' : req.url.slice(queryAt);
    const clientAddress = env?.remoteAddress;
    if (req.headers.get('upgrade')?.toLowerCase() === 'websocket') {
      return upgrade(req, url.pathname, query, route, clientAddress, env?.acceptWebSocket, onAccepted);
    }
    return ctx.withWait(req, route.target, () =>
      forwardHttp(
        req,
        { path: url.pathname, query, origin: `${url.protocol}//${req.headers.get('host') ?? url.host}` },
        route,
        { upstream: ctx.upstream, clientAddress, upstreamOrigins: ctx.upstreamOrigins },
      ),
    );
  };

  /** DESIGN §5: relay a WebSocket to the route's upstream, handshake first. */
  function upgrade(
    req: Request,
    path: string,
    query: string,
    route: ProxiedRoute,
    clientAddress: string | undefined,
    accept: Bindings['acceptWebSocket'],
    onAccepted: () => void,
  ): Promise<Response> | Response {
    if (!route.ws) {
      return Response.json(
        {
          error: `WebSocket upgrades are not relayed on ${route.prefix} (${route.rule})`,
          hint: 'set "ws": true on this route in rxroute.json',
        },
        { status: 400 },
      );
    }
    const connect = ctx.connectSocket;
    if (!accept || !connect) {
      return Response.json({ error: 'this server cannot accept WebSocket upgrades' }, { status: 501 });
    }
    const target = upstreamTarget(route.target, path, query);
    const headers = upstreamRequestHeaders(req.headers, {
      clientAddress,
      upstreamHost: target.host,
      changeOrigin: route.changeOrigin,
      hasBody: false,
      proto: protoOf(req.url),
    });
    const relays = ctx.relays;
    return ctx.withWait(req, route.target, () =>
      relayWebSocket(req, target.origin + target.path, headers, { connect, accept, clientAddress, onAccepted, relays }),
    );
  }
}
