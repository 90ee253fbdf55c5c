import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';

// Upstreams that fail the way real backends fail around a restart, on real
// sockets. Each logs the x-test-id of every request it received, so a test
// can tell how many copies of a request arrived.

export interface Arrival {
  id: string;
  method: string;
  path: string;
  bodyBytes: number;
}

/**
 * An HTTP + WebSocket upstream that can go down the way uvicorn does on
 * SIGTERM (accept every connection and reset it at once, `resetFor`), be
 * killed (listener and connections gone at once) and start again on the
 * same port. Paths: /ping answers, /hold never answers, /drop reads the
 * request (body included) and drops the connection 500 ms later.
 */
export class FlakyUpstream {
  readonly arrivals: Arrival[] = [];
  private server: net.Server | undefined;
  private readonly http: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private resetUntil = 0;
  private downOnReuse: { ms: number; then: 'reset' | 'refuse' } | undefined;
  /** Requests served per connection, to tell a reused keep-alive connection. */
  private readonly served = new WeakMap<net.Socket, number>();
  /** Connections accepted and reset while going down. */
  resets = 0;
  /** Requests that found their kept-alive connection closed by `goDownOnReuse`. */
  closedOnReuse = 0;

  constructor(
    readonly port: number,
    /** Close every connection after its response, so each request goes on a fresh one. */
    private readonly keepAlive = true,
  ) {
    this.http = http.createServer((req, res) => {
      const served = this.served.get(req.socket) ?? 0;
      this.served.set(req.socket, served + 1);
      if (served > 0 && this.downOnReuse) {
        // The shutdown closed this idle connection just as the request came
        // in on it: never handled, never logged.
        const { ms, then } = this.downOnReuse;
        this.downOnReuse = undefined;
        this.closedOnReuse++;
        if (then === 'reset') this.resetFor(ms);
        else {
          void this.kill();
          setTimeout(() => void this.start(), ms);
        }
        return;
      }
      let bodyBytes = 0;
      req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0]!;
        this.arrivals.push({ id: String(req.headers['x-test-id'] ?? ''), method: req.method ?? '', path, bodyBytes });
        if (!this.keepAlive) res.setHeader('connection', 'close');
        if (path === '/hold') return;
        if (path === '/drop') {
          setTimeout(() => req.socket.destroy(), 500);
          return;
        }
        res.setHeader('content-type', 'text/plain');
        res.end(`pong ${bodyBytes}`);
      });
    });
    this.http.keepAliveTimeout = 60_000;
    new WebSocketServer({ server: this.http }).on('connection', (ws, req) => {
      this.arrivals.push({ id: String(req.headers['x-test-id'] ?? ''), method: 'UPGRADE', path: (req.url ?? '/').split('?')[0]!, bodyBytes: 0 });
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  copies(id: string): number {
    return this.arrivals.filter((a) => a.id === id).length;
  }

  async start(): Promise<void> {
    const server = net.createServer((socket) => {
      if (performance.now() < this.resetUntil) {
        this.resets++;
        socket.resetAndDestroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.http.emit('connection', socket);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Going down like uvicorn on SIGTERM: open connections close, new ones are accepted and reset for `ms`. */
  resetFor(ms: number): void {
    this.resetUntil = performance.now() + ms;
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * Going down as a request crosses the shutdown on a pooled connection: the
   * next request that arrives on a kept-alive connection finds it closed,
   * unanswered, and then for `ms` new connections are reset (uvicorn's
   * SIGTERM) or refused (the process gone, started again `ms` later). The
   * race a real shutdown loses now and then, made certain.
   */
  goDownOnReuse(ms: number, then: 'reset' | 'refuse'): void {
    this.downOnReuse = { ms, then };
  }

  /** Like a killed process: the listener and every connection gone at once. */
  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

/**
 * A keep-alive upstream on raw TCP that closes a connection, unread, when a
 * second request arrives on it: an idle keep-alive connection the upstream
 * closed just as the proxy reused it. Only requests it answered are logged.
 */
export class StaleKeepAliveUpstream {
  readonly arrivals: Arrival[] = [];
  private readonly server = net.createServer((socket) => this.serve(socket));
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  /** Connections closed without a byte received: a liveness probe's, never a request's. */
  silentConnections = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  copies(id: string): number {
    return this.arrivals.filter((a) => a.id === id).length;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    let received = 0;
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (received === 0) this.silentConnections++;
    });
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    let served = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (served > 0) {
        socket.resetAndDestroy();
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const [method = '', target = '/'] = head[0]!.split(' ');
      const header = (name: string) => head.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
      const length = Number(header('content-length') ?? 0);
      if (buffered.length < end + 4 + length) return;
      served++;
      this.arrivals.push({ id: header('x-test-id') ?? '', method, path: target.split('?')[0]!, bodyBytes: length });
      const body = `served ${header('x-test-id') ?? ''}`;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`);
    });
  }
}
