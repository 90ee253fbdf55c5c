import type { Context, MiddlewareHandler } from 'hono';
import type { RouterEnv } from '../runtime.ts';
import type { EventBus } from './events.ts';
import type { Logger, RequestRecord } from './logger.ts';

// The one middleware every request passes (DESIGN §8): the guard runs first
// (DESIGN §7, before anything is routed, rxroute's own pages included), then
// the request is timed and logged. One middleware rather than two: each
// Hono middleware costs a closure and a promise per request.

/** A blocked request's answer, or undefined to let it through. */
export type Gate = (c: Context<RouterEnv>) => Response | undefined;

export function requestLog(gate: Gate, log: (record: RequestRecord) => void): MiddlewareHandler<RouterEnv> {
  return async (c, next) => {
    const started = performance.now();
    const blocked = gate(c);
    if (blocked) c.res = blocked;
    else await next();
    const route = c.get('route');
    const res = c.res;
    const entry = {
      method: c.req.method,
      path: c.req.path,
      owner: route?.owner ?? 'rxroute',
      status: c.get('upgraded') ? 101 : res.status,
      ms: 0,
      bytes: null as number | null,
      dest: c.req.raw.headers.get('sec-fetch-dest'),
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
  };
}

/** Where a finished request goes: the log, and the status page's feed when one is open. */
export function requestSink(logger: Logger, events: EventBus): (record: RequestRecord) => void {
  return (r) => {
    // rxroute's own pages poll /__rxroute/health; only their failures are news.
    if ((r.path === '/__rxroute' || r.path.startsWith('/__rxroute/')) && r.status < 400) return;
    logger.request(r);
    if (events.size > 0) events.publish({ type: 'request', time: new Date().toISOString(), ...r });
  };
}
