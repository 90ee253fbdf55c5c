import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { UpstreamError } from '../errors.ts';
import { retryDecision } from '../proxy/retry-policy.ts';
import { toUpstreamError, type UpstreamClient, type UpstreamRequest } from '../proxy/upstream-client.ts';
import { watchAbort } from './abort-watch.ts';

// The upstream client for Deno (Node has undici-client.ts). Deno's fetch is
// not a faithful proxy client (it decompresses bodies, chunks streamed
// uploads and replaces Host), so Deno uses node:http, which sends headers and
// bytes as given and streams in both directions with backpressure.

const agents = {
  'http:': new http.Agent({ keepAlive: true, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, scheduling: 'lifo' }),
};

/** Bytes queued in the response stream before the upstream socket is paused. */
const RESPONSE_HIGH_WATER = 64 * 1024;

export interface NodeHttpClientOptions {
  /**
   * Runs after every `everyBytes` bytes one body moves, in either direction.
   * The Deno adapter collects the young generation there (see deno.ts).
   */
  collectGarbage?: { everyBytes: number; run(): void };
}

export function nodeHttpClient(options: NodeHttpClientOptions = {}): UpstreamClient {
  return (req) => send(req, options);
}

/**
 * One attempt. A failure before any response byte goes to the retry policy
 * (proxy/retry-policy.ts) with what this attempt knows: pooled or new
 * connection, how long the upstream had the request, whether the body was
 * touched. Its one "resend now" goes on a connection of its own (`agent:
 * false`), never on another pooled one that may be just as stale, and
 * carries how long the first copy was held (`firstCopyHeldMs`): a first copy
 * that never reached the upstream lets the resend wait like a first attempt.
 */
function send(req: UpstreamRequest, options: NodeHttpClientOptions, firstCopy?: { heldMs: number }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const origin = new URL(req.origin);
    const protocol = origin.protocol === 'https:' ? 'https:' : 'http:';
    const out = (protocol === 'https:' ? https : http).request({
      protocol,
      hostname: origin.hostname.replace(/^\[|\]$/g, ''),
      port: origin.port || undefined,
      method: req.method,
      path: req.path,
      headers: req.headers,
      agent: firstCopy ? false : agents[protocol],
    });
    out.once('close', watchAbort(req, (error) => out.destroy(error)));
    let answered = false;
    let connectedAt: number | undefined;
    let bodyStarted = false;
    let reused = false;
    let sockets = 0;
    let resent = firstCopy !== undefined;
    let firstCopyHeldMs = firstCopy?.heldMs;
    const attempt = () => ({
      method: req.method,
      hasBody: req.body !== null,
      bodyStarted,
      upgrade: false,
      reused,
      heldMs: connectedAt === undefined ? 0 : performance.now() - connectedAt,
      resent,
      firstCopyHeldMs,
    });
    out.on('response', (res) => {
      answered = true;
      resolve(toResponse(res, options));
    });
    out.on('error', (error) => {
      if (answered) return;
      const failed = toUpstreamError(error, req.origin + req.path, attempt());
      if (failed instanceof UpstreamError && failed.retry === 'resend-now-fresh-connection') resolve(send(req, options, { heldMs: attempt().heldMs }));
      else reject(failed);
    });
    out.on('socket', (socket) => {
      if (++sockets > 1) {
        // Deno's node:http sends a request once more by itself, on a new
        // socket, when a pooled one fails before any response byte (and with
        // a streamed body it then hangs). That resend is only allowed as the
        // policy's one resend, and then reports as ours does (a fresh
        // connection, how long the first copy was held); anything else is
        // stopped before it is written.
        const decision = retryDecision({ failure: 'closed-reused', ...attempt() });
        if (decision !== 'resend-now-fresh-connection') {
          out.destroy(Object.assign(new Error('the upstream closed a reused connection before answering'), { code: 'ECONNRESET' }));
          return;
        }
        firstCopyHeldMs = attempt().heldMs;
        resent = true;
        reused = false;
        connectedAt = undefined;
        whenConnected(socket, () => (connectedAt = performance.now()));
        return;
      }
      reused = out.reusedSocket || !socket.connecting;
      const connected = () => {
        connectedAt = performance.now();
        const body = req.body;
        if (!body) return;
        // Read the body only once the connection is up, so a refused
        // connection (an upstream restarting) leaves it unread and replayable.
        bodyStarted = true;
        void pump(body, out, options);
      };
      whenConnected(socket, connected);
    });
    if (!req.body) out.end();
  });
}

/** Runs `connected` once the socket is up: at once for a pooled one. */
function whenConnected(socket: Socket, connected: () => void): void {
  if (socket.connecting) socket.once('connect', connected);
  else connected();
}

/** Copies a web stream into the upstream request, waiting on `drain`. */
async function pump(body: ReadableStream<Uint8Array>, out: http.ClientRequest, options: NodeHttpClientOptions): Promise<void> {
  const reader = body.getReader();
  const moved = bodyMeter(options);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      moved?.(value.byteLength);
      if (!out.write(value)) await drained(out);
    }
    out.end();
  } catch (error) {
    // The client went away mid-upload, or the upstream did: end both sides.
    out.destroy(error instanceof Error ? error : new Error(String(error)));
    reader.cancel(error).catch(() => {});
  }
}

/** Counts one body's bytes for `collectGarbage`; undefined without it. */
function bodyMeter({ collectGarbage }: NodeHttpClientOptions): ((bytes: number) => void) | undefined {
  if (!collectGarbage) return undefined;
  let moved = 0;
  return (bytes) => {
    moved += bytes;
    if (moved < collectGarbage.everyBytes) return;
    moved = 0;
    collectGarbage.run();
  };
}

function drained(out: http.ClientRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', closed);
      resolve();
    };
    const closed = () => {
      out.off('drain', done);
      reject(new Error('upstream connection closed during upload'));
    };
    out.once('drain', done);
    out.once('close', closed);
  });
}

function toResponse(res: IncomingMessage, options: NodeHttpClientOptions): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const status = res.statusCode ?? 502;
  // The Response constructor rejects a body on null-body statuses.
  const bodyless = status === 204 || status === 205 || status === 304;
  if (bodyless) res.resume();
  return new Response(bodyless ? null : bodyStream(res, options), {
    status,
    statusText: res.statusMessage ?? '',
    headers,
  });
}

/**
 * The response body as a web stream that pauses the socket when the client
 * is slower than the upstream, and errors (never closes cleanly) when the
 * upstream dies before the message is complete. Nothing is read from the
 * upstream until the first read.
 */
function bodyStream(res: IncomingMessage, options: NodeHttpClientOptions): ReadableStream<Uint8Array> {
  let settled = false;
  let flowing = false;
  let controller: ReadableStreamDefaultController<Uint8Array>;
  const fail = (error: Error) => {
    if (settled) return;
    settled = true;
    controller.error(error);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        // Listened to from the start: an 'error' nobody listens to would
        // take the process down.
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('upstream closed the connection mid-response'));
        });
      },
      pull() {
        if (flowing) {
          res.resume();
          return;
        }
        flowing = true;
        const moved = bodyMeter(options);
        res.on('data', (chunk: Buffer) => {
          moved?.(chunk.byteLength);
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= -RESPONSE_HIGH_WATER) res.pause();
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
      },
      cancel() {
        settled = true;
        res.destroy();
      },
    },
    // High-water mark 0: pull() (and with it the upstream's flow) starts only
    // when someone reads; the queue then holds up to RESPONSE_HIGH_WATER bytes.
    { highWaterMark: 0, size: (chunk) => chunk?.byteLength ?? 0 },
  );
}
