import type { ClientSocket, ClientSocketHandlers } from '../runtime.ts';
import type { HeaderRecord } from './forward-headers.ts';
import type { ConnectUpstreamSocket, UpstreamSocket } from './upstream-socket.ts';

// WebSocket relay (DESIGN §5): the upstream handshake happens first, so the
// client gets the upstream's subprotocol, or its refusal status, never an
// accepted-then-closed socket. Frames keep their type and order.

/**
 * Largest single message relayed, either way: Bun's own default. Socket.IO
 * caps messages at 1 MB and Vite's HMR messages are small.
 */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Bytes allowed to queue toward one side before rxroute stops reading from
 * the other. This, plus one message, bounds a relay's memory per direction.
 */
export const QUEUE_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Where the runtime cannot stop reading a client (Bun, Deno), the queue
 * toward the upstream may grow past QUEUE_LIMIT_BYTES while the upstream is
 * still reading (a burst, one large message). It is cut off here, or when it
 * has stayed over the limit without draining for STALL_MS.
 */
export const HARD_QUEUE_LIMIT_BYTES = MAX_MESSAGE_BYTES;
const STALL_MS = 10_000;

/** How often a paused direction checks whether the queue has drained. */
const DRAIN_POLL_MS = 10;

export interface RelayContext {
  connect: ConnectUpstreamSocket;
  accept: (protocol: string | undefined, handlers: ClientSocketHandlers) => Response | undefined;
  /** Called once the client side is accepted (the exchange is then a 101). */
  onAccepted?: () => void;
  /** Live relays, so a shutdown can close them all with 1001. */
  relays?: Set<(code: number, reason: string) => void>;
  clientAddress: string | undefined;
  /** Called when a relay ends, for logging. */
  onClose?: (code: number) => void;
}

/** Handshake headers that belong to each hop's own WebSocket handshake. */
const OWN_HANDSHAKE = ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept'];

/** `target` is the upstream http(s) URL; `upstreamHeaders` are already forward-ready. */
export async function relayWebSocket(
  req: Request,
  target: string,
  upstreamHeaders: HeaderRecord,
  ctx: RelayContext,
): Promise<Response> {
  const protocols = (req.headers.get('sec-websocket-protocol') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const headers: HeaderRecord = Object.assign(Object.create(null), upstreamHeaders);
  for (const name of OWN_HANDSHAKE) delete headers[name];

  // Upstream messages that arrive before the client side is open wait here,
  // in order. The client opens right after the 101, so this stays tiny.
  const early: Array<string | Uint8Array> = [];
  let client: ClientSocket | undefined;
  let upstream: UpstreamSocket | undefined;
  let upstreamClosed: { code: number; reason: string } | undefined;
  let clientPaused = false;
  let upstreamPaused = false;
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  let stallSince = 0;
  const giveUp = (c: ClientSocket, why: string) => {
    clearTimeout(stallTimer);
    c.close(1013, `rxroute: upstream is not reading (${why})`);
    upstream?.close(1001, 'client closed');
  };

  const result = await ctx.connect(wsUrl(target), { protocols, headers, signal: req.signal }, {
    message(data) {
      if (!client) {
        early.push(data);
        return;
      }
      toClient(client, data);
      if (upstreamPaused || !upstream || client.bufferedAmount <= QUEUE_LIMIT_BYTES) return;
      upstreamPaused = true;
      const c = client;
      pauseUntilDrained(upstream, () => c.bufferedAmount, () => (upstreamPaused = false));
    },
    close(code, reason) {
      // An upstream that vanished without a close frame is usually a backend
      // restarting: 1012 (service restart) makes Socket.IO reconnect.
      const restarted = code === 1006;
      upstreamClosed = restarted ? { code: 1012, reason: 'upstream closed the connection' } : { code, reason };
      client?.close(sendableCode(upstreamClosed.code), sendableReason(upstreamClosed.reason));
    },
  });
  if (!result.ok) return result.response;
  upstream = result.socket;
  const up = upstream;

  const closeBoth = (code: number, reason: string) => {
    client?.close(code, reason);
    up.close(code, reason);
  };
  ctx.relays?.add(closeBoth);
  const accepted = ctx.accept(up.protocol || undefined, {
    open(socket) {
      client = socket;
      for (const data of early.splice(0)) toClient(socket, data);
      if (upstreamClosed) socket.close(sendableCode(upstreamClosed.code), sendableReason(upstreamClosed.reason));
    },
    message(data) {
      if (typeof data === 'string') up.sendText(data);
      else up.sendBinary(data);
      if (up.bufferedAmount <= QUEUE_LIMIT_BYTES || clientPaused || !client) return;
      const c = client;
      if (c.pause && c.resume) {
        clientPaused = true;
        pauseUntilDrained({ pause: () => c.pause?.(), resume: () => c.resume?.() }, () => up.bufferedAmount, () => (clientPaused = false));
        return;
      }
      // Bun and Deno cannot stop reading a server-side socket. Let a reading
      // upstream catch up; give up on one that stopped reading rather than
      // queue without bound.
      if (up.bufferedAmount > HARD_QUEUE_LIMIT_BYTES) {
        giveUp(c, 'queue over 16 MiB');
        return;
      }
      if (stallTimer === undefined) {
        stallTimer = setTimeout(function check() {
          if (up.bufferedAmount <= QUEUE_LIMIT_BYTES) stallTimer = undefined;
          else if (performance.now() - stallSince >= STALL_MS) giveUp(c, 'no progress for 10 s');
          else stallTimer = setTimeout(check, 250);
        }, 250);
        stallSince = performance.now();
      }
    },
    close(code, reason) {
      clearTimeout(stallTimer);
      ctx.relays?.delete(closeBoth);
      up.close(sendableCode(code), sendableReason(reason));
      ctx.onClose?.(code);
    },
  });
  if (!accepted) {
    // The adapter could not take the client over (it went away mid-handshake).
    ctx.relays?.delete(closeBoth);
    up.close(1001, 'client gone');
    return Response.json({ error: 'the WebSocket upgrade could not be completed' }, { status: 400 });
  }
  ctx.onAccepted?.();
  return accepted;
}

function toClient(client: ClientSocket, data: string | Uint8Array): void {
  if (typeof data === 'string') client.sendText(data);
  else client.sendBinary(data);
}

/** Stops reading one side until the other side's queue is below half the limit. */
function pauseUntilDrained(reader: { pause(): void; resume(): void }, queued: () => number, resumed: () => void): void {
  reader.pause();
  const check = () => {
    if (queued() > QUEUE_LIMIT_BYTES / 2) {
      setTimeout(check, DRAIN_POLL_MS);
      return;
    }
    resumed();
    reader.resume();
  };
  setTimeout(check, DRAIN_POLL_MS);
}

/** A close reason may be at most 123 bytes of UTF-8 (RFC 6455 §5.5). */
export function sendableReason(reason: string): string {
  let out = reason;
  while (new TextEncoder().encode(out).byteLength > 123) out = out.slice(0, -1);
  return out;
}

/**
 * Close codes a peer may put on the wire (RFC 6455 §7.4): 1005, 1006 and 1015
 * are reserved for reporting, and must never be sent, so they become 1000
 * (no status) or 1011 (abnormal end). Unassigned codes become 1011 too.
 */
export function sendableCode(code: number): number {
  if (code === 1005) return 1000;
  if ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)) return code;
  return 1011;
}

/** `http://host/path?q` → `ws://host/path?q` (the query goes along byte for byte). */
export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/i, 'ws');
}
