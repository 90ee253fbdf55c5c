import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { toUpstreamError, type UpstreamClient, type UpstreamRequest } from '../proxy/upstream-client.ts';

// The upstream client for Node and Deno. Their fetch is not a faithful proxy
// client (undici and Deno decompress bodies; Deno also chunks streamed uploads
// and replaces Host), so both use node:http, which sends headers and bytes as
// given and streams in both directions with backpressure.

const agents = {
  'http:': new http.Agent({ keepAlive: true, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, scheduling: 'lifo' }),
};

/** Per-chunk queue limit of the response stream before the socket is paused. */
const RESPONSE_HIGH_WATER = 64 * 1024;

export function nodeHttpClient(): UpstreamClient {
  return (req) => send(req, true);
}

function send(req: UpstreamRequest, mayRetry: boolean): Promise<Response> {
  return new Promise((resolve, reject) => {
    const origin = new URL(req.origin);
    const protocol = origin.protocol === 'https:' ? 'https:' : 'http:';
    const out = (protocol === 'https:' ? https : http).request({
      protocol,
      hostname: origin.hostname.replace(/^\[|\]$/g, ''),
      port: origin.port || undefined,
      method: req.method,
      path: req.path,
      headers: headerRecord(req.headers),
      agent: agents[protocol],
      signal: req.signal,
    });
    let answered = false;
    out.on('response', (res) => {
      answered = true;
      resolve(toResponse(res));
    });
    out.on('error', (error) => {
      if (answered) return;
      // A keep-alive socket the upstream closed while idle (a Reflex backend
      // restart) fails on first use; a bodiless request is safe to send again.
      if (mayRetry && out.reusedSocket && !req.body?.locked && (error as { code?: string }).code === 'ECONNRESET') {
        resolve(send(req, false));
        return;
      }
      reject(toUpstreamError(error, req.origin + req.path));
    });
    const body = req.body;
    if (!body) out.end();
    else {
      // Read the body only once the connection is up, so a refused
      // connection (an upstream restarting) leaves it unread and replayable.
      out.once('socket', (socket) => {
        if (socket.connecting) socket.once('connect', () => void pump(body, out));
        else void pump(body, out);
      });
    }
  });
}

/** Copies a web stream into the upstream request, waiting on `drain`. */
async function pump(body: ReadableStream<Uint8Array>, out: http.ClientRequest): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!out.write(value)) await drained(out);
    }
    out.end();
  } catch (error) {
    // The client went away mid-upload, or the upstream did: end both sides.
    out.destroy(error instanceof Error ? error : new Error(String(error)));
    reader.cancel(error).catch(() => {});
  }
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

function headerRecord(headers: Headers): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const status = res.statusCode ?? 502;
  // The Response constructor rejects a body on null-body statuses.
  const bodyless = status === 204 || status === 205 || status === 304;
  if (bodyless) res.resume();
  return new Response(bodyless ? null : bodyStream(res), {
    status,
    statusText: res.statusMessage ?? '',
    headers,
  });
}

/**
 * The response body as a web stream that pauses the socket when the client
 * is slower than the upstream, and errors (never closes cleanly) when the
 * upstream dies before the message is complete.
 */
function bodyStream(res: IncomingMessage): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        res.on('data', (chunk: Buffer) => {
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) res.pause();
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        res.on('close', () => {
          if (settled || res.complete) return;
          settled = true;
          controller.error(new Error('upstream closed the connection mid-response'));
        });
        res.on('error', (error) => {
          if (settled) return;
          settled = true;
          controller.error(error);
        });
      },
      pull() {
        res.resume();
      },
      cancel() {
        settled = true;
        res.destroy();
      },
    },
    { highWaterMark: RESPONSE_HIGH_WATER, size: (chunk) => chunk?.byteLength ?? 0 },
  );
}
