import { fetchClient } from '../proxy/upstream-client.ts';
import type { Runtime } from '../runtime.ts';
import { bindFailure, displayUrl, readTextFile } from './shared.ts';

// Bun: Bun.serve for the server, Bun's fetch for upstreams (it keeps Host and
// Content-Length, and with `decompress: false` passes compressed bytes).

/**
 * Bun.serve drops a handler's Content-Length on stream bodies and sends them
 * chunked (oven-sh/bun#10507). Bodies up to this size are read into memory
 * first so the client gets the upstream's Content-Length; larger ones stream
 * chunked with identical bytes.
 */
const KEEP_LENGTH_LIMIT = 1024 * 1024;

async function framed(res: Response): Promise<Response> {
  if (!res.body) return res;
  const length = res.headers.get('content-length');
  if (length !== null && Number(length) <= KEEP_LENGTH_LIMIT) {
    try {
      return new Response(await res.arrayBuffer(), res);
    } catch {
      return new Response(abortedStream(), res);
    }
  }
  return new Response(quietOnError(res.body), res);
}

/**
 * Bun prints any error a response stream ends with; an upstream that died
 * mid-body is not worth a stack trace. Erroring with no reason still aborts
 * the client's connection, so the client never sees a clean end.
 */
function quietOnError(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch {
          controller.error();
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

function abortedStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.error() });
}

export function createRuntime(): Runtime {
  return {
    name: 'bun',
    args: process.argv.slice(2),
    env: process.env,
    cwd: () => process.cwd(),
    readTextFile,
    isTTY: Boolean(process.stdout.isTTY),
    upstream: fetchClient(),
    async serve({ fetch, hostname, port }) {
      let server: ReturnType<typeof Bun.serve>;
      try {
        server = Bun.serve({
          hostname,
          port,
          // Bun caps request bodies at 128 MiB by default; uploads are unlimited.
          maxRequestBodySize: Number.MAX_SAFE_INTEGER,
          async fetch(req, srv) {
            // The 10 s idle timeout would cut quiet SSE streams and long-polls.
            srv.timeout(req, 0);
            return framed(await fetch(req, { remoteAddress: srv.requestIP(req)?.address }));
          },
        });
      } catch (error) {
        throw bindFailure(error, hostname, port);
      }
      const bound = server.port ?? port;
      return {
        url: displayUrl(hostname, bound),
        port: bound,
        close: async () => {
          await server.stop(true);
        },
      };
    },
    onSignal(signal, handler) {
      process.on(signal, handler);
    },
    exit: (code) => process.exit(code),
  };
}
