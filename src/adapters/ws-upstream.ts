import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { toUpstreamError } from '../proxy/upstream-client.ts';
import type { ConnectUpstreamSocket, UpstreamSocket } from '../proxy/upstream-socket.ts';
import { MAX_MESSAGE_BYTES } from '../proxy/relay-websocket.ts';

// Upstream WebSockets through the `ws` package on every runtime: it sends the
// browser's Host, Cookie and Origin in the handshake and tells a refused
// upgrade (with its status) from an accepted one.

/** Longest refused-upgrade body passed back to the client. */
const REFUSAL_BODY_LIMIT = 64 * 1024;

export const connectUpstreamSocket: ConnectUpstreamSocket = (url, { protocols, headers, signal }, handlers) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, {
      headers,
      // Frames are relayed as they are; compression is per hop and costs CPU.
      perMessageDeflate: false,
      maxPayload: MAX_MESSAGE_BYTES,
      followRedirects: false,
      // Text is relayed, not interpreted: the browser validates UTF-8 itself.
      skipUTF8Validation: true,
    });
    let settled = false;
    const started = performance.now();
    const onAbort = () => ws.terminate();
    signal?.addEventListener('abort', onAbort, { once: true });

    ws.on('open', () => {
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve({ ok: true, socket: wrap(ws) });
    });
    ws.on('unexpected-response', (_req, res) => {
      settled = true;
      // Read the refusal before dropping the connection: terminating first
      // would lose its body on Node and Deno.
      readRefusal(res)
        .then((response) => resolve({ ok: false, response }), reject)
        .finally(() => ws.terminate());
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      handlers.message(isBinary ? data : data.toString('utf8'));
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (settled) handlers.close(code, reason.toString('utf8'));
    });
    ws.on('error', (error) => {
      if (!settled) {
        settled = true;
        // `ws` opens a connection of its own for every handshake: a close
        // before the 101 is on a fresh connection (retry-policy.ts).
        const attempt = { method: 'GET', hasBody: false, bodyStarted: false, upgrade: true, reused: false, heldMs: performance.now() - started, resent: false };
        reject(toUpstreamError(error, url, attempt));
      }
    });
  });

function wrap(ws: WebSocket): UpstreamSocket {
  return {
    protocol: ws.protocol,
    sendText: (data) => ws.send(data),
    sendBinary: (data) => ws.send(data, { binary: true }),
    close: (code, reason) => {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  };
}

async function readRefusal(res: IncomingMessage): Promise<Response> {
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((done) => {
    res.on('data', (chunk: Buffer) => {
      if (size < REFUSAL_BODY_LIMIT) chunks.push(chunk);
      size += chunk.length;
    });
    res.on('end', done);
    res.on('close', done);
    res.on('error', done);
  });
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  for (const name of ['connection', 'upgrade', 'transfer-encoding', 'content-length', 'keep-alive']) headers.delete(name);
  const status = res.statusCode && res.statusCode >= 200 && res.statusCode <= 599 ? res.statusCode : 502;
  const body = Buffer.concat(chunks).subarray(0, REFUSAL_BODY_LIMIT);
  return new Response(status === 204 || status === 304 ? null : body, { status, statusText: res.statusMessage ?? '', headers });
}
