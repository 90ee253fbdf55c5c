import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';

// A `ws` echo upstream and a client that reports a refused handshake as data.

export interface EchoWsUpstream {
  url: string;
  /** Request targets of every upgrade that reached this upstream. */
  upgrades(): string[];
  /** Sockets currently open on the upstream side. */
  openSockets(): number;
  close(): Promise<void>;
}

/** Accepts every upgrade and echoes each message back with its type. */
export async function startEchoWsUpstream(): Promise<EchoWsUpstream> {
  const upgrades: string[] = [];
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('WebSocket only');
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    upgrades.push(req.url ?? '');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    upgrades: () => [...upgrades],
    openSockets: () => wss.clients.size,
    close() {
      for (const client of wss.clients) client.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}

export type Handshake =
  | { opened: true; ws: WebSocket }
  | { opened: false; status: number; headers: http.IncomingHttpHeaders; body: string };

/**
 * Opens a WebSocket; resolves with the socket on 101, or with the status and
 * body of a refusal (`unexpected-response`). Rejects on a network error or
 * after `timeoutMs`.
 */
export function handshake(
  url: string,
  { headers, timeoutMs = 5_000 }: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no handshake answer from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      // A later reset (router stopped, test over) must not become an uncaught error.
      ws.on('error', () => {});
      resolve({ opened: true, ws });
    });
    ws.once('unexpected-response', (req, res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ opened: false, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
        req.destroy();
      });
      res.on('error', reject);
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Sends `text` and waits for the echo; rejects after `timeoutMs`. */
export function roundTrip(ws: WebSocket, text: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`no echo of ${JSON.stringify(text)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (data: Buffer) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(data.toString());
    };
    ws.on('message', onMessage);
    ws.send(text);
  });
}

/** Closes `ws` and waits until it is closed (or terminates it after 2 s). */
export function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 2_000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(1000);
  });
}
