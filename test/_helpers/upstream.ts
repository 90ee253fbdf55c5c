import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Writable } from 'node:stream';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

/** What the default handler answers: the request exactly as this upstream saw it. */
export interface Echo {
  upstream: string;
  method: string;
  /** The raw request-target, byte for byte as it arrived. */
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  bodyLength: number;
  bodySha256: string;
  bodyText: string;
}

/** What `POST /sink` answers after hashing the whole body as it streamed in. */
export interface SinkReport {
  upstream: string;
  bytes: number;
  sha256: string;
  contentLength: string | null;
  transferEncoding: string | null;
}

export interface Upstream {
  name: string;
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  /** Serve `pathname` (query ignored) with `handler` instead of the echo. */
  handle(pathname: string, handler: Handler): void;
  close(): Promise<void>;
}

export const MiB = 1024 * 1024;

const block = seededBlock(0x5eed_f00d, MiB);

/** xorshift32 bytes: incompressible, and the same on every run. */
export function seededBlock(seed: number, size: number): Buffer {
  const words = new Uint32Array(size / 4);
  let x = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer);
}

/**
 * `total` bytes as fresh 1 MiB chunks of a fixed pattern, each stamped with its
 * index so a lost, repeated or reordered chunk changes the hash. Only one chunk
 * exists at a time unless the consumer keeps them.
 */
export function* patternChunks(total: number): Generator<Buffer> {
  for (let offset = 0, index = 0; offset < total; offset += MiB, index++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(MiB, total - offset)));
    if (chunk.length >= 8) chunk.writeBigUInt64BE(BigInt(index), 0);
    yield chunk;
  }
}

const digests = new Map<number, string>();

export function patternSha256(total: number): string {
  let digest = digests.get(total);
  if (digest === undefined) {
    const hash = createHash('sha256');
    for (const chunk of patternChunks(total)) hash.update(chunk);
    digest = hash.digest('hex');
    digests.set(total, digest);
  }
  return digest;
}

/** Writes every chunk, waiting for 'drain' whenever `out` asks it to. */
export async function writeRespectingBackpressure(out: Writable, chunks: Iterable<Buffer>): Promise<void> {
  for (const chunk of chunks) {
    if (out.destroyed) throw new Error('stream closed before every chunk was written');
    if (!out.write(chunk)) await drained(out);
  }
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(new Error('stream closed while waiting for drain'));
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', settle);
  });
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function echo(name: string): Handler {
  return async (req, res) => {
    const body = await readBody(req);
    const answer: Echo = {
      upstream: name,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyLength: body.length,
      bodySha256: createHash('sha256').update(body).digest('hex'),
      bodyText: body.length <= 64 * 1024 ? body.toString('utf8') : '',
    };
    const json = Buffer.from(JSON.stringify(answer));
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': json.length,
      'x-upstream': name,
    });
    res.end(json);
  };
}

/** `GET /source/<bytes>`: the pattern with Content-Length, at the pace the reader takes it. */
function source(name: string): Handler {
  return async (req, res) => {
    const total = Number(new URL(req.url ?? '/', 'http://x').pathname.split('/')[2]);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': total,
      'x-upstream': name,
    });
    await writeRespectingBackpressure(res, patternChunks(total));
    res.end();
  };
}

/** `POST /sink`: hashes the body as it streams in, holding at most one chunk. */
function sink(name: string): Handler {
  return async (req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of req) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    const report: SinkReport = {
      upstream: name,
      bytes,
      sha256: hash.digest('hex'),
      contentLength: req.headers['content-length'] ?? null,
      transferEncoding: req.headers['transfer-encoding'] ?? null,
    };
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
    res.end(JSON.stringify(report));
  };
}

/**
 * A real HTTP server on 127.0.0.1, port 0, standing in for Vite, the Reflex
 * backend or Django. Every answer carries `x-upstream: <name>`; unknown paths
 * echo the request (see `Echo`).
 */
export async function startUpstream(name: string): Promise<Upstream> {
  const handlers = new Map<string, Handler>([['/sink', sink(name)]]);
  const streamSource = source(name);
  const fallback = echo(name);
  const sockets = new Set<Socket>();

  // No server-side timeouts: the tests decide how long a request may take.
  const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 60_000 }, (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const handler = handlers.get(pathname) ?? (pathname.startsWith('/source/') ? streamSource : fallback);
    Promise.resolve()
      .then(() => handler(req, res))
      .catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    handle(pathname, handler) {
      handlers.set(pathname, handler);
    },
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}
