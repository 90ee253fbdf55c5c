import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { within } from '../_helpers/async.ts';

// Raw-bytes tools for the hostile-input suites. fetch and node:http normalize
// what they send (dot-segments, header folding, framing), so attacks go over
// node:net exactly as written, and answers are parsed here from the bytes.

/** One HTTP/1.x response as it came off the wire. */
export interface WireResponse {
  /** The status line, e.g. `HTTP/1.1 400 Bad Request`. */
  statusLine: string;
  status: number;
  /** Lowercase names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The body with any chunked framing removed. */
  body: Buffer;
}

/** How the connection ended from the client's side. */
export type Ending = 'closed' | 'reset' | 'open';

export interface Exchange {
  responses: WireResponse[];
  /** Everything the server sent. */
  bytes: Buffer;
  /** `open`: the server neither closed nor reset it within the wait. */
  ending: Ending;
}

export interface ExchangeOptions {
  /** How long to wait for the server before giving up on more bytes. */
  waitMs?: number;
  /** Stop as soon as this many complete responses arrived. */
  responses?: number;
  /** The request was HEAD: responses carry no body. */
  head?: boolean;
  /**
   * Write the request in pieces of this size, 20 ms apart, and stop writing
   * once the server answers: a server that refuses early and closes then has
   * no unread bytes, so its answer is not lost to a TCP reset.
   */
  chunkSize?: number;
}

/**
 * Opens a TCP connection to 127.0.0.1:`port`, writes `request` verbatim and
 * collects what comes back until the server closes or resets the connection,
 * `responses` complete responses have arrived, or `waitMs` passes.
 */
export function exchange(port: number, request: string | Buffer, options: ExchangeOptions = {}): Promise<Exchange> {
  const { waitMs = 3_000, responses: wanted, head = false, chunkSize } = options;
  const payload = typeof request === 'string' ? Buffer.from(request, 'latin1') : request;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (ending: Ending) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      resolve({ responses: parseResponses(bytes, { head, ended: ending !== 'open' }).responses, bytes, ending });
    };
    const timer = setTimeout(() => finish('open'), waitMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (wanted !== undefined) {
        const { responses } = parseResponses(Buffer.concat(chunks), { head, ended: false });
        if (responses.length >= wanted) finish('open');
      }
    });
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'reset' : 'closed'));
    socket.once('connect', () => {
      if (chunkSize === undefined) {
        socket.write(payload);
        return;
      }
      void (async () => {
        for (let at = 0; at < payload.length && !settled && chunks.length === 0; at += chunkSize) {
          await new Promise<void>((done) => socket.write(payload.subarray(at, at + chunkSize), () => done()));
          await new Promise((done) => setTimeout(done, 20));
        }
      })().catch(() => {});
    });
  });
}

/**
 * Splits `bytes` into complete HTTP/1.x responses. `ended`: the connection is
 * over, so a response without length runs to the end.
 */
export function parseResponses(
  bytes: Buffer,
  { head = false, ended = true }: { head?: boolean; ended?: boolean } = {},
): { responses: WireResponse[]; rest: Buffer } {
  const responses: WireResponse[] = [];
  let at = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (end === -1) break;
    const lines = bytes.subarray(at, end).toString('latin1').split('\r\n');
    const statusLine = lines[0]!;
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match) break;
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    let cursor = end + 4;
    let body: Buffer;
    if (head || status < 200 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const decoded = decodeChunked(bytes, cursor);
      if (!decoded) break;
      body = decoded.body;
      cursor = decoded.next;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (bytes.length < cursor + length) break;
      body = bytes.subarray(cursor, cursor + length);
      cursor += length;
    } else {
      if (!ended) break;
      body = bytes.subarray(cursor);
      cursor = bytes.length;
    }
    responses.push({ statusLine, status, headers, body });
    at = cursor;
  }
  return { responses, rest: bytes.subarray(at) };
}

function decodeChunked(bytes: Buffer, start: number): { body: Buffer; next: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at, 'latin1');
    if (lineEnd === -1) return undefined;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (Number.isNaN(size)) return undefined;
    at = lineEnd + 2;
    if (size === 0) {
      // Trailers, then the empty line.
      const trailerEnd = bytes.indexOf('\r\n', at, 'latin1');
      if (trailerEnd === -1) return undefined;
      if (trailerEnd === at) return { body: Buffer.concat(parts), next: at + 2 };
      const blank = bytes.indexOf('\r\n\r\n', at, 'latin1');
      return blank === -1 ? undefined : { body: Buffer.concat(parts), next: blank + 4 };
    }
    if (bytes.length < at + size + 2) return undefined;
    parts.push(bytes.subarray(at, at + size));
    at += size + 2;
  }
}

/** The statuses of an exchange, in order; a reset or close with nothing said is `[]`. */
export function statuses(result: Exchange): number[] {
  return result.responses.map((r) => r.status);
}

/** Whether the body is rxroute's own guard answer (`{error, hint}` JSON), rather than the runtime's. */
export function isGuardJson(response: WireResponse | undefined): boolean {
  if (!response) return false;
  try {
    const value = JSON.parse(response.body.toString('utf8')) as { error?: unknown; hint?: unknown };
    return typeof value.error === 'string' && typeof value.hint === 'string';
  } catch {
    return false;
  }
}

/**
 * A normal request after a hostile one: the router must still answer
 * `GET /__rxroute/health` with 200 within a few seconds.
 */
export async function healthStatus(port: number): Promise<number> {
  const result = await exchange(port, 'GET /__rxroute/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', {
    waitMs: 5_000,
    responses: 1,
  });
  return result.responses[0]?.status ?? 0;
}

/** One request the recording upstream parsed off a connection. */
export interface RecordedRequest {
  /** Which TCP connection it arrived on (0, 1, …). */
  connection: number;
  method: string;
  target: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RecordingUpstream {
  url: string;
  port: number;
  /** Every request parsed so far, in arrival order. */
  requests(): RecordedRequest[];
  /** Every byte received, all connections concatenated (latin1). */
  text(): string;
  /** Connections that sent bytes this parser could not frame. */
  unparsable(): string[];
  close(): Promise<void>;
}

/**
 * A node:net upstream that logs every byte and frames requests itself
 * (Content-Length or chunked, as the router sends them), answering each with
 * `HTTP/1.1 200` and a Content-Length body naming the request target. Framing
 * its own bytes lets a test tell a smuggled request line from body bytes that
 * merely look like one.
 */
export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = [];
  const received: Buffer[] = [];
  const bad: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  const server = net.createServer((socket) => {
    const id = connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const parsed = parseRequest(pending);
        if (parsed === 'incomplete') return;
        if (parsed === 'bad') {
          bad.push(pending.toString('latin1'));
          socket.destroy();
          return;
        }
        const { request, next } = parsed;
        requests.push({ connection: id, ...request });
        pending = pending.subarray(next);
        const body = Buffer.from(`recorded ${request.method} ${request.target}`);
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nx-upstream: recorder\r\n\r\n`,
        );
        socket.write(body);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => [...requests],
    text: () => Buffer.concat(received).toString('latin1'),
    unparsable: () => [...bad],
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}

type ParsedRequest =
  | { request: Omit<RecordedRequest, 'connection'>; next: number }
  | 'incomplete'
  | 'bad';

function parseRequest(bytes: Buffer): ParsedRequest {
  const end = bytes.indexOf('\r\n\r\n', 0, 'latin1');
  if (end === -1) return 'incomplete';
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const requestLine = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0]!);
  if (!requestLine) return 'bad';
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return 'bad';
    const name = line.slice(0, colon).toLowerCase();
    if (name in headers && (name === 'content-length' || name === 'transfer-encoding')) return 'bad';
    headers[name] = line.slice(colon + 1).trim();
  }
  const start = end + 4;
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  if (te !== undefined && cl !== undefined) return 'bad'; // a proxy must never send both
  let body: Buffer;
  let next: number;
  if (te !== undefined) {
    if (te.toLowerCase() !== 'chunked') return 'bad';
    const decoded = decodeChunked(bytes, start);
    if (!decoded) return 'incomplete';
    ({ body, next } = decoded);
  } else if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) return 'bad';
    const length = Number(cl);
    if (bytes.length < start + length) return 'incomplete';
    body = bytes.subarray(start, start + length);
    next = start + length;
  } else {
    body = Buffer.alloc(0);
    next = start;
  }
  return { request: { method: requestLine[1]!, target: requestLine[2]!, headers, body: Buffer.from(body) }, next };
}

/** A plain TCP listener that only counts what reaches it: nothing should. */
export async function startTripwire(): Promise<{ port: number; received(): string; close(): Promise<void> }> {
  let received = '';
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    received += '<connection>';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // Answer like a web server, so a router that relays it shows the leak to the client too.
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 17\r\nconnection: close\r\n\r\nTRIPWIRE-REACHED!');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => received,
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}

/** One request with node:http (which sends the path verbatim), body read whole. */
export function request(
  base: string,
  { method = 'GET', path, headers = {} }: { method?: string; path: string; headers?: http.OutgoingHttpHeaders },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}
