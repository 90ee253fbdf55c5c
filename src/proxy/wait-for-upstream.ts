import { UpstreamError } from '../errors.ts';
import { targetOrigin } from './forward-http.ts';
import type { UpstreamHealth } from './upstream-health.ts';

// DESIGN §6: a refused connection waits up to wait_ms for the upstream to
// come back (one shared probe loop per upstream), then is sent again. A
// request whose body was already read from cannot be replayed.

export type WithWait = (req: Request, target: string, send: () => Promise<Response>) => Promise<Response>;

export function waitForUpstream(health: UpstreamHealth, waitMs: number): WithWait {
  return async (req, target, send) => {
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
  };
}
