import type { StaticFiles } from './frontend/serve-build.ts';
import type { UpstreamClient } from './proxy/upstream-client.ts';
import type { Probe } from './proxy/upstream-health.ts';
import type { RouteEntry } from './routing/route-table.ts';
import type { ConnectUpstreamSocket } from './proxy/upstream-socket.ts';

// What the portable core needs from Bun, Deno or Node. Each adapter in
// src/adapters/ implements this once; nothing else in src/ may touch a
// runtime global or a `node:` module.

/** Per-request values only the server knows; passed to Hono as its `env`. */
export interface Bindings {
  /** The client's IP address, for X-Forwarded-For. */
  remoteAddress?: string;
  /**
   * Accepts this request's WebSocket upgrade answering with `protocol`, and
   * returns what the fetch handler should return (Deno's 101; a placeholder
   * where the adapter takes the socket over itself), or undefined when the
   * client could not be upgraded. Absent on requests that are not upgrades.
   */
  acceptWebSocket?: (protocol: string | undefined, handlers: ClientSocketHandlers) => Response | undefined;
}

/** The browser's side of a relayed WebSocket, as the adapter exposes it. */
export interface ClientSocket {
  sendText(data: string): void;
  sendBinary(data: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Bytes queued for the client and not yet written to its TCP socket. */
  readonly bufferedAmount: number;
  /** Stop/restart reading from the client; only where the runtime can (Node). */
  pause?(): void;
  resume?(): void;
}

export interface ClientSocketHandlers {
  open(socket: ClientSocket): void;
  message(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

export type FetchHandler = (req: Request, env: Bindings) => Response | Promise<Response>;

export interface ServeOptions {
  fetch: FetchHandler;
  hostname: string;
  port: number;
}

export interface RunningServer {
  /** `http://host:port` with the port actually bound (port 0 → a free one). */
  url: string;
  port: number;
  /** Stops accepting connections and resolves once in-flight requests are done. */
  close(): Promise<void>;
}

export interface Runtime {
  name: 'bun' | 'deno' | 'node';
  /** Arguments after the program name. */
  args: string[];
  env: Record<string, string | undefined>;
  cwd(): string;
  /** File contents, or undefined when the file does not exist. */
  readTextFile(path: string): string | undefined;
  /** Whether standard output is a terminal (colors, banner). */
  isTTY: boolean;
  upstream: UpstreamClient;
  /** Opens WebSockets to upstreams (the `ws` package on every runtime). */
  connectSocket: ConnectUpstreamSocket;
  /** Reads the build directory for serve_from_build / compile_dev. */
  files: StaticFiles;
  /** TCP liveness check for upstreams (wait_ms, health, doctor). */
  probe: Probe;
  /** Binds and starts serving; rejects with RuntimeFailure when the port is taken. */
  serve(options: ServeOptions): Promise<RunningServer>;
  onSignal(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  exit(code: number): never;
}

/** The Hono env of the router app: the adapter's Bindings, and what the steps leave for the log. */
export type RouterEnv = { Bindings: Bindings; Variables: { route: RouteEntry; upgraded: boolean } };
