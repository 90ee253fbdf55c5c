import type { MiddlewareHandler } from 'hono';
import type { RouterEnv } from '../runtime.ts';
import type { EventBus } from './events.ts';
import type { Logger, RequestRecord } from './logger.ts';

// What every request passes (DESIGN §8): the guard runs first (DESIGN §7,
// before anything is routed, rxroute's own pages included), then the
// request is timed and logged. Two callers: the Hono middleware below for
// rxroute's own answers, and app.ts's upstream path, which runs the same
// gate and `logged()` without Hono's context.

/** A blocked request's answer, or undefined to let it through. `path` is the request's decoded path, as logged. */
export type Gate = (req: Request, path: string) => Response | undefined;

export type RequestSink = (record: RequestRecord) => void;

/** The Hono middleware: gate, then time and log (no upgrades pass through Hono). One middleware: each costs a closure and a promise per request. */
export function requestLog(gate: Gate, log: RequestSink): MiddlewareHandler<RouterEnv> {
  return async (c, next) => {
    const started = performance.now();
    const blocked = gate(c.req.raw, c.req.path);
    if (blocked) c.res = blocked;
    else await next();
    const res = c.res;
    const out = logged(c.req.raw, c.req.path, c.get('route')?.owner ?? 'rxroute', res, false, started, log);
    if (out !== res) c.res = out;
  };
}

/**
 * Logs the exchange `res` answers and returns the response to send: `res`
 * itself, or for a streamed body of unknown length a copy whose body counts
 * the bytes and logs when it ends (or not at all for the status page's own
 * event feed, which is not a request worth listing).
 */
export function logged(req: Request, path: string, owner: string, res: Response, upgraded: boolean, started: number, log: RequestSink): Response {
  const method = req.method;
  const entry: RequestRecord = {
    method,
    path,
    owner,
    status: upgraded ? 101 : res.status,
    ms: 0,
    bytes: null,
    dest: req.headers.get('sec-fetch-dest'),
  };
  const length = res.headers.get('content-length');
  if (length !== null || !res.body || method === 'HEAD' || upgraded) {
    entry.ms = performance.now() - started;
    entry.bytes = method === 'HEAD' ? 0 : length !== null ? Number(length) : 0;
    log(entry);
    return res;
  }
  if (path === '/__rxroute/events') return res;
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
  return new Response(counted, res);
}

/** Where a finished request goes: the log, and the status page's feed when one is open. */
export function requestSink(logger: Logger, events: EventBus): RequestSink {
  return (r) => {
    // rxroute's own pages poll /__rxroute/health; only their failures are news.
    if ((r.path === '/__rxroute' || r.path.startsWith('/__rxroute/')) && r.status < 400) return;
    logger.request(r);
    if (events.size > 0) events.publish({ type: 'request', time: new Date().toISOString(), ...r });
  };
}
