import type { Bindings, ClientSocketHandlers, Runtime } from '../runtime.ts';
import { nodeHttpClient } from './node-http-client.ts';
import { hostFiles } from './host-files.ts';
import { bindFailure, displayUrl, readTextFile, withHostFromAuthority } from './shared.ts';
import { processCapabilities } from './child-process.ts';
import { queuedOut } from './console-out.ts';
import { tcpProbe } from './probe.ts';
import { staticFiles } from './static-files.ts';
import { connectUpstreamSocket } from './ws-upstream.ts';

// Deno: Deno.serve for the server, node:http for upstreams (Deno's fetch
// replaces Host, chunks streamed uploads and decompresses responses).

interface DenoServer {
  addr: { port: number };
  shutdown(): Promise<void>;
}
interface DenoNamespace {
  version: { deno: string };
  args: string[];
  env: { toObject(): Record<string, string> };
  cwd(): string;
  stdout: { isTerminal(): boolean; write(bytes: Uint8Array): Promise<number> };
  serve(
    options: { hostname: string; port: number; onListen?: () => void; cert?: string; key?: string },
    handler: (req: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): DenoServer;
  upgradeWebSocket(req: Request, options: { protocol?: string; idleTimeout?: number }): { socket: WebSocket; response: Response };
  addSignalListener(signal: string, handler: () => void): void;
  exit(code: number): never;
}
declare const Deno: DenoNamespace;

/** Deno's async stdout write runs off the event loop; console.log would block on a full pipe. */
async function writeStdout(bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength; ) at += await Deno.stdout.write(bytes.subarray(at));
}

export function createRuntime(): Runtime {
  const out = queuedOut(writeStdout);
  return {
    name: 'deno',
    version: Deno.version.deno,
    args: Deno.args,
    env: Deno.env.toObject(),
    cwd: () => Deno.cwd(),
    readTextFile,
    isTTY: Deno.stdout.isTerminal(),
    out,
    upstream: nodeHttpClient({ collectGarbage: youngGenerationGc() }),
    connectSocket: connectUpstreamSocket,
    hostFiles,
    files: staticFiles(),
    probe: tcpProbe,
    ...processCapabilities(out),
    async serve({ fetch, hostname, port, tls }) {
      let server: DenoServer;
      try {
        // With cert and key Deno offers h2 and http/1.1 by ALPN; it cannot be told not to.
        const options = { hostname, port, onListen: () => {}, ...(tls && { cert: tls.cert, key: tls.key }) };
        server = Deno.serve(options, (received, info) => {
          const req = tls && !received.headers.has('host') ? withHostFromAuthority(received, new URL(received.url).host, false) : received;
          const bindings: Bindings = { remoteAddress: info.remoteAddr.hostname };
          if (req.headers.get('upgrade')?.toLowerCase() === 'websocket') {
            bindings.acceptWebSocket = (protocol, handlers) => acceptWebSocket(req, protocol, handlers);
          }
          return fetch(req, bindings);
        });
      } catch (error) {
        throw bindFailure(error, hostname, port);
      }
      return {
        url: displayUrl(hostname, server.addr.port, Boolean(tls)),
        port: server.addr.port,
        http2: tls ? { offered: true } : undefined,
        close: () => server.shutdown(),
      };
    },
    onSignal(signal, handler) {
      Deno.addSignalListener(signal, handler);
    },
    exit: (code) => Deno.exit(code),
  };
}

/** Bytes one streamed body moves between two young-generation collections. */
const GC_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * Deno's node:net copies every socket read into a new 64 KiB buffer, and V8
 * frees those only when it collects the young generation, which it schedules
 * by how much JS is allocated, not by the size of these buffers: with the
 * default young generation, one slow 1 GiB download left 150–200 MB of dead
 * chunks. A tiny young generation (--max-semi-space-size=1) bounded that,
 * but then every proxied request paid about 40 µs in scavenges (a GC every
 * 15 requests, in-flight requests promoted to the old generation). So a
 * streamed body asks for a minor GC every GC_EVERY_BYTES instead, where
 * `gc` is exposed (`--v8-flags=--expose-gc`, as `deno task start` runs it).
 */
function youngGenerationGc(): { everyBytes: number; run(): void } | undefined {
  const gc = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;
  return gc ? { everyBytes: GC_EVERY_BYTES, run: () => gc({ type: 'minor' }) } : undefined;
}

function acceptWebSocket(
  req: Request,
  protocol: string | undefined,
  handlers: ClientSocketHandlers,
): Response | undefined {
  let upgraded: { socket: WebSocket; response: Response };
  try {
    // idleTimeout 0: Deno would otherwise ping and close a socket quiet for 30 s.
    upgraded = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
  } catch {
    return undefined;
  }
  // The protocol goes on the 101 directly: Deno's own `protocol` option looks
  // for it in the offer split on ", " only, so an offer of "a,b" (valid per
  // RFC 6455, and what the ws package sends) would be refused.
  if (protocol) upgraded.response.headers.set('sec-websocket-protocol', protocol);
  const { socket, response } = upgraded;
  socket.binaryType = 'arraybuffer';
  socket.onopen = () =>
    handlers.open({
      sendText: (data) => socket.send(data),
      sendBinary: (data) => socket.send(data),
      close: (code, reason) => socket.close(code, reason),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
    });
  socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) =>
    handlers.message(typeof event.data === 'string' ? event.data : new Uint8Array(event.data));
  socket.onclose = (event) => handlers.close(event.code, event.reason);
  return response;
}
