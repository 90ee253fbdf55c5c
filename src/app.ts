import { Hono } from 'hono';
import { loadConfig } from './config/load.ts';
import type { Config, ConfigInput } from './config/schema.ts';
import type { ProcessRegistry } from './dev/process-types.ts';
import { RequestError, UpstreamError } from './errors.ts';
import { createBuildServer, type StaticFiles } from './frontend/serve-build.ts';
import { EventBus } from './log/events.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { requestLog, requestSink } from './log/request-log.ts';
import { proxyRequest, type ProxiedRoute } from './proxy/proxy-request.ts';
import { type Probe, UpstreamHealth } from './proxy/upstream-health.ts';
import type { ConnectUpstreamSocket } from './proxy/upstream-socket.ts';
import { fetchClient, type UpstreamClient } from './proxy/upstream-client.ts';
import { waitForUpstream } from './proxy/wait-for-upstream.ts';
import { buildRouteTable, matchRoute, type RouteTable } from './routing/route-table.ts';
import type { RouterEnv } from './runtime.ts';
import { hostGate } from './security/request-gate.ts';
import { hostPolicy } from './security/host-guard.ts';
import { upstreamErrorResponse } from './ui/error-response.ts';
import { mountOwnEndpoints, ownAnswer } from './ui/own-endpoints.ts';

// Composes the Hono app: the steps a request takes, each in the file named
// for it. Portable: Request → Response, no runtime globals.

export interface RouterOptions {
  /** How to reach upstreams; defaults to the global fetch (faithful on Bun). */
  upstream?: UpstreamClient;
  /** How to open upstream WebSockets; without it upgrades get 501. */
  connectSocket?: ConnectUpstreamSocket;
  /** File access for serve_from_build / compile_dev; without it the catch-all cannot serve a build. */
  files?: StaticFiles;
  /** TCP liveness check; without it a refused upstream fails at once (no `wait_ms`). */
  probe?: Probe;
  logger?: Logger;
  runtime?: string;
  /** `rxroute dev`'s supervised processes, for /__rxroute/health and the status page. */
  processes?: ProcessRegistry;
}

export type RouterApp = Hono<RouterEnv> & {
  config: Config;
  table: RouteTable;
  health: UpstreamHealth;
  /** Closes every relayed WebSocket (both sides) with 1001, for shutdown. */
  closeSockets(reason: string): void;
  /** Requests and health changes as they happen (the status page's feed). */
  events: EventBus;
};

/**
 * The router as a web-standard fetch handler: `createRouter(config).fetch`.
 * `config` is the same shape as rxroute.json; defaults fill the rest.
 */
export function createRouter(config: Partial<ConfigInput> | Config = {}, options: RouterOptions = {}): RouterApp {
  const resolved = loadConfig({ file: { path: 'createRouter() config', data: config } });
  const table = buildRouteTable(resolved);
  const upstream = options.upstream ?? fetchClient();
  const logger = options.logger ?? createLogger({ format: 'pretty', verbose: false, quiet: true, color: false });
  const targets = [...table.entries, table.catchAll].flatMap((e) => (e.target ? [{ name: e.owner, origin: new URL(e.target).origin }] : []));
  const upstreamOrigins = new Set(targets.map((t) => t.origin));

  const probe = options.probe;
  const health = new UpstreamHealth(targets, probe ?? (() => Promise.reject(new Error('no probe'))));
  const withWait = waitForUpstream(health, probe ? resolved.wait_ms : 0);
  const events = new EventBus();
  health.subscribe((status) => events.publish({ type: 'health', time: new Date().toISOString(), ...status }));
  // An output line keeps the time it arrived; nobody watching, nothing to build.
  options.processes?.subscribe((event) => {
    if (events.size > 0) events.publish({ type: 'process', time: new Date().toISOString(), ...event });
  });
  const relays = new Set<(code: number, reason: string) => void>();
  const serveBuild = options.files
    ? createBuildServer({ root: resolved.build_dir, files: options.files, noStore: resolved.compile_dev })
    : undefined;
  const proxy = proxyRequest({ upstream, connectSocket: options.connectSocket, upstreamOrigins, withWait, relays });

  const app = new Hono<RouterEnv>();

  // 1. Every request: the Host / Origin guard (DESIGN §7), then timing and the log (§8).
  app.use(requestLog(hostGate(hostPolicy(resolved.allowed_hosts, resolved.host), logger), requestSink(logger, events)));

  // 2. Errors become responses here and nowhere else.
  app.onError((error, c) => {
    const route = c.get('route');
    if (error instanceof RequestError) return c.json({ error: error.message }, error.status);
    if (error instanceof UpstreamError && route) {
      return upstreamErrorResponse(error, route, { method: c.req.method, url: c.req.url }, c.req.header('accept') ?? null);
    }
    if (c.req.raw.signal.aborted) {
      // The client left; nobody will read this. 499 as nginx logs it.
      return new Response(null, { status: 499 });
    }
    logger.warn('internal-error', `internal error on ${c.req.method} ${c.req.path}: ${error.message}`);
    return Response.json({ error: 'internal error in rxroute', detail: error.message }, { status: 500 });
  });

  // 3. rxroute's own endpoints: status page, health, events.
  mountOwnEndpoints(app, { config: resolved, table, health, events, probes: probe !== undefined, runtime: options.runtime ?? null, processes: options.processes });

  // 4. Everything else goes by the route table: the build, rxroute's own 404s, or an upstream.
  app.all('*', (c) => {
    const req = c.req.raw;
    // A reverse proxy only: a CONNECT or a target that is not an http path
    // (Bun hands `CONNECT x:@host:port/p` over verbatim) must never choose
    // where rxroute connects.
    if (req.method === 'CONNECT') throw new RequestError('CONNECT is not supported: rxroute is a reverse proxy for its upstreams, not a forward proxy');
    const url = parseUrl(req.url);
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.pathname.startsWith('/')) {
      throw new RequestError('the request target must be a path');
    }
    const route = matchRoute(table, url.pathname);
    c.set('route', route);
    if (route.owner === 'build' && serveBuild) return serveBuild(req, url.pathname);
    if (route.target === null) return ownAnswer(route, url.pathname);
    return proxy(c, route as ProxiedRoute, url);
  });

  const closeSockets = (reason: string) => {
    for (const close of [...relays]) close(1001, reason);
  };
  return Object.assign(app, { config: resolved, table, health, closeSockets, events });
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
