import type { UpstreamClient } from './proxy/upstream-client.ts';

// What the portable core needs from Bun, Deno or Node. Each adapter in
// src/adapters/ implements this once; nothing else in src/ may touch a
// runtime global or a `node:` module.

/** Per-request values only the server knows; passed to Hono as its `env`. */
export interface Bindings {
  /** The client's IP address, for X-Forwarded-For. */
  remoteAddress?: string;
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
  /** Binds and starts serving; rejects with RuntimeFailure when the port is taken. */
  serve(options: ServeOptions): Promise<RunningServer>;
  onSignal(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  exit(code: number): never;
}
