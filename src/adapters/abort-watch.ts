import type { UpstreamRequest } from '../proxy/upstream-client.ts';

// Both upstream clients on node:* (undici-client.ts for Node, node-http-client.ts
// for Deno) end an exchange when the client goes away, the same cheap way.

/** How long an upstream may take to answer before the client's signal is listened to. */
const ABORT_WATCH_DELAY_MS = 20;

/**
 * Calls `abort` when the client goes away. An abort listener per request
 * (node:http's `signal` option) took about an eighth of a small proxied
 * request's CPU on Node 20, and most exchanges are over within
 * milliseconds; so only one still open after ABORT_WATCH_DELAY_MS reads
 * `req.signal` (on Node that first read makes the request's
 * AbortController, already aborted if the client left) and listens; a
 * client that left before then is noticed at that point. Returns the
 * function that stops watching.
 */
export function watchAbort(req: UpstreamRequest, abort: (error: Error) => void): () => void {
  let signal: AbortSignal | undefined;
  const aborted = () => abort(new AbortError(signal?.reason));
  const timer = setTimeout(() => {
    signal = req.signal;
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
  }, ABORT_WATCH_DELAY_MS);
  return () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', aborted);
  };
}

/** What node:http's own `signal` option fails a request with; toUpstreamError passes it through as an abort, not an upstream error. */
export class AbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(cause: unknown) {
    super('The operation was aborted', { cause });
  }
}
