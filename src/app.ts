import { type Context, Hono } from 'hono';
import { loadConfig } from './config/load.ts';
import type { Config, ConfigInput } from './config/schema.ts';
import type { ProcessRegistry } from './dev/process-types.ts';
import { RequestError, UpstreamError } from './errors.ts';
import { createBuildServer, type StaticFiles } from './frontend/serve-build.ts';
import { checkRequest, type GuardVerdict, hostPolicy } from './security/host-guard.ts';
import { EventBus, eventStream } from './log/events.ts';
import { createLogger, type Logger, type RequestRecord } from './log/logger.ts';
import { upstreamRequestHeaders } from './proxy/forward-headers.ts';
import { forwardHttp, targetOrigin, upstreamTarget } from './proxy/forward-http.ts';
import { relayWebSocket } from './proxy/relay-websocket.ts';
import { type Probe, UpstreamHealth } from './proxy/upstream-health.ts';
import type { ConnectUpstreamSocket } from './proxy/upstream-socket.ts';
import { fetchClient, type UpstreamClient } from './proxy/upstream-client.ts';
import { buildRouteTable, matchRoute, type RouteEntry, type RouteTable } from './routing/route-table.ts';
import type { Bindings } from './runtime.ts';
import { escapeHtml, upstreamErrorResponse } from './ui/error-response.ts';
import { statusPage } from './ui/status-page.ts';
import { VERSION } from './version.ts';

// Composes the Hono app: rxroute's own endpoints, then the route table.
// Portable: Request → Response, no runtime globals.

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

type Env = { Bindings: Bindings; Variables: { route: RouteEntry; upgraded: boolean } };

export type RouterApp = Hono<Env> & {
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
  const upstreamOrigins = new Set(
    [...table.entries, table.catchAll].flatMap((e) => (e.target ? [new URL(e.target).origin] : [])),
  );

  const probe = options.probe;
  const health = new UpstreamHealth(
    [...table.entries, table.catchAll].flatMap((e) => (e.target ? [{ name: e.owner, origin: new URL(e.target).origin }] : [])),
    probe ?? (() => Promise.reject(new Error('no probe'))),
  );
  const waitMs = probe ? resolved.wait_ms : 0;
  let refreshing: Promise<unknown> | undefined;

  /**
   * DESIGN §6: a refused connection waits up to wait_ms for the upstream to
   * come back (one shared probe loop per upstream), then is sent again. A
   * request whose body was already read from cannot be replayed.
   */
  async function withWait(req: Request, target: string, send: () => Promise<Response>): Promise<Response> {
    const origin = targetOrigin(target);
    const deadline = performance.now() + waitMs;
    for (;;) {
      try {
        const res = await send();
        health.markUp(origin);
        return res;
      } catch (error) {
        if (!(error instanceof UpstreamError) || error.code !== 'refused') throw error;
        health.markDown(origin, error.message);
        const left = deadline - performance.now();
        if (left <= 0 || req.bodyUsed || !(await health.waitForUp(origin, left, req.signal))) throw error;
      }
    }
  }

  const relays = new Set<(code: number, reason: string) => void>();
  const events = new EventBus();
  health.subscribe((status) => events.publish({ type: 'health', time: new Date().toISOString(), ...status }));
  // An output line keeps the time it arrived; nobody watching, nothing to build.
  options.processes?.subscribe((event) => {
    if (events.size > 0) events.publish({ type: 'process', time: new Date().toISOString(), ...event });
  });
  const log = (r: RequestRecord) => {
    // rxroute's own pages poll /__rxroute/health; only their failures are news.
    if ((r.path === '/__rxroute' || r.path.startsWith('/__rxroute/')) && r.status < 400) return;
    logger.request(r);
    if (events.size > 0) events.publish({ type: 'request', time: new Date().toISOString(), ...r });
  };
  const policy = hostPolicy(resolved.allowed_hosts, resolved.host);
  const serveBuild = options.files
    ? createBuildServer({ root: resolved.build_dir, files: options.files, noStore: resolved.compile_dev })
    : undefined;

  const app = new Hono<Env>();

  // One middleware for every request: the DESIGN §7 guard (unknown Host
  // names, cross-site WebSockets) runs before anything is routed, rxroute's
  // own pages included; then the request is timed and logged (§8).
  app.use(async (c, next) => {
    const started = performance.now();
    const req = c.req.raw;
    const verdict = checkRequest(req.headers, req.headers.get('upgrade')?.toLowerCase() === 'websocket', policy);
    if (verdict.ok) await next();
    else c.res = blocked(c, verdict);
    const route = c.get('route');
    const res = c.res;
    const entry = {
      method: c.req.method,
      path: c.req.path,
      owner: route?.owner ?? 'rxroute',
      status: c.get('upgraded') ? 101 : res.status,
      ms: 0,
      bytes: null as number | null,
      dest: req.headers.get('sec-fetch-dest'),
    };
    const length = res.headers.get('content-length');
    if (length !== null || !res.body || c.req.method === 'HEAD' || entry.status === 101) {
      entry.ms = performance.now() - started;
      entry.bytes = c.req.method === 'HEAD' ? 0 : length !== null ? Number(length) : 0;
      log(entry);
      return;
    }
    // The status page's own feed is not itself a request worth listing.
    if (c.req.path === '/__rxroute/events') return;
    // Streamed body of unknown length: log when it ends, with the bytes sent.
    let bytes = 0;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
        flush() {
          log({ ...entry, ms: performance.now() - started, bytes });
        },
      }),
    );
    c.res = new Response(counted, res);
  });

  const blocked = (c: Context<Env>, verdict: Exclude<GuardVerdict, { ok: true }>) => {
    logger.warn('blocked', `blocked ${c.req.method} ${c.req.path}: ${verdict.reason}`);
    if (c.req.header('accept')?.includes('text/html')) {
      return c.text(`${verdict.status === 403 ? 'Forbidden' : 'Bad request'}: ${verdict.reason}.\nTo fix: ${verdict.hint}.\n`, verdict.status);
    }
    return c.json({ error: verdict.reason, hint: verdict.hint }, verdict.status);
  };

  app.onError((error, c) => {
    const route = c.get('route');
    if (error instanceof RequestError) return c.json({ error: error.message }, error.status);
    if (error instanceof UpstreamError && route) {
      return upstreamErrorResponse(error, route, c.req.url, c.req.header('accept') ?? null);
    }
    if (c.req.raw.signal.aborted) {
      // The client left; nobody will read this. 499 as nginx logs it.
      return new Response(null, { status: 499 });
    }
    logger.warn('internal-error', `internal error on ${c.req.method} ${c.req.path}: ${error.message}`);
    return Response.json({ error: 'internal error in rxroute', detail: error.message }, { status: 500 });
  });

  app.get('/__rxroute/events', (c) => eventStream(events, c.req.raw.signal));

  const statusPageResponse = () =>
    new Response(statusPage({ version: VERSION, runtime: options.runtime ?? null, profile: resolved.profile, table }), {
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    });
  app.get('/__rxroute', statusPageResponse);
  app.get('/__rxroute/', statusPageResponse);

  app.get('/__rxroute/health', async (c) => {
    // Probe on demand: the error page and the status page poll this to see
    // an upstream come back. Concurrent polls share one round of probes.
    if (probe) {
      refreshing ??= health.refresh().finally(() => (refreshing = undefined));
      await refreshing;
    }
    return c.json({
      ok: true,
      version: VERSION,
      runtime: options.runtime ?? null,
      profile: resolved.profile,
      upstreams: health.list(),
      processes: options.processes?.list() ?? [],
    });
  });

  app.all('*', async (c) => {
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
    const queryAt = req.url.indexOf('?');
    const query = queryAt === -1 ? '' : req.url.slice(queryAt);
    const clientAddress = c.env?.remoteAddress;
    if (req.headers.get('upgrade')?.toLowerCase() === 'websocket') {
      const onAccepted = () => c.set('upgraded', true);
      return upgrade(req, url.pathname, query, route as RouteEntry & { target: string }, clientAddress, c.env?.acceptWebSocket, onAccepted);
    }
    return withWait(req, route.target, () =>
      forwardHttp(
        req,
        { path: url.pathname, query, origin: `${url.protocol}//${req.headers.get('host') ?? url.host}` },
        route as RouteEntry & { target: string },
        { upstream, clientAddress, upstreamOrigins },
      ),
    );
  });

  /** DESIGN §5: relay a WebSocket to the route's upstream, handshake first. */
  function upgrade(
    req: Request,
    path: string,
    query: string,
    route: RouteEntry & { target: string },
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
    if (!accept || !options.connectSocket) {
      return Response.json({ error: 'this server cannot accept WebSocket upgrades' }, { status: 501 });
    }
    const target = upstreamTarget(route.target, path, query);
    const headers = upstreamRequestHeaders(req.headers, {
      clientAddress,
      upstreamHost: target.host,
      changeOrigin: route.changeOrigin,
      hasBody: false,
    });
    const connect = options.connectSocket;
    return withWait(req, route.target, () =>
      relayWebSocket(req, target.origin + target.path, headers, { connect, accept, clientAddress, onAccepted, relays }),
    );
  }

  const closeSockets = (reason: string) => {
    for (const close of [...relays]) close(1001, reason);
  };
  return Object.assign(app, { config: resolved, table, health, closeSockets, events });
}

/** Routes with no upstream: rxroute's namespace, or a catch-all with nothing behind it. */
function ownAnswer(route: RouteEntry, path: string): Response {
  if (route.owner === 'rxroute') {
    return Response.json({ error: `no rxroute endpoint at ${path}`, endpoints: ['/__rxroute/', '/__rxroute/health', '/__rxroute/events'] }, { status: 404 });
  }
  const settings =
    route.owner === 'build'
      ? 'This router was created without file access, so it cannot serve the build directory: pass `files` to createRouter(), or proxy the Vite dev server with dev_proxy=true.'
      : 'Nothing serves the frontend: set dev_proxy=true (RX_DEV_PROXY=1) to proxy Vite, frontend_present=true if a frontend server is already running, or serve_from_build=true (--static DIR) to serve an exported build.';
  return new Response(
    `<!doctype html><meta charset="utf-8"><title>404 · rxroute</title><h1>404: ${escapeHtml(path)}</h1><p>${escapeHtml(settings)}</p><p>Route: ${escapeHtml(route.rule)}</p>`,
    { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' } },
  );
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
