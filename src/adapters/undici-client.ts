import { Client, type Dispatcher, Pool } from 'undici';
import { UpstreamError } from '../errors.ts';
import { isBodyless } from '../proxy/forward-http.ts';
import type { HeaderRecord } from '../proxy/forward-headers.ts';
import { type AttemptReport, toUpstreamError, type UpstreamClient, type UpstreamRequest } from '../proxy/upstream-client.ts';
import { AbortError, watchAbort } from './abort-watch.ts';
import { UpstreamBody } from './upstream-body.ts';

// The upstream client for Node: undici, driven through dispatch() with a
// handler of our own, so a response costs no web stream reads unless someone
// reads it (the Node adapter writes the body straight into the client's
// ServerResponse, see takeUnreadBody). undici's fetch would decompress;
// dispatch sends the headers and bytes as given and returns the bytes
// received. Deno keeps node-http-client.ts.

/**
 * One request at a time per connection. With pipelining above 1, undici
 * sends the requests queued behind a failed one again on a new connection by
 * itself; at 1 a request that went out either completes or fails to us (its
 * head-of-line error), and only the retry policy decides to send it again.
 * No timeouts: a quiet stream or a slow upstream is never cut (DESIGN §3),
 * and connecting waits as long as the OS does, as node:http did.
 */
const CLIENT_OPTIONS = { pipelining: 1, headersTimeout: 0, bodyTimeout: 0, connectTimeout: 0 } as const;

export function undiciClient(): UpstreamClient {
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string) => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { ...CLIENT_OPTIONS, factory: (url, options) => new TrackedClient(url, options) });
      pools.set(origin, pool);
    }
    return pool;
  };
  return (req) => send(req, poolFor(req.origin));
}

/**
 * A connection of the pool (undici's Client holds one at a time) that knows
 * how many requests went out on its current connection: past the first, a
 * request goes on a reused keep-alive connection. 'connect' comes before the
 * first request is written on a new connection, 'disconnect' after the last
 * one ended, and with pipelining 1 the requests on one are written in turn.
 * The exchange rides on the dispatch options, which undici hands from the
 * Pool to the Client as they are (the handler it wraps on the way).
 */
class TrackedClient extends Client {
  sentOnConnection = 0;
  constructor(url: string | URL, options: Client.Options) {
    super(url, options);
    const fresh = () => (this.sentOnConnection = 0);
    this.on('connect', fresh);
    this.on('disconnect', fresh);
  }
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const exchange = (options as TaggedOptions)[EXCHANGE];
    if (exchange) exchange.connection = this;
    return super.dispatch(options, handler);
  }
}

const EXCHANGE = Symbol('rxroute exchange');
type TaggedOptions = Dispatcher.DispatchOptions & { [EXCHANGE]?: Exchange };

/**
 * One attempt on `dispatcher`. A failure before any response byte goes to
 * the retry policy with what this attempt knows; its one "resend now" goes on
 * a connection of its own (a Client used once), never on another pooled one
 * that may be just as stale, and carries how long the first copy was held.
 */
function send(req: UpstreamRequest, dispatcher: Dispatcher, firstCopy?: { heldMs: number }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const exchange = new Exchange(req, resolve, reject, firstCopy);
    const options: TaggedOptions = {
      origin: req.origin,
      path: req.path,
      method: req.method,
      headers: forwardableHeaders(req.headers),
      // Read as an async iterable (undici's types omit it), with a
      // Content-Length as given and chunked framing only without one.
      body: req.body as Dispatcher.DispatchOptions['body'],
      // The resend closes its connection after the answer, as node:http's `agent: false` did.
      reset: firstCopy !== undefined,
      [EXCHANGE]: exchange,
    };
    dispatcher.dispatch(options, exchange);
  });
}

/**
 * The headers as undici takes them. `Expect` is the one it refuses that
 * reaches here (hop-by-hop ones are already gone): Node's server has already
 * answered the client's 100-continue, so the body is on its way and the
 * upstream need not be asked.
 */
function forwardableHeaders(headers: HeaderRecord): HeaderRecord {
  if (headers.expect === undefined) return headers;
  const { expect: _, ...rest } = headers;
  return rest;
}

/** undici's own refusals of a request (a header it cannot send): our bug, not the upstream's failure. */
const REQUEST_REFUSED = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

/** One request's life in undici, as its dispatch handler. */
class Exchange implements Dispatcher.DispatchHandler {
  /** The pooled connection it went to; undefined for the resend's own Client. */
  connection: TrackedClient | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private sentAt: number | undefined;
  private reused = false;
  private bodyStarted = false;
  private settled = false;
  private body: UpstreamBody | undefined;
  private readonly stopWatching: () => void;

  constructor(
    private readonly req: UpstreamRequest,
    private readonly resolve: (res: Response | Promise<Response>) => void,
    private readonly reject: (error: unknown) => void,
    private readonly firstCopy: { heldMs: number } | undefined,
  ) {
    this.stopWatching = watchAbort(req, (error) => this.abort(error));
  }

  /** Called as the request is written on a connected socket. */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) {
      // The client left while the request waited for a connection.
      controller.abort(new AbortError('the client went away'));
      return;
    }
    this.sentAt = performance.now();
    if (this.connection) this.reused = this.connection.sentOnConnection++ > 0;
    // undici reads the body from here on, once the connection is up: a
    // refused connection leaves it unread and replayable.
    if (this.req.body) this.bodyStarted = true;
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, _headers: unknown, statusText?: string): void {
    // 1xx interim answers (103 Early Hints) are not relayed: the final one follows.
    if (status < 200) return;
    this.settled = true;
    if (!isBodyless(this.req.method, status)) this.body = new UpstreamBody(controller);
    this.resolve(toResponse(status, statusText ?? '', controller.rawHeaders as Buffer[] | null, this.body));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.body?.push(chunk);
  }

  onResponseEnd(): void {
    this.stopWatching();
    this.body?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.stopWatching();
    if (this.settled) {
      // Mid-body: the client's response must end abnormally.
      this.body?.fail(error);
      return;
    }
    this.settled = true;
    if (REQUEST_REFUSED.has((error as { code?: string }).code ?? '')) return this.reject(error);
    const report = this.report();
    const failed = toUpstreamError(error, this.req.origin + this.req.path, report);
    if (failed instanceof UpstreamError && failed.retry === 'resend-now-fresh-connection') this.resolve(resend(this.req, report.heldMs));
    else this.reject(failed);
  }

  /** What the retry policy needs to know about this attempt. */
  private report(): AttemptReport {
    return {
      method: this.req.method,
      hasBody: this.req.body !== null,
      bodyStarted: this.bodyStarted,
      upgrade: false,
      reused: this.reused,
      heldMs: this.sentAt === undefined ? 0 : performance.now() - this.sentAt,
      resent: this.firstCopy !== undefined,
      firstCopyHeldMs: this.firstCopy?.heldMs,
    };
  }

  /** The client left before the answer: end the exchange, or keep it from starting. */
  private abort(error: Error): void {
    if (this.controller) this.controller.abort(error);
    else if (!this.settled) {
      this.settled = true;
      this.reject(error);
    }
  }
}

/** The policy's one resend, on a Client of its own that closes once the exchange is over. */
function resend(req: UpstreamRequest, heldMs: number): Promise<Response> {
  const own = new Client(req.origin, CLIENT_OPTIONS);
  const answer = send(req, own, { heldMs });
  void own.close().catch(() => {});
  return answer;
}

/** The response head as received (latin1, as node:http read it) and the body as a stream. */
function toResponse(status: number, statusText: string, raw: Buffer[] | null, body: UpstreamBody | undefined): Response {
  return new Response(body ? body.stream() : null, { status, statusText, headers: responseHeaders(raw) });
}

/**
 * The upstream's header lines, less the framing ones every keep-alive
 * answer carries (`Connection: keep-alive`, `Keep-Alive`,
 * `Transfer-Encoding`): hop-by-hop (RFC 9110 §7.6.1), so the relay would
 * drop them anyway, and without them a Node upstream's answer (Vite's)
 * goes to the client as it is instead of through a copy of its head. A
 * Connection header that names other headers keeps them all, for the relay
 * to strip with the names it lists.
 */
function responseHeaders(raw: Buffer[] | null): Headers {
  const headers = new Headers();
  if (!raw) return headers;
  let held: string[] | undefined;
  let namesOthers = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const value = raw[i + 1]!.toString('latin1');
    if (isFraming(name)) {
      (held ??= []).push(name, value);
      if (name.length === 10 && name.toLowerCase() === 'connection') namesOthers ||= !onlyConnectionOptions(value);
    } else headers.append(name, value);
  }
  if (held && namesOthers) for (let i = 0; i < held.length; i += 2) headers.append(held[i]!, held[i + 1]!);
  return headers;
}

/** Connection, Keep-Alive (both 10 characters) or Transfer-Encoding, in any case. */
function isFraming(name: string): boolean {
  if (name.length === 10) {
    const lower = name.toLowerCase();
    return lower === 'connection' || lower === 'keep-alive';
  }
  return name.length === 17 && name.toLowerCase() === 'transfer-encoding';
}

/** A Connection value of only `keep-alive` / `close`: it names no other header. */
function onlyConnectionOptions(value: string): boolean {
  for (const token of value.split(',')) {
    const option = token.trim().toLowerCase();
    if (option !== 'keep-alive' && option !== 'close' && option !== '') return false;
  }
  return true;
}

export { takeUnreadBody } from './upstream-body.ts';
