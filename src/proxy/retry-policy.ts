// When a request may go to the upstream again (DESIGN §6): one pure decision,
// asked by every runtime's upstream client and by the WebSocket handshake.
// Nothing here touches a socket; the clients report what happened and act on
// the answer.

/** What failed, as the upstream client saw it. */
export type Failure =
  /** The connection was refused: nothing reached the upstream. */
  | 'refused'
  /** A keep-alive connection taken from the pool was closed or reset before any response byte. */
  | 'closed-reused'
  /** A connection opened for this request was closed or reset before any response byte. */
  | 'closed-fresh'
  /** The upstream stopped after part of its response had arrived. */
  | 'mid-response';

export type RetryAction =
  /** Wait for the upstream (≤ wait_ms, the shared probe), then send the request again. */
  | 'wait-and-resend'
  /** Send it again at once, on a new connection; this happens once per request. */
  | 'resend-now-fresh-connection'
  /** Answer 502 with a hint that says what happened. */
  | 'fail-502'
  /** The response has started: end the client's stream abnormally. */
  | 'abort-response';

export interface FailedAttempt {
  failure: Failure;
  method: string;
  /** The request carries a body (whether or not any of it was read yet). */
  hasBody: boolean;
  /** Some of the body was read from the client or written upstream. */
  bodyStarted: boolean;
  /** A WebSocket handshake (a GET without a body). */
  upgrade: boolean;
  /**
   * How long the upstream had the request before the connection failed, in
   * ms. Past QUICK_CLOSE_MS a closed fresh connection means the upstream
   * read the request and may have acted on it.
   */
  heldMs: number;
  /** This attempt was already the one resend on a fresh connection. */
  resent: boolean;
  /**
   * On the one resend: how long the upstream had the first copy before its
   * pooled connection failed, in ms; undefined when not known. Within
   * QUICK_CLOSE_MS the first copy met an idle connection the upstream had
   * just closed (shutting down), so it was never read.
   */
  firstCopyHeldMs?: number;
}

/**
 * A fresh connection closed within this many ms of the request going out is
 * an upstream closing connections it did not mean to serve (mid-shutdown or
 * mid-start: uvicorn on SIGTERM resets at once). One closed later held the
 * request: a long-poll, a slow view, a handler that crashed.
 */
export const QUICK_CLOSE_MS = 250;

/** Body-less requests that may be sent twice without the upstream acting twice (RFC 9110 §9.2.2). */
const RESENDABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether the request is in the table's left column: a body-less GET, HEAD, OPTIONS or a WebSocket upgrade. */
export function isResendable(attempt: Pick<FailedAttempt, 'method' | 'hasBody' | 'upgrade'>): boolean {
  return attempt.upgrade || (!attempt.hasBody && RESENDABLE_METHODS.has(attempt.method.toUpperCase()));
}

/**
 * Whether the upstream may have read a copy of this request before this
 * attempt. Only the one resend has a copy before it; for a body-less GET,
 * HEAD, OPTIONS or upgrade that copy went unread if its pooled connection
 * failed within QUICK_CLOSE_MS: an upstream shutting down closes its idle
 * connections (a request crossing that close is lost unread), then resets
 * or refuses new ones, so the resend often fails too and should wait.
 */
function earlierCopyMayBeRead(attempt: FailedAttempt): boolean {
  if (!attempt.resent) return false;
  const quick = attempt.firstCopyHeldMs !== undefined && attempt.firstCopyHeldMs <= QUICK_CLOSE_MS;
  return !(quick && isResendable(attempt));
}

/** DESIGN §6's table, row by row. */
export function retryDecision(attempt: FailedAttempt): RetryAction {
  const resendable = isResendable(attempt);
  switch (attempt.failure) {
    case 'mid-response':
      return 'abort-response';
    case 'refused':
      // This is the one resend and the upstream may have read the first
      // copy: whatever happens to the resend, no third copy.
      if (earlierCopyMayBeRead(attempt)) return 'fail-502';
      if (resendable) return 'wait-and-resend';
      // Nothing reached the upstream; a body can go if none of it was read.
      return attempt.bodyStarted ? 'fail-502' : 'wait-and-resend';
    case 'closed-reused':
      // The upstream closed an idle connection as it was reused: only a
      // request it cannot have acted on goes again, once.
      return resendable && !attempt.resent ? 'resend-now-fresh-connection' : 'fail-502';
    case 'closed-fresh':
      if (!resendable || earlierCopyMayBeRead(attempt)) return 'fail-502';
      return attempt.heldMs <= QUICK_CLOSE_MS ? 'wait-and-resend' : 'fail-502';
  }
}
