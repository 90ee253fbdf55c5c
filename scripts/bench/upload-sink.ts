import { isMainThread } from 'node:worker_threads';
import { announce } from './worker-server.ts';

// Worker entry: the upload benchmark's upstream.

export interface SinkReport {
  bytes: number;
  /** The Content-Length the sink received, or null if the body came chunked. */
  contentLength: string | null;
}

/**
 * Reads and discards the body, answers with the byte count. Bun.serve, Bun's
 * native server, costs less CPU per byte than node:http under Bun.
 */
function serveSink(): string {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // The bench's own stall watchdog decides when a transfer is stuck.
    idleTimeout: 0,
    async fetch(req) {
      const report: SinkReport = { bytes: await countBytes(req.body), contentLength: req.headers.get('content-length') };
      return Response.json(report);
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

if (!isMainThread) announce(serveSink());
