import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { STATUS_CODES } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Server as SocketIoServer, type Socket as SocketIoSocket } from 'socket.io';
import { createServer as createViteServer, type ViteDevServer } from 'vite';
import { WebSocketServer, type WebSocket } from 'ws';

// Real upstreams for the WebSocket suite, each on 127.0.0.1 port 0: a plain
// `ws` server standing in for any owner, a Socket.IO server mounted at
// /_event as the Reflex backend mounts it, and a real Vite dev server.

/** What an accepting handler is given: the socket and the upgrade request as the upstream saw it. */
export type OnConnection = (ws: WebSocket, req: http.IncomingMessage) => void;

/** `ws`'s subprotocol choice for one path: the offer in, the answer (or none) out. */
export type ChooseProtocol = (offered: string[]) => string | false;

/** What `hello` sends first: who answered and the handshake it saw. */
export interface Hello {
  upstream: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  offered: string[];
  protocol: string;
}

export interface WsUpstream {
  name: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Completes upgrades on `pathname` and hands the socket to `onConnection`. */
  accept(pathname: string, onConnection: OnConnection, choose?: ChooseProtocol): void;
  /** Answers upgrades on `pathname` with a plain HTTP response instead of a 101. */
  refuse(pathname: string, status: number, body: string, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * A WebSocket upstream. Paths nobody registered get `hello` then an echo: the
 * first message names this upstream and the handshake it received.
 */
export async function startWsUpstream(name: string): Promise<WsUpstream> {
  const choosers = new WeakMap<http.IncomingMessage, ChooseProtocol>();
  // Compression off, as on the router's side: the frames on the wire are the messages.
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 512 * 1024 * 1024,
    handleProtocols: (offered, req) => {
      const choose = choosers.get(req);
      // Without a chooser, `ws`'s own default: the first protocol offered.
      return choose ? choose([...offered]) : (offered.values().next().value ?? false);
    },
  });
  const handlers = new Map<string, UpgradeHandler>();
  const acceptWith =
    (onConnection: OnConnection, choose?: ChooseProtocol): UpgradeHandler =>
    (req, socket, head) => {
      if (choose) choosers.set(req, choose);
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
    };
  const fallback = acceptWith(sayHello(name));

  const server = http.createServer({ requestTimeout: 0 }, (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end(`${name}: WebSocket only`);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    (handlers.get(pathname) ?? fallback)(req, socket, head);
  });
  const port = await listen(server);

  return {
    name,
    url: `http://127.0.0.1:${port}`,
    accept(pathname, onConnection, choose) {
      handlers.set(pathname, acceptWith(onConnection, choose));
    },
    refuse(pathname, status, body, headers = {}) {
      handlers.set(pathname, (_req, socket) => {
        const bytes = Buffer.from(body);
        const lines = [
          `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
          ...Object.entries(headers).map(([key, value]) => `${key}: ${value}`),
          'content-type: text/plain',
          `content-length: ${bytes.length}`,
          'connection: close',
          '',
          '',
        ];
        socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), bytes]));
      });
    },
    close() {
      for (const ws of wss.clients) ws.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}

/** Sends a `Hello` (who answered, the handshake it saw), then echoes. */
export function sayHello(name: string): OnConnection {
  return (ws, req) => {
    const hello: Hello = {
      upstream: name,
      url: req.url ?? '',
      headers: req.headers,
      offered: offeredProtocols(req),
      protocol: ws.protocol,
    };
    ws.send(JSON.stringify(hello));
    echo(ws);
  };
}

/** Sends every message back with the type it came with. */
export function echo(ws: WebSocket): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
}

function offeredProtocols(req: http.IncomingMessage): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** A loopback port with nothing listening on it: an upstream that is down. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One HTTP request to the Socket.IO path, as the upstream saw it arrive and end. */
export interface PollRequest {
  method: string;
  transport: string | null;
  sid: string | null;
  /** The `test` query parameter the client was given, to tell tests apart. */
  test: string | null;
  startedAt: number;
  /** When the response finished, or undefined while it is held. */
  endedAt?: number;
  status?: number;
}

/** A Socket.IO connection as the server saw it. */
export interface SocketIoConnection {
  socket: SocketIoSocket;
  /** The Engine.IO session id every polling request must carry. */
  sid: string;
  transport: string;
  headers: http.IncomingHttpHeaders;
  /** Events received on this socket, in order. */
  events: unknown[];
}

export interface SocketIoUpstream {
  url: string;
  requests: PollRequest[];
  /** Connections by the `test` query parameter of the client. */
  connections(test: string): SocketIoConnection[];
  close(): Promise<void>;
}

/**
 * The Reflex backend's transport: Socket.IO at /_event. `echo` events are
 * answered through the ack callback when there is one, else as `echoed`.
 */
export async function startSocketIoUpstream({ pingIntervalMs }: { pingIntervalMs: number }): Promise<SocketIoUpstream> {
  const server = http.createServer({ requestTimeout: 0 });
  const io = new SocketIoServer(server, {
    path: '/_event',
    pingInterval: pingIntervalMs,
    pingTimeout: 20_000,
    serveClient: false,
  });
  const requests: PollRequest[] = [];
  // Engine.IO takes over the 'request' listeners when it attaches; prepended
  // after that, this one still sees every poll first and times it from arrival.
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const record: PollRequest = {
      method: req.method ?? '',
      transport: query.get('transport'),
      sid: query.get('sid'),
      test: query.get('test'),
      startedAt: performance.now(),
    };
    requests.push(record);
    res.once('finish', () => {
      record.endedAt = performance.now();
      record.status = res.statusCode;
    });
  });
  const byTest = new Map<string, SocketIoConnection[]>();
  io.on('connection', (socket) => {
    const test = String(socket.handshake.query.test ?? '');
    const connection: SocketIoConnection = {
      socket,
      // Engine.IO's session id: private in its types, public on the wire as `sid`.
      sid: socket.conn['id'],
      transport: socket.conn.transport.name,
      headers: socket.request.headers,
      events: [],
    };
    byTest.set(test, [...(byTest.get(test) ?? []), connection]);
    socket.on('echo', (value: unknown, ack?: (value: unknown) => void) => {
      connection.events.push(value);
      if (typeof ack === 'function') ack(value);
      else socket.emit('echoed', value);
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: (test) => byTest.get(test) ?? [],
    async close() {
      io.disconnectSockets(true);
      await io.close();
    },
  };
}

export interface ViteUpstream {
  url: string;
  server: ViteDevServer;
  /** Rewrites the watched module (a self-accepting one) with new content. */
  editModule(version: number): void;
  close(): Promise<void>;
}

/** The module the HMR test edits: self-accepting, so an edit is an `update`, not a reload. */
export const VITE_MODULE = '/main.js';

const moduleSource = (version: number) => `export const version = ${version};\nif (import.meta.hot) import.meta.hot.accept();\n`;

/** A real Vite dev server on a throwaway project: index.html and one module. */
export async function startViteUpstream(): Promise<ViteUpstream> {
  const root = mkdtempSync(join(tmpdir(), 'rxroute-vite-'));
  writeFileSync(join(root, 'index.html'), `<!doctype html>\n<title>rxroute HMR</title>\n<script type="module" src="${VITE_MODULE}"></script>\n`);
  writeFileSync(join(root, VITE_MODULE.slice(1)), moduleSource(0));
  const server = await createViteServer({
    root,
    configFile: false,
    envFile: false,
    logLevel: 'silent',
    clearScreen: false,
    cacheDir: join(root, '.vite'),
    optimizeDeps: { noDiscovery: true, include: [] },
    // The router keeps the browser's Host (localhost:ROUTER_PORT), which Vite allows.
    server: { host: '127.0.0.1', port: 0, strictPort: true },
  });
  await server.listen();
  const { port } = server.httpServer?.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    editModule: (version) => writeFileSync(join(root, VITE_MODULE.slice(1)), moduleSource(version)),
    async close() {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
