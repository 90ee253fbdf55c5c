import { Hono } from 'hono';
import { getPath } from 'hono/utils/url';
import { loadConfig } from './config/load.ts';
import type { Config, ConfigInput } from './config/schema.ts';
import type { ProcessRegistry } from './dev/process-types.ts';
import { RequestError, UpstreamError } from './errors.ts';
import { createBuildServer, type StaticFiles } from './frontend/serve-build.ts';
import { EventBus } from './log/events.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { logged, requestLog, requestSink } from './log/request-log.ts';
import { proxyRequest, type ProxiedRoute } from './proxy/proxy-request.ts';
import { type Probe, UpstreamHealth } from './proxy/upstream-health.ts';
import type { ConnectUpstreamSocket } from './proxy/upstream-socket.ts';
import { fetchClient, type UpstreamClient } from './proxy/upstream-client.ts';
import { waitForUpstream } from './proxy/wait-for-upstream.ts';
import { buildRouteTable, matchRoute, type RouteEntry, type RouteTable } from './routing/route-table.ts';
import type { Bindings, RouterEnv } from './runtime.ts';
import { hostGate } from './security/request-gate.ts';
import { hostPolicy } from './security/host-guard.ts';
import { jsonAnswer, upstreamErrorResponse } from './ui/error-response.ts';
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

  const gate = hostGate(hostPolicy(resolved.allowed_hosts, resolved.host), logger);
  const log = requestSink(logger, events);

  /** DESIGN §4's error answers, the same from both paths below. */
  const errorAnswer = (error: unknown, req: Request, path: string, route: RouteEntry | undefined): Response => {
    if (error instanceof RequestError) return jsonAnswer({ error: error.message }, error.status);
    if (error instanceof UpstreamError && route) {
      return upstreamErrorResponse(error, route, { method: req.method, url: req.url }, req.headers.get('accept'));
    }
    if (req.signal.aborted) {
      // The client left; nobody will read this. 499 as nginx logs it.
      return new Response(null, { status: 499 });
    }
    const message = error instanceof Error ? error.message : String(error);
    logger.warn('internal-error', `internal error on ${req.method} ${path}: ${message}`);
    return Response.json({ error: 'internal error in rxroute', detail: message }, { status: 500 });
  };

  const app = new Hono<RouterEnv>();

  // rxroute's own answers (status page, health, events, the build, 404s,
  // bad request targets) go through Hono:
  // 1. Every request: the Host / Origin guard (DESIGN §7), then timing and the log (§8).
  app.use(requestLog(gate, log));

  // 2. Errors become responses here and nowhere else.
  app.onError((error, c) => errorAnswer(error, c.req.raw, c.req.path, c.get('route')));

  // 3. rxroute's own endpoints: status page, health, events.
  mountOwnEndpoints(app, { config: resolved, table, health, events, probes: probe !== undefined, runtime: options.runtime ?? null, processes: options.processes });

  /**
   * Where the route table sends a request, or why it cannot go anywhere. A
   * reverse proxy only: a CONNECT or a target that is not an http path (Bun
   * hands `CONNECT x:@host:port/p` over verbatim) must never choose where
   * rxroute connects.
   */
  const routeOf = (req: Request): { url: URL; route: RouteEntry } | RequestError => {
    if (req.method === 'CONNECT') return new RequestError('CONNECT is not supported: rxroute is a reverse proxy for its upstreams, not a forward proxy');
    const url = requestUrl(req);
    if (!url) return new RequestError('the request target must be a path');
    return { url, route: matchRoute(table, url.pathname) };
  };

  // 4. Everything else by the route table: the build or rxroute's own 404s.
  // Routes with an upstream never get here: fetch() below sends them to forward().
  app.all('*', (c) => {
    const to = routeOf(c.req.raw);
    if (to instanceof RequestError) throw to;
    c.set('route', to.route);
    if (to.route.owner === 'build' && serveBuild) return serveBuild(c.req.raw, to.url.pathname);
    return ownAnswer(to.route, to.url.pathname);
  });

  /**
   * A request for an upstream, the proxy's hot path: the same steps as the
   * Hono app (gate, log, error answers, HEAD answered without a body) with
   * no Hono context or middleware chain, which cost a few µs per request.
   */
  const forward = async (req: Request, env: Bindings | undefined, url: URL, route: ProxiedRoute): Promise<Response> => {
    const started = performance.now();
    const path = getPath(req);
    const blocked = gate(req, path);
    if (blocked) return headless(req, logged(req, path, 'rxroute', blocked, false, started, log));
    let upgraded = false;
    let res: Response;
    try {
      res = await proxy(req, env, route, url, () => (upgraded = true));
    } catch (error) {
      res = errorAnswer(error, req, path, route);
    }
    return headless(req, logged(req, path, route.owner, res, upgraded, started, log));
  };

  const dispatch = app.fetch;
  const fetch = (req: Request, env?: Bindings): Response | Promise<Response> => {
    const to = routeOf(req);
    if (to instanceof RequestError || to.route.target === null || (to.route.owner === 'build' && serveBuild)) return dispatch(req, env);
    return forward(req, env, to.url, to.route as ProxiedRoute);
  };

  const closeSockets = (reason: string) => {
    for (const close of [...relays]) close(1001, reason);
  };
  return Object.assign(app, { fetch, config: resolved, table, health, closeSockets, events });
}

/** The request's URL when its target is an http(s) path; undefined for anything else. */
function requestUrl(req: Request): URL | undefined {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.pathname.startsWith('/')) return undefined;
  return url;
}

/** A HEAD answer without a body, as Hono answers HEAD. */
function headless(req: Request, res: Response): Response {
  return req.method === 'HEAD' && res.body ? new Response(null, res) : res;
}
