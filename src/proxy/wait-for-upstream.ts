import { UpstreamError } from '../errors.ts';
import { targetOrigin } from './forward-http.ts';
import type { UpstreamHealth } from './upstream-health.ts';

// DESIGN §6: a request the retry policy (retry-policy.ts) lets wait rides out
// an upstream restart: it waits up to wait_ms for the upstream to come back
// (one shared probe loop per upstream), then is sent again.

/** First pause after an upstream accepted and closed the connection; doubles up to the last. */
const CLOSED_PAUSE_MS = 50;
const CLOSED_PAUSE_MAX_MS = 500;

export type WithWait = (req: Request, target: string, send: () => Promise<Response>) => Promise<Response>;

export function waitForUpstream(health: UpstreamHealth, waitMs: number): WithWait {
  return async (req, target, send) => {
    const origin = targetOrigin(target);
    const deadline = performance.now() + waitMs;
    let pause = CLOSED_PAUSE_MS;
    for (;;) {
      try {
        const res = await send();
        health.markUp(origin);
        return res;
      } catch (error) {
        if (!(error instanceof UpstreamError) || error.retry !== 'wait-and-resend') throw error;
        health.markDown(origin, error.message);
        // A body read from, even partly, is never sent again (the policy
        // knows what the client reported; this is what the core can see).
        if (req.bodyUsed || deadline - performance.now() <= 0) throw error;
        if (error.code !== 'refused') {
          // An upstream going down (or coming up) accepts and closes: the
          // TCP probe succeeds at once, so pause before the next attempt.
          if (!(await pauseFor(Math.min(pause, deadline - performance.now()), req.signal))) throw error;
          pause = Math.min(pause * 2, CLOSED_PAUSE_MAX_MS);
        }
        const left = deadline - performance.now();
        if (left <= 0 || !(await health.waitForUp(origin, left, req.signal))) throw error;
      }
    }
  };
}

/** Resolves true after `ms`, false as soon as `signal` aborts. */
function pauseFor(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
