import type { Hono } from 'hono';
import type { Config } from '../config/schema.ts';
import type { ProcessRegistry } from '../dev/process-types.ts';
import { type EventBus, eventStream } from '../log/events.ts';
import type { UpstreamHealth } from '../proxy/upstream-health.ts';
import type { RouteEntry, RouteTable } from '../routing/route-table.ts';
import type { RouterEnv } from '../runtime.ts';
import { VERSION } from '../version.ts';
import { escapeHtml } from './error-response.ts';
import { statusPage } from './status-page.ts';

// rxroute's own endpoints under /__rxroute/: the status page, the health
// JSON the status page and the 502 page poll, and the live event feed.

export interface OwnEndpointsContext {
  config: Config;
  table: RouteTable;
  health: UpstreamHealth;
  events: EventBus;
  /** Without a probe, health reports what requests saw and never probes. */
  probes: boolean;
  runtime: string | null;
  /** `rxroute dev`'s children; absent for plain rxroute and embedding. */
  processes?: ProcessRegistry;
}

export function mountOwnEndpoints(app: Hono<RouterEnv>, ctx: OwnEndpointsContext): void {
  const { config: resolved, table, health, events } = ctx;
  let refreshing: Promise<unknown> | undefined;

  app.get('/__rxroute/events', (c) => eventStream(events, c.req.raw.signal));

  const statusPageResponse = () =>
    new Response(statusPage({ version: VERSION, runtime: ctx.runtime, profile: resolved.profile, table }), {
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    });
  app.get('/__rxroute', statusPageResponse);
  app.get('/__rxroute/', statusPageResponse);

  app.get('/__rxroute/health', async (c) => {
    // Probe on demand: the error page and the status page poll this to see
    // an upstream come back. Concurrent polls share one round of probes.
    if (ctx.probes) {
      refreshing ??= health.refresh().finally(() => (refreshing = undefined));
      await refreshing;
    }
    return c.json({
      ok: true,
      version: VERSION,
      runtime: ctx.runtime,
      profile: resolved.profile,
      upstreams: health.list(),
      processes: ctx.processes?.list() ?? [],
    });
  });
}

/** Routes with no upstream: rxroute's namespace, or a catch-all with nothing behind it. */
export function ownAnswer(route: RouteEntry, path: string): Response {
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
