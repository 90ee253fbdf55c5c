import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES } from '../proxy/relay-websocket.ts';
import type { ClientSocket, ClientSocketHandlers, FetchHandler } from '../runtime.ts';

// WebSocket upgrades on Node: the core decides first (and opens the upstream
// socket); only then does `ws` complete the client's handshake, with the
// subprotocol the upstream chose. A refusal is written back as plain HTTP.

export function handleUpgrades(server: Server, fetch: FetchHandler): void {
  const chosen = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_MESSAGE_BYTES,
    skipUTF8Validation: true,
    handleProtocols: (_offered, request) => chosen.get(request) ?? false,
  });

  server.on('upgrade', async (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const aborted = new AbortController();
    socket.once('close', () => aborted.abort());
    let request: Request;
    try {
      request = toRequest(incoming, aborted.signal);
    } catch {
      writeResponse(socket, Response.json({ error: 'malformed upgrade request' }, { status: 400 }));
      return;
    }
    let handlers: ClientSocketHandlers | undefined;
    const response = await Promise.resolve(
      fetch(request, {
        remoteAddress: incoming.socket.remoteAddress,
        acceptWebSocket(protocol, h) {
          if (socket.destroyed) return undefined;
          handlers = h;
          if (protocol) chosen.set(incoming, protocol);
          return new Response(null);
        },
      }),
    ).catch(() => Response.json({ error: 'internal error in rxroute' }, { status: 500 }));
    if (!handlers) {
      writeResponse(socket, response);
      return;
    }
    const relay = handlers;
    let opened = false;
    socket.once('close', () => {
      if (!opened) relay.close(1006, '');
    });
    wss.handleUpgrade(incoming, socket, head, (ws) => {
      opened = true;
      ws.on('message', (data: Buffer, isBinary: boolean) => relay.message(isBinary ? data : data.toString('utf8')));
      ws.on('close', (code: number, reason: Buffer) => relay.close(code, reason.toString('utf8')));
      ws.on('error', () => {});
      relay.open(clientSocket(ws));
    });
  });
}

function clientSocket(ws: WebSocket): ClientSocket {
  return {
    sendText: (data) => ws.send(data),
    sendBinary: (data) => ws.send(data, { binary: true }),
    close: (code, reason) => {
      if (ws.readyState === ws.OPEN) ws.close(code, reason);
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  };
}

function toRequest(incoming: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const host = incoming.headers.host ?? 'localhost';
  const scheme = (incoming.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return new Request(`${scheme}://${host}${incoming.url ?? '/'}`, { headers, signal });
}

/** A non-upgrade answer on the raw socket: status, headers, body, close. */
async function writeResponse(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText || STATUS_CODES[response.status] || ''}`];
  response.headers.forEach((value, name) => {
    if (name !== 'content-length' && name !== 'connection' && name !== 'transfer-encoding') lines.push(`${name}: ${value}`);
  });
  lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
  if (!socket.destroyed) socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
}
