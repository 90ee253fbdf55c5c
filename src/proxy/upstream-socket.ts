// What the core needs to open a WebSocket to an upstream. The adapters'
// shared implementation (adapters/ws-upstream.ts) uses the `ws` package,
// which works on Bun, Deno and Node and, unlike the WHATWG WebSocket, sends
// custom handshake headers and reports a refused upgrade's status.

export interface UpstreamSocket {
  /** The subprotocol the upstream chose ('' for none). */
  readonly protocol: string;
  sendText(data: string): void;
  sendBinary(data: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Bytes queued toward the upstream and not yet written. */
  readonly bufferedAmount: number;
  /** Stop/restart reading from the upstream's TCP socket (backpressure). */
  pause(): void;
  resume(): void;
}

export interface UpstreamSocketHandlers {
  message(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

export interface UpstreamSocketOptions {
  protocols: string[];
  /** Forward-ready handshake headers, lowercase names (forward-headers.ts). */
  headers: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * `ok: true` once the upstream answered 101; `ok: false` with the upstream's
 * own response when it refused the upgrade (403, 404, 400 …). Rejects with
 * UpstreamError when the upstream cannot be reached.
 */
export type UpstreamSocketResult =
  | { ok: true; socket: UpstreamSocket }
  | { ok: false; response: Response };

export type ConnectUpstreamSocket = (
  url: string,
  options: UpstreamSocketOptions,
  handlers: UpstreamSocketHandlers,
) => Promise<UpstreamSocketResult>;
