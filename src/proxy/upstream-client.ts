import { UpstreamError } from '../errors.ts';
import type { HeaderRecord } from './forward-headers.ts';
import { type Failure, isResendable, QUICK_CLOSE_MS, type RetryAction, retryDecision } from './retry-policy.ts';

// What the core needs from a runtime to talk to an upstream. Adapters supply
// the best client their runtime has (Bun: fetch with its proxy-friendly
// options; Node and Deno: node:http, because their fetch decompresses bodies,
// drops Content-Length on streamed uploads or rewrites Host).

export interface UpstreamRequest {
  /** `http://host:port` of the upstream. */
  origin: string;
  /** Request target: path plus the client's raw query, never re-encoded. */
  path: string;
  method: string;
  /** Final headers: hop-by-hop removed, Host and X-Forwarded-* set; lowercase names. */
  headers: HeaderRecord;
  body: ReadableStream<Uint8Array> | null;
  /**
   * Aborted when the client goes away; the upstream request must end too.
   * May be a getter that makes the signal on first read: read it only when
   * it is needed.
   */
  readonly signal: AbortSignal;
}

/**
 * Sends one request upstream and resolves with the response head and a
 * streaming body, exactly as sent: no redirects followed, no decompression.
 * Rejects with UpstreamError when the connection fails.
 */
export type UpstreamClient = (req: UpstreamRequest) => Promise<Response>;

/**
 * What an upstream client knows about an attempt that failed before any
 * response byte: the retry policy (retry-policy.ts) decides from it.
 */
export interface AttemptReport {
  method: string;
  hasBody: boolean;
  /** Some of the body was read from the client or written upstream. */
  bodyStarted: boolean;
  upgrade: boolean;
  /** The connection came from the keep-alive pool. */
  reused: boolean;
  /** ms from the request going out (connection up) to the failure. */
  heldMs: number;
  /** This was the one resend on a fresh connection. */
  resent: boolean;
  /** On the one resend: ms the first copy's pooled connection had the request before it failed. */
  firstCopyHeldMs?: number;
}

/**
 * A client on the global fetch. Faithful on Bun (the extra init keys are
 * Bun's: keep compressed bytes, no 300 s first-byte timeout); elsewhere it
 * works for embedding but may decompress bodies or chunk uploads.
 *
 * Bun's fetch does not say whether it used a pooled connection, and when a
 * pooled one closes before any response byte it sends a body-less request
 * once more itself, on a new connection (bodied ones it never resends). So:
 * - a body-less request of another method (DELETE, POST without a body)
 *   goes on a connection of its own (`keepalive: false`), where Bun does
 *   not resend it and a close is a 502, as DESIGN §6 wants;
 * - the failure it reports is counted as on a fresh connection: for a
 *   body-less GET that went on a pooled one, Bun's resend was that fresh
 *   connection;
 * - a refusal that comes after the request was held past QUICK_CLOSE_MS can
 *   only be Bun's resend after the first copy was held and lost, so it is
 *   never sent a third time (toUpstreamError).
 */
export function fetchClient(fetchImpl: typeof fetch = fetch): UpstreamClient {
  // Plain promise chains, not async functions: this runs once per proxied
  // request, and each async layer costs a promise and a microtask turn.
  return ({ origin, path, method, headers, body, signal }) => {
    const url = origin + path;
    const resendable = isResendable({ method, hasBody: body !== null, upgrade: false });
    const started = performance.now();
    const failed = (error: unknown): never => {
      throw toUpstreamError(error, url, {
        method,
        hasBody: body !== null,
        bodyStarted: body !== null && body.locked,
        upgrade: false,
        reused: false,
        heldMs: performance.now() - started,
        resent: false,
      });
    };
    let sent: Promise<Response>;
    try {
      sent = fetchImpl(url, {
        method,
        headers,
        body,
        signal,
        redirect: 'manual',
        duplex: 'half',
        decompress: false,
        timeout: false,
        ...(body === null && !resendable ? { keepalive: false } : {}),
      } as RequestInit);
    } catch (error) {
      sent = Promise.reject(error);
    }
    return sent.catch(failed);
  };
}

/**
 * Maps a runtime's connection error to the core's three cases, with the
 * retry policy's verdict when the client reported the attempt; aborts pass
 * through. Without a report only a refusal may wait (nothing was sent).
 */
export function toUpstreamError(error: unknown, url: string, attempt?: AttemptReport): unknown {
  if (error instanceof UpstreamError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const code = errorCode(error);
  const kind = /refused/i.test(code) ? 'refused' : /time/i.test(code) ? 'timeout' : 'reset';
  const verb = kind === 'refused' ? 'refused the connection' : kind === 'timeout' ? 'timed out' : 'closed the connection';
  const failure: Failure = kind === 'refused' ? 'refused' : attempt?.reused ? 'closed-reused' : 'closed-fresh';
  // A refusal long after the request went out can only be a runtime's own
  // resend (Bun's fetch, Deno's node:http) after the first copy was held
  // and lost: it counts as the one resend.
  const resent = attempt !== undefined && (attempt.resent || (kind === 'refused' && attempt.heldMs > QUICK_CLOSE_MS));
  const retry: RetryAction =
    kind === 'timeout' ? 'fail-502' : attempt ? retryDecision({ failure, ...attempt, resent }) : kind === 'refused' ? 'wait-and-resend' : 'fail-502';
  const again = resent ? ' when its request was sent again on a fresh connection' : '';
  return new UpstreamError(kind, `${url} ${verb}${again} (${code || 'unknown error'})`, { cause: error, retry, resent });
}

function errorCode(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
  }
  return error instanceof Error ? error.message : '';
}
