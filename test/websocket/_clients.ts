import { createHash } from 'node:crypto';
import { within } from '../_helpers/async.ts';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import { MiB, patternChunks } from '../_helpers/upstream.ts';

// The browser's side of the WebSocket tests: a `ws` client that reports a
// refused handshake as data instead of an error, an inbox that keeps every
// message and close in order so a test can await them with a deadline, and a
// pump that sends bulk data only as fast as the other side takes it.

export interface ClientOptions {
  protocols?: string[];
  /** Host, Cookie, Authorization, User-Agent … exactly as a browser would send them. */
  headers?: Record<string, string>;
  origin?: string;
}

export type Handshake =
  | { opened: true; ws: WebSocket; inbox: Inbox }
  | { opened: false; status: number; headers: IncomingHttpHeaders; body: string };

/**
 * Opens a WebSocket and resolves with the socket once the 101 arrives, or with
 * the status, headers and body of a refusal. Rejects on a network error.
 */
export function handshake(url: string, { protocols = [], headers, origin }: ClientOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, origin });
    // Attached before the 101 so no message that follows it is missed.
    const inbox = collect(ws);
    ws.once('open', () => resolve({ opened: true, ws, inbox }));
    ws.once('unexpected-response', (req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ opened: false, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
        req.destroy();
      });
      res.on('error', reject);
    });
    ws.once('error', reject);
  });
}

/** Like `handshake`, for tests where a refusal is itself the failure. */
export async function connect(url: string, options?: ClientOptions): Promise<{ ws: WebSocket; inbox: Inbox }> {
  const result = await handshake(url, options);
  if (!result.opened) throw new Error(`${url} was refused with ${result.status}: ${result.body.slice(0, 300)}`);
  return result;
}

export interface Message {
  binary: boolean;
  data: Buffer;
}

export interface Closed {
  code: number;
  reason: string;
}

export interface Inbox {
  /** Every message so far, in arrival order. */
  messages: Message[];
  /** Errors the client raised (a close frame carrying 1005/1006 is one). */
  errors: Error[];
  /** Resolves with the nth message (0-based), waiting for it if needed. */
  nth(index: number, ms: number, what: string): Promise<Message>;
  /** Resolves when the socket has closed: the code and reason the client saw. */
  closed(ms: number, what: string): Promise<Closed>;
  /** The close the client saw, once it has closed. */
  readonly closedWith: Closed | undefined;
}

function collect(ws: WebSocket): Inbox {
  const messages: Message[] = [];
  const errors: Error[] = [];
  const waiting = new Set<() => void>();
  let closedWith: Closed | undefined;
  const wake = () => {
    for (const check of [...waiting]) check();
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    messages.push({ binary: isBinary, data });
    wake();
  });
  ws.on('error', (error) => errors.push(error));
  ws.on('close', (code: number, reason: Buffer) => {
    closedWith = { code, reason: reason.toString() };
    wake();
  });
  const until = <T>(value: () => T | undefined, ms: number, what: string): Promise<T> =>
    within(
      new Promise<T>((resolve, reject) => {
        const check = () => {
          let v: T | undefined;
          try {
            v = value();
          } catch (error) {
            waiting.delete(check);
            reject(error);
            return;
          }
          if (v === undefined) return;
          waiting.delete(check);
          resolve(v);
        };
        waiting.add(check);
        check();
      }),
      ms,
      what,
    );
  return {
    messages,
    errors,
    nth: (index, ms, what) =>
      until(
        () => messages[index] ?? (closedWith ? failClosed(closedWith, messages.length, what) : undefined),
        ms,
        `${what} (had ${messages.length} messages)`,
      ),
    closed: (ms, what) => until(() => closedWith, ms, what),
    get closedWith() {
      return closedWith;
    },
  };
}

function failClosed(closed: Closed, count: number, what: string): never {
  throw new Error(`${what}: the socket closed (${closed.code} ${JSON.stringify(closed.reason)}) after ${count} messages`);
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A message as a short comparable line: index, type, size and a hash prefix. */
export function describeMessage(index: number, binary: boolean, data: Buffer | string): string {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return `#${index} ${binary ? 'binary' : 'text'} ${bytes.length} B ${sha256(bytes).slice(0, 12)}`;
}

/**
 * Sends `total` pattern bytes as 1 MiB binary messages, at most `limit` bytes
 * not yet handed to the kernel, so the sender's own memory stays flat and it
 * stops as soon as the other side stops reading.
 */
export class Pump {
  acked = 0;
  lastProgressAt = performance.now();
  done = false;
  private inflight = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly ws: WebSocket,
    total: number,
    private readonly limit = 4 * MiB,
  ) {
    void this.run(total);
  }

  private async run(total: number): Promise<void> {
    for (const chunk of patternChunks(total)) {
      while (this.inflight >= this.limit) await new Promise<void>((resolve) => (this.wake = resolve));
      if (this.ws.readyState !== WebSocket.OPEN) return;
      const length = chunk.length;
      this.inflight += length;
      this.ws.send(chunk, { binary: true }, (error) => {
        this.inflight -= length;
        if (!error) {
          this.acked += length;
          this.lastProgressAt = performance.now();
        }
        this.wake?.();
      });
    }
    while (this.inflight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.done = true;
  }
}

/** Waits until the pump has made no progress for `quietMs` (blocked), finished, or its socket closed. */
export async function waitForStall(
  pump: Pump,
  isClosed: () => boolean,
  limitMs: number,
  quietMs = 2_000,
): Promise<'blocked' | 'finished' | 'closed'> {
  const started = performance.now();
  for (;;) {
    if (pump.done) return 'finished';
    if (isClosed()) return 'closed';
    if (performance.now() - pump.lastProgressAt > quietMs) return 'blocked';
    if (performance.now() - started > limitMs) throw new Error(`the transfer neither stalled nor finished in ${limitMs} ms`);
    await delay(100);
  }
}

/** Waits until `count()` reaches `target`, the socket closes, or nothing arrives for `quietMs`. */
export async function settle(count: () => number, target: number, isClosed: () => boolean, quietMs: number): Promise<void> {
  let last = count();
  let lastChangeAt = performance.now();
  while (count() < target && !isClosed()) {
    await delay(100);
    if (count() !== last) {
      last = count();
      lastChangeAt = performance.now();
    } else if (performance.now() - lastChangeAt > quietMs) {
      return;
    }
  }
}

export function opened(ws: WebSocket): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
      ws.once('error', reject);
    }),
    10_000,
    'the WebSocket did not open',
  );
}

export function closeOf(ws: WebSocket): { closed: Closed | undefined } {
  const state: { closed: Closed | undefined } = { closed: undefined };
  ws.on('close', (code: number, reason: Buffer) => (state.closed = { code, reason: reason.toString() }));
  ws.on('error', () => {});
  return state;
}
