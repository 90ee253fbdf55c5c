import { isMainThread } from 'node:worker_threads';
import { announce } from './worker-server.ts';

// Worker entry: the one upstream every contender sits in front of, on its own
// thread so the bench's client work does not slow it. Bun.serve, Bun's native
// server, costs less CPU per request and per byte than node:http under Bun.
// The paths are ones rxroute routes to the backend (`/ping`, `/_event`,
// `/_upload`) or the frontend (everything else); the other contenders send
// every path to this one upstream.

export const SMALL_PATH = '/ping';
export const SMALL_BODY = 'pong\n';
export const LARGE_PATH = '/assets/64k.bin';
export const LARGE_BYTES = 64 * 1024;
export const UPLOAD_PATH = '/_upload';

export interface SinkReport {
  bytes: number;
  /** The Content-Length the sink received, or null if the body came chunked. */
  contentLength: string | null;
}

function serve(): string {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // The bench's own watchdogs decide when a transfer or socket is stuck.
    idleTimeout: 0,
    // Static responses: Bun answers these without running JavaScript.
    routes: {
      [SMALL_PATH]: new Response(SMALL_BODY, { headers: { 'content-type': 'text/plain' } }),
      [LARGE_PATH]: new Response(new Uint8Array(LARGE_BYTES).fill(0x62), { headers: { 'content-type': 'application/octet-stream' } }),
      // Reads and discards the body, answers with what arrived.
      [UPLOAD_PATH]: async (req) => {
        const report: SinkReport = { bytes: await countBytes(req.body), contentLength: req.headers.get('content-length') };
        return Response.json(report);
      },
    },
    // Any other path: a WebSocket upgrade (the bench opens `/_event/…`) is echoed.
    fetch(req, srv) {
      if (srv.upgrade(req)) return undefined;
      return new Response('bench upstream: no such path\n', { status: 404 });
    },
    websocket: {
      // Each message back as it came, text as text and binary as binary.
      message(ws, message) {
        ws.send(message);
      },
      idleTimeout: 0,
      sendPings: false,
      // Compression would measure zlib, not the relay.
      perMessageDeflate: false,
    },
  });
  return `http://127.0.0.1:${server.port}`;
}

async function countBytes(body: ReadableStream<Uint8Array> | null): Promise<number> {
  const reader = body?.getReader();
  let bytes = 0;
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) bytes += read.value.byteLength;
  return bytes;
}

if (!isMainThread) announce(serve());
