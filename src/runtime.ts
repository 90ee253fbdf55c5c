import type { StaticFiles } from './frontend/serve-build.ts';
import type { UpstreamClient } from './proxy/upstream-client.ts';
import type { Probe } from './proxy/upstream-health.ts';
import type { RouteEntry } from './routing/route-table.ts';
import type { ConnectUpstreamSocket } from './proxy/upstream-socket.ts';
import type { HostFiles } from './tls/host-files.ts';

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
  /** Serve TLS with this PEM leaf and key; offer HTTP/2 by ALPN when `http2` is set and the runtime can. */
  tls?: { cert: string; key: string; http2: boolean };
}

export interface RunningServer {
  /** `http://host:port` (`https://` with TLS) with the port actually bound (port 0 → a free one). */
  url: string;
  port: number;
  /** With TLS: whether HTTP/2 is offered by ALPN, and if not, why (said at startup). */
  http2?: { offered: true } | { offered: false; reason: string };
  /** Stops accepting connections and resolves once in-flight requests are done. */
  close(): Promise<void>;
}

/** A child process for `rxroute dev` (DESIGN §10). */
export interface SpawnRequest {
  argv: string[];
  cwd: string;
  /** The child's whole environment. */
  env: Record<string, string | undefined>;
}

export interface ChildHandle {
  pid: number;
  /** Settles when the child has exited; never rejects (a spawn failure is code 127). */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** Signals the child's whole process group (its tree on Windows). */
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
}

export interface CaptureResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Standard output that queues instead of blocking (a paused terminal must not stop the router). */
export interface ConsoleOut {
  /** Writes `line` and a newline. */
  write(line: string): void;
  /** Bytes accepted and not yet written. */
  readonly queued: number;
  /** Calls `listener` once the queue is short again (at once if it is). */
  whenDrained(listener: () => void): void;
}

export interface Runtime {
  name: 'bun' | 'deno' | 'node';
  /** `linux`, `darwin`, `win32`, … as Node's process.platform names them. */
  platform: string;
  /** The runtime's own version (`1.4.5`), for `--version` and the banner. */
  version: string;
  /** Arguments after the program name. */
  args: string[];
  env: Record<string, string | undefined>;
  cwd(): string;
  /** File contents, or undefined when the file does not exist. */
  readTextFile(path: string): string | undefined;
  /** Whether standard output is a terminal (colors, banner). */
  isTTY: boolean;
  /** The router's own output (banner, request log, child output). */
  out: ConsoleOut;
  upstream: UpstreamClient;
  /** Opens WebSockets to upstreams (the `ws` package on every runtime). */
  connectSocket: ConnectUpstreamSocket;
  /** Reads the build directory for serve_from_build / compile_dev. */
  files: StaticFiles;
  /** TCP liveness check for upstreams (wait_ms, health, doctor). */
  probe: Probe;
  /** Certificate files in the user data directory and `rxroute trust`'s commands. */
  hostFiles: HostFiles;
  /** Binds and starts serving; rejects with RuntimeFailure when the port is taken. */
  serve(options: ServeOptions): Promise<RunningServer>;
  onSignal(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  /**
   * Starts a child in its own process group; each complete output line goes
   * to `onLine`. Throws RuntimeFailure when argv[0] cannot be executed.
   */
  spawn(request: SpawnRequest, onLine: (stream: 'stdout' | 'stderr', line: string) => void): ChildHandle;
  /** The executable `name` resolves to on `pathEnv` (PATHEXT on Windows), or undefined. */
  which(name: string, pathEnv: string | undefined): string | undefined;
  /** Runs a command to completion (reading rxconfig.py); undefined when it cannot be started. */
  runSync(argv: string[], options: { cwd: string; input?: string; timeoutMs: number }): CaptureResult | undefined;
  /** Whether `port` on `host` can be bound right now. */
  portFree(host: string, port: number): Promise<boolean>;
  fileExists(path: string): boolean;
  exit(code: number): never;
}

/** The Hono env of the router app: the adapter's Bindings, and what the steps leave for the log. */
export type RouterEnv = { Bindings: Bindings; Variables: { route: RouteEntry } };
