import type { Socket } from 'bun';
import { UpstreamError } from '../errors.ts';
import { fetchClient, toUpstreamError, type UpstreamClient, type UpstreamRequest } from '../proxy/upstream-client.ts';

// The upstream client of the binary: HTTP/1.1 over Bun.connect with a
// keep-alive pool per upstream. Bun's fetch is faithful but pays for a whole
// WHATWG request per hop; a dev router forwards hundreds of module requests
// per page load, so the hot path is written once here (see ARCHITECTURE.md,
// "Upstream clients"). https upstreams still go through fetch.
//
// Invariants:
// - headers and bytes go upstream as given; the response is relayed with its
//   framing decoded (chunked) and its hop-by-hop headers removed;
// - a response body with a Content-Length up to BUFFER_LIMIT is read whole,
//   so Bun.serve sends it with that Content-Length (oven-sh/bun#10507);
//   larger or unframed bodies stream with backpressure (the socket pauses);
// - the request body is read only once the connection is up, so a refused
//   connection leaves it unread and the request can be sent again;
// - a connection goes back to the pool only after a complete exchange.

/** Response bodies up to this size, with a Content-Length, are read whole. */
export const BUFFER_LIMIT = 1024 * 1024;

/** Longest response head accepted from an upstream. */
const HEAD_LIMIT = 256 * 1024;

/** Idle keep-alive connections kept per upstream. */
const IDLE_LIMIT = 128;

/** Queued response bytes before the upstream socket is paused. */
const STREAM_HIGH_WATER = 64 * 1024;

/** Responses whose body is already in memory; the Bun adapter sends them as they are. */
export const wholeBodies = new WeakSet<Response>();

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

type Framing = 'none' | 'length' | 'chunked' | 'close';

interface Exchange {
  req: UpstreamRequest;
  resolve(res: Response): void;
  reject(error: unknown): void;
  /** The request went out on a pooled connection (may have been closed meanwhile). */
  reused: boolean;
  /** Whether any response byte has arrived. */
  answered: boolean;
  /** The request (head and body) is fully written. */
  sent: boolean;
  /** Set once the exchange has resolved or failed. */
  settled: boolean;
  conn?: Conn;
  /** Seen by one sweep of `waiting` already. */
  swept?: boolean;
  onAbort?: () => void;
}

interface Conn {
  socket: Socket<Conn>;
  origin: string;
  exchange: Exchange | undefined;
  /** Response head bytes so far (phase 'head'). */
  head: Buffer | undefined;
  phase: 'head' | 'body' | 'idle';
  framing: Framing;
  /** Bytes of body (length) or of the current chunk (chunked) still to come. */
  remaining: number;
  /** Chunked decoder state. */
  chunk: 'size' | 'data' | 'data-crlf' | 'trailers';
  /** Partial line of the chunked framing carried between reads. */
  line: Buffer | undefined;
  /** Whole-body mode: the buffer being filled and its fill level. */
  whole: Buffer | undefined;
  filled: number;
  /** Streaming mode: where body bytes go. */
  stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  keepAlive: boolean;
  /** Exchanges this connection has carried. */
  uses: number;
  /** Whole-body mode: the head of the response being read. */
  init: ResponseInit | undefined;
  /** Waiting for `drain` to finish a partial write. */
  pending: Uint8Array | undefined;
  drained: (() => void) | undefined;
  closed: boolean;
}

/** How often exchanges still waiting for their response are checked. */
const SWEEP_MS = 250;

export function bunHttpClient(): UpstreamClient {
  const idle = new Map<string, Conn[]>();
  const viaFetch = fetchClient();

  // A client that leaves must end its upstream exchange (a long-poll, a slow
  // view). Bun creates `request.signal` on first use at a cost on every
  // request, and most exchanges end within a millisecond, so the signal is
  // only watched once an exchange has been waiting through a whole sweep
  // (250-500 ms). Streamed bodies need no signal: Bun cancels their stream.
  const waiting = new Set<Exchange>();
  let sweeper: ReturnType<typeof setInterval> | undefined;
  function sweep() {
    for (const exchange of waiting) {
      if (!exchange.swept) {
        exchange.swept = true;
        continue;
      }
      waiting.delete(exchange);
      if (exchange.conn?.exchange === exchange) watch(exchange, exchange.conn);
    }
    if (waiting.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }
  function await_(exchange: Exchange) {
    exchange.swept = false;
    waiting.add(exchange);
    if (sweeper === undefined) {
      sweeper = setInterval(sweep, SWEEP_MS);
      sweeper.unref?.();
    }
  }

  const handlers = {
    data(socket: Socket<Conn>, data: Buffer) {
      const conn = socket.data;
      try {
        onData(conn, data);
      } catch (error) {
        fail(conn, error instanceof UpstreamError ? error : invalid(conn, String(error)));
      }
    },
    drain(socket: Socket<Conn>) {
      const conn = socket.data;
      const rest = conn.pending;
      if (!rest) return;
      const written = socket.write(rest);
      if (written < 0) return;
      if (written < rest.byteLength) {
        conn.pending = rest.subarray(written);
        return;
      }
      conn.pending = undefined;
      const resume = conn.drained;
      conn.drained = undefined;
      resume?.();
    },
    close(socket: Socket<Conn>) {
      onClose(socket.data);
    },
    error(socket: Socket<Conn>, error: Error) {
      const conn = socket.data;
      if (conn) fail(conn, toUpstreamError(error, conn.origin));
    },
  };

  function release(conn: Conn) {
    conn.exchange = undefined;
    conn.phase = 'idle';
    conn.head = undefined;
    conn.whole = undefined;
    conn.init = undefined;
    conn.stream = undefined;
    if (conn.closed) return;
    let list = idle.get(conn.origin);
    if (!list) idle.set(conn.origin, (list = []));
    if (list.length >= IDLE_LIMIT) {
      conn.socket.end();
      return;
    }
    list.push(conn);
  }

  function forget(conn: Conn) {
    const list = idle.get(conn.origin);
    const at = list ? list.indexOf(conn) : -1;
    if (at !== -1) list!.splice(at, 1);
  }

  function onClose(conn: Conn) {
    conn.closed = true;
    forget(conn);
    const exchange = conn.exchange;
    if (!exchange) return;
    if (conn.phase === 'body' && conn.framing === 'close') {
      // A body delimited by the end of the connection ends here, cleanly.
      finishBody(conn);
      return;
    }
    fail(conn, new UpstreamError('reset', `${conn.origin}${exchange.req.path} closed the connection${exchange.answered ? ' mid-response' : ''}`));
  }

  /** Ends the exchange with an error: before the head it rejects, after it the body errors. */
  function fail(conn: Conn, error: unknown) {
    const exchange = conn.exchange;
    conn.exchange = undefined;
    if (!conn.closed) {
      conn.closed = true;
      forget(conn);
      conn.socket.terminate();
    }
    const drained = conn.drained;
    conn.drained = undefined;
    drained?.();
    if (!exchange) return;
    unwatch(exchange);
    waiting.delete(exchange);
    if (conn.stream) {
      // No reason: Bun prints the reason of a failed response stream, and an
      // upstream that died mid-body is not worth a stack trace. The client's
      // connection is still cut, so it never sees a clean end.
      try {
        conn.stream.error();
      } catch {}
      conn.stream = undefined;
    }
    if (exchange.settled) return;
    exchange.settled = true;
    // A pooled connection the upstream closed while idle (a Reflex backend
    // restart) fails on first use; a request whose body is unread can go again.
    if (exchange.reused && !exchange.answered && !exchange.req.body?.locked) {
      exchange.settled = false;
      start(exchange.req, exchange, false);
      return;
    }
    exchange.reject(error);
  }

  function invalid(conn: Conn, why: string) {
    return new UpstreamError('reset', `${conn.origin} sent an invalid response (${why})`);
  }

  function onData(conn: Conn, data: Buffer) {
    const exchange = conn.exchange;
    if (!exchange) {
      // Bytes on an idle connection: the upstream broke keep-alive framing.
      conn.closed = true;
      forget(conn);
      conn.socket.terminate();
      return;
    }
    exchange.answered = true;
    if (conn.phase === 'head') {
      const head = conn.head ? Buffer.concat([conn.head, data]) : data;
      const end = head.indexOf(HEAD_END);
      if (end === -1) {
        if (head.byteLength > HEAD_LIMIT) throw invalid(conn, 'response head over 256 KiB');
        conn.head = head;
        return;
      }
      conn.head = undefined;
      const rest = head.subarray(end + 4);
      if (!onHead(conn, exchange, head.toString('latin1', 0, end))) {
        // A 1xx interim response: the real one follows.
        if (rest.byteLength > 0) onData(conn, rest);
        return;
      }
      if (rest.byteLength > 0) onBody(conn, rest);
      else if (conn.framing === 'none' || (conn.framing === 'length' && conn.remaining === 0)) finishBody(conn);
      return;
    }
    onBody(conn, data);
  }

  /** Parses a response head; false for an interim (1xx) response. */
  function onHead(conn: Conn, exchange: Exchange, text: string): boolean {
    const lines = text.split('\r\n');
    const statusLine = lines[0]!;
    const match = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!match) throw invalid(conn, `status line ${JSON.stringify(statusLine.slice(0, 60))}`);
    const status = Number(match[2]);
    if (status < 200) {
      if (status === 101) throw invalid(conn, 'unrequested protocol switch');
      return false;
    }
    const http10 = match[1] === '0';
    const names: string[] = [];
    const values: string[] = [];
    let length: string | undefined;
    let encoding: string | undefined;
    let connection: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0 || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) throw invalid(conn, 'malformed header line');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (length !== undefined && length !== value) throw invalid(conn, 'conflicting Content-Length');
        length = value;
      } else if (name === 'transfer-encoding') encoding = encoding ? `${encoding}, ${value}` : value;
      else if (name === 'connection') connection = connection ? `${connection}, ${value}` : value;
      names.push(name);
      values.push(value);
    }
    const tokens = connection ? connection.toLowerCase().split(',').map((t) => t.trim()) : [];
    conn.keepAlive = http10 ? tokens.includes('keep-alive') : !tokens.includes('close');
    const headers = new Headers();
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (HOP_BY_HOP.has(name) || name.startsWith('proxy-') || tokens.includes(name)) continue;
      headers.append(name, values[i]!);
    }

    const bodyless = exchange.req.method === 'HEAD' || status === 204 || status === 304;
    if (bodyless) conn.framing = 'none';
    else if (encoding !== undefined) {
      // RFC 9112 §6.3: chunked last means chunked; any other coding runs to the close.
      const last = encoding.toLowerCase().split(',').pop()!.trim();
      conn.framing = last === 'chunked' ? 'chunked' : 'close';
      headers.delete('content-length');
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) throw invalid(conn, `Content-Length ${JSON.stringify(length.slice(0, 20))}`);
      conn.framing = 'length';
      conn.remaining = Number(length);
    } else conn.framing = 'close';
    if (conn.framing === 'close') conn.keepAlive = false;
    conn.phase = 'body';

    const init = { status, statusText: match[3] ?? '', headers };
    if (conn.framing === 'none' || (conn.framing === 'length' && conn.remaining <= BUFFER_LIMIT)) {
      // Whole-body mode: the exchange resolves once the last byte is in.
      conn.whole = Buffer.allocUnsafe(conn.framing === 'none' ? 0 : conn.remaining);
      conn.filled = 0;
      conn.init = init;
      return true;
    }
    conn.chunk = 'size';
    conn.line = undefined;
    const body = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          conn.stream = controller;
        },
        pull() {
          if (conn.exchange === exchange) conn.socket.resume();
        },
        cancel() {
          // The client went away: this connection's response is unfinished.
          if (conn.exchange !== exchange) return;
          conn.stream = undefined;
          fail(conn, new Error('client went away'));
        },
      },
      { highWaterMark: STREAM_HIGH_WATER, size: (chunk) => chunk?.byteLength ?? 0 },
    );
    settle(exchange, new Response(body, init));
    return true;
  }

  function settle(exchange: Exchange, res: Response) {
    if (exchange.settled) return;
    exchange.settled = true;
    waiting.delete(exchange);
    exchange.resolve(res);
  }

  function onBody(conn: Conn, data: Buffer) {
    switch (conn.framing) {
      case 'none':
        finishBody(conn);
        return;
      case 'length': {
        const take = Math.min(conn.remaining, data.byteLength);
        deliver(conn, take === data.byteLength ? data : data.subarray(0, take));
        conn.remaining -= take;
        if (conn.remaining === 0) {
          if (take < data.byteLength) conn.keepAlive = false; // bytes beyond the message
          finishBody(conn);
        }
        return;
      }
      case 'close':
        deliver(conn, data);
        return;
      case 'chunked':
        dechunk(conn, data);
        return;
    }
  }

  /** Chunked transfer coding (RFC 9112 §7.1), decoded across reads. */
  function dechunk(conn: Conn, input: Buffer) {
    let data = input;
    while (data.byteLength > 0 && conn.exchange) {
      if (conn.chunk === 'data') {
        const take = Math.min(conn.remaining, data.byteLength);
        deliver(conn, data.subarray(0, take));
        conn.remaining -= take;
        data = data.subarray(take);
        if (conn.remaining === 0) conn.chunk = 'data-crlf';
        continue;
      }
      // size line, the CRLF after data, or a trailer line: all end in CRLF.
      const joined = conn.line ? Buffer.concat([conn.line, data]) : data;
      const eol = joined.indexOf(CRLF);
      if (eol === -1) {
        if (joined.byteLength > 4096) throw invalid(conn, 'chunk framing line too long');
        conn.line = joined;
        return;
      }
      conn.line = undefined;
      const line = joined.toString('latin1', 0, eol);
      data = joined.subarray(eol + 2);
      if (conn.chunk === 'data-crlf') {
        if (line !== '') throw invalid(conn, 'missing CRLF after chunk');
        conn.chunk = 'size';
      } else if (conn.chunk === 'size') {
        const size = line.split(';', 1)[0]!.trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw invalid(conn, `chunk size ${JSON.stringify(size.slice(0, 20))}`);
        conn.remaining = parseInt(size, 16);
        conn.chunk = conn.remaining === 0 ? 'trailers' : 'data';
      } else if (line === '') {
        // Trailers are dropped (Bun.serve cannot send them); the message ends.
        if (data.byteLength > 0) conn.keepAlive = false;
        finishBody(conn);
        return;
      }
    }
  }

  function deliver(conn: Conn, bytes: Buffer) {
    if (bytes.byteLength === 0) return;
    if (conn.whole) {
      conn.whole.set(bytes, conn.filled);
      conn.filled += bytes.byteLength;
      return;
    }
    const stream = conn.stream;
    if (!stream) return;
    // The socket reuses its read buffer: copy before queueing.
    stream.enqueue(new Uint8Array(bytes));
    if ((stream.desiredSize ?? 0) <= 0) conn.socket.pause();
  }

  function finishBody(conn: Conn) {
    const exchange = conn.exchange!;
    unwatch(exchange);
    if (conn.whole) {
      const body = conn.framing === 'none' ? null : (conn.whole as Uint8Array<ArrayBuffer>);
      const res = new Response(body, conn.init);
      wholeBodies.add(res);
      settle(exchange, res);
    } else {
      try {
        conn.stream?.close();
      } catch {}
    }
    if (conn.keepAlive && exchange.sent && !conn.closed) {
      conn.socket.resume();
      release(conn);
    } else {
      conn.exchange = undefined;
      if (!conn.closed) {
        conn.closed = true;
        forget(conn);
        conn.socket.end();
      }
    }
  }

  /** Aborting the client's request ends the upstream exchange too. */
  function watch(exchange: Exchange, conn: Conn) {
    const signal = exchange.req.signal;
    if (signal.aborted) {
      fail(conn, abortError());
      return;
    }
    exchange.onAbort = () => {
      if (conn.exchange === exchange) fail(conn, abortError());
    };
    signal.addEventListener('abort', exchange.onAbort, { once: true });
  }

  function unwatch(exchange: Exchange) {
    if (exchange.onAbort) exchange.req.signal.removeEventListener('abort', exchange.onAbort);
    exchange.onAbort = undefined;
  }

  async function connect(origin: string): Promise<Conn> {
    const pooled = idle.get(origin)?.pop();
    if (pooled) return pooled;
    const url = new URL(origin);
    const conn = {
      origin,
      exchange: undefined,
      head: undefined,
      phase: 'idle',
      framing: 'none',
      remaining: 0,
      chunk: 'size',
      line: undefined,
      whole: undefined,
      filled: 0,
      stream: undefined,
      keepAlive: true,
      uses: 0,
      init: undefined,
      pending: undefined,
      drained: undefined,
      closed: false,
    } as Omit<Conn, 'socket'> as Conn;
    try {
      conn.socket = await Bun.connect<Conn>({
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port || 80),
        data: conn,
        socket: handlers,
      });
    } catch (error) {
      throw toUpstreamError(error, origin);
    }
    conn.socket.setNoDelay(true);
    return conn;
  }

  /** Writes everything, waiting for `drain` when the socket buffer is full. */
  function write(conn: Conn, bytes: Uint8Array | string): Promise<void> | undefined {
    if (conn.closed) throw new UpstreamError('reset', `${conn.origin} closed the connection`);
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    const written = conn.socket.write(data);
    if (written < 0) throw new UpstreamError('reset', `${conn.origin} closed the connection`);
    if (written === data.byteLength) return undefined;
    conn.pending = data.subarray(written);
    return new Promise((resolve) => (conn.drained = resolve));
  }

  async function pump(conn: Conn, exchange: Exchange, body: ReadableStream<Uint8Array>, chunked: boolean) {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value.byteLength === 0) continue;
        if (chunked) await write(conn, `${value.byteLength.toString(16)}\r\n`);
        await write(conn, value);
        if (chunked) await write(conn, '\r\n');
      }
      if (chunked) await write(conn, '0\r\n\r\n');
      exchange.sent = true;
    } catch (error) {
      reader.cancel(error).catch(() => {});
      if (conn.exchange === exchange) fail(conn, toUpstreamError(error, conn.origin + exchange.req.path));
    }
  }

  async function start(req: UpstreamRequest, exchange: Exchange, mayReuse: boolean): Promise<void> {
    let conn: Conn;
    try {
      if (!mayReuse) {
        // A retry: skip the pool, whose other connections may be stale too.
        const list = idle.get(req.origin);
        idle.delete(req.origin);
        for (const stale of list ?? []) stale.socket.end();
      }
      conn = await connect(req.origin);
    } catch (error) {
      exchange.settled = true;
      exchange.reject(error);
      return;
    }
    exchange.reused = conn.uses++ > 0;
    conn.exchange = exchange;
    conn.phase = 'head';
    conn.framing = 'none';
    conn.keepAlive = true;
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
    let hasLength = false;
    req.headers.forEach((value, name) => {
      if (name === 'content-length') hasLength = true;
      head += `${name}: ${value}\r\n`;
    });
    const body = req.body;
    const chunked = body !== null && !hasLength;
    if (chunked) head += 'transfer-encoding: chunked\r\n';
    head += '\r\n';
    exchange.conn = conn;
    await_(exchange);
    try {
      const wrote = write(conn, head);
      if (!body) {
        exchange.sent = true;
        await wrote;
        return;
      }
      await wrote;
    } catch (error) {
      fail(conn, error);
      return;
    }
    void pump(conn, exchange, body, chunked);
  }

  return (req) => {
    if (!req.origin.startsWith('http:')) return viaFetch(req);
    if (/[\s]/.test(req.path) || /[\r\n]/.test(req.method)) {
      return Promise.reject(new UpstreamError('reset', `request target ${JSON.stringify(req.path.slice(0, 80))} cannot be sent upstream`));
    }
    return new Promise<Response>((resolve, reject) => {
      const exchange: Exchange = { req, resolve, reject, reused: false, answered: false, sent: false, settled: false };
      void start(req, exchange, true);
    });
  };
}

function abortError(): Error {
  const error = new Error('the client went away');
  error.name = 'AbortError';
  return error;
}
