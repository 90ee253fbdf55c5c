import type { ServerWebSocket } from 'bun';
import { isBodyless } from '../proxy/forward-http.ts';
import { MAX_MESSAGE_BYTES, QUEUE_LIMIT_BYTES } from '../proxy/relay-websocket.ts';
import { fetchClient } from '../proxy/upstream-client.ts';
import type { Bindings, ClientSocket, ClientSocketHandlers, RunningServer, Runtime } from '../runtime.ts';
import { hostFiles } from './host-files.ts';
import { bindFailure, displayUrl, readTextFile } from './shared.ts';
import { processCapabilities } from './child-process.ts';
import { nodeStreamOut } from './console-out.ts';
import { tcpProbe } from './probe.ts';
import { staticFiles } from './static-files.ts';
import { connectUpstreamSocket } from './ws-upstream.ts';

type SocketData = { handlers: ClientSocketHandlers };

/** Bun's ServerWebSocket as the core's ClientSocket. */
function clientSocket(ws: ServerWebSocket<SocketData>): ClientSocket {
  return {
    sendText: (data) => void ws.sendText(data),
    sendBinary: (data) => void ws.sendBinary(data),
    close: (code, reason) => ws.close(code, reason),
    get bufferedAmount() {
      return ws.getBufferedAmount();
    },
  };
}

/** Bun.serve's websocket handlers, which hand each event to the relay. */
const websocket = {
  open: (ws: ServerWebSocket<SocketData>) => ws.data.handlers.open(clientSocket(ws)),
  message: (ws: ServerWebSocket<SocketData>, message: string | Buffer) =>
    ws.data.handlers.message(typeof message === 'string' ? message : new Uint8Array(message)),
  close: (ws: ServerWebSocket<SocketData>, code: number, reason: string) => ws.data.handlers.close(code, reason),
  // Quiet sockets stay open: Socket.IO pings every 25 s, Vite's HMR socket
  // can sit silent for hours. 0 turns Bun's 120 s idle timeout off.
  idleTimeout: 0,
  sendPings: false,
  maxPayloadLength: MAX_MESSAGE_BYTES,
  // The relay pauses the upstream at QUEUE_LIMIT_BYTES; Bun must not drop
  // or close below the bound the relay enforces.
  backpressureLimit: QUEUE_LIMIT_BYTES * 4,
  closeOnBackpressureLimit: false,
  perMessageDeflate: false,
};

// Bun: Bun.serve for the server, Bun's fetch for upstreams (it keeps Host and
// Content-Length, and with `decompress: false` passes compressed bytes).

/**
 * Bun.serve drops a handler's Content-Length on stream bodies and sends them
 * chunked (oven-sh/bun#10507). Bodies up to this size are read into memory
 * first so the client gets the upstream's Content-Length; larger ones stream
 * chunked with identical bytes.
 */
const KEEP_LENGTH_LIMIT = 1024 * 1024;

/**
 * `res.body` is not looked at before `blob()`: on a fetch Response the first
 * read of `.body` makes a JS ReadableStream, and the body is then read
 * through it instead of taken whole from the native side. A Blob keeps the
 * bytes where fetch put them; `arrayBuffer()` copied them into the JS heap
 * (about 8 µs more CPU per 64 KiB response).
 */
function framed(method: string, res: Response): Response | Promise<Response> {
  if (isBodyless(method, res.status)) return res;
  const length = res.headers.get('content-length');
  if (length !== null && Number(length) <= KEEP_LENGTH_LIMIT) {
    return res.blob().then(
      (bytes) => new Response(bytes, res),
      () => new Response(abortedStream(), res),
    );
  }
  const body = res.body;
  return body ? new Response(quietOnError(body), res) : res;
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

/** Bun's h2 server (experimental) as verified here: streaming both ways, SSE, 2 GiB uploads. */
const HTTP2_SINCE = '1.4.5';

function bunHttp2(): RunningServer['http2'] {
  if (Bun.semver.satisfies(Bun.version, `>=${HTTP2_SINCE}`)) return { offered: true };
  return { offered: false, reason: `Bun ${Bun.version} has no verified HTTP/2 server (needs ${HTTP2_SINCE} or later)` };
}

export function createRuntime(): Runtime {
  const out = nodeStreamOut();
  return {
    name: 'bun',
    version: Bun.version,
    args: process.argv.slice(2),
    env: process.env,
    cwd: () => process.cwd(),
    readTextFile,
    isTTY: Boolean(process.stdout.isTTY),
    out,
    upstream: fetchClient(),
    connectSocket: connectUpstreamSocket,
    hostFiles,
    files: staticFiles(),
    probe: tcpProbe,
    ...processCapabilities(out),
    async serve({ fetch, hostname, port, tls }) {
      let server: ReturnType<typeof Bun.serve<SocketData>>;
      const http2 = tls?.http2 ? bunHttp2() : undefined;
      try {
        server = Bun.serve<SocketData>({
          websocket,
          hostname,
          port,
          ...(tls && { tls: { cert: tls.cert, key: tls.key }, http2: http2?.offered ?? false }),
          // Bun caps request bodies at 128 MiB by default; uploads are unlimited.
          maxRequestBodySize: Number.MAX_SAFE_INTEGER,
          // The 10 s idle timeout would cut quiet SSE streams and long-polls.
          idleTimeout: 0,
          fetch(req, srv) {
            let upgraded = false;
            const bindings: Bindings = { remoteAddress: srv.requestIP(req)?.address };
            if (req.headers.get('upgrade')?.toLowerCase() === 'websocket') {
              bindings.acceptWebSocket = (protocol, handlers) => {
                const headers = protocol ? { 'sec-websocket-protocol': protocol } : undefined;
                upgraded = srv.upgrade(req, { headers, data: { handlers } });
                return upgraded ? new Response(null) : undefined;
              };
            }
            // After an upgrade Bun owns the socket; the handler returns nothing.
            const answer = (res: Response) => (upgraded ? undefined : framed(req.method, res));
            const res = fetch(req, bindings);
            return res instanceof Response ? answer(res) : res.then(answer);
          },
        });
      } catch (error) {
        throw bindFailure(error, hostname, port);
      }
      const bound = server.port ?? port;
      return {
        url: displayUrl(hostname, bound, Boolean(tls)),
        port: bound,
        http2,
        close: async () => {
          // Stop accepting; in-flight requests finish (the CLI caps the wait).
          await server.stop(false);
        },
      };
    },
    onSignal(signal, handler) {
      process.on(signal, handler);
    },
    exit: (code) => process.exit(code),
  };
}
