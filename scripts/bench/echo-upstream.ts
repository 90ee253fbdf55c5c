import { isMainThread } from 'node:worker_threads';
import { announce } from './worker-server.ts';

// Worker entry: the WebSocket benchmark's upstream. It echoes each message
// as it came, text as text and binary as binary, on any path, so the same
// client can talk to it directly or through rxroute's `/_event/` route.

function serveEcho(): string {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req, srv) {
      if (srv.upgrade(req)) return undefined;
      return new Response('echo upstream: WebSocket upgrades only\n', { status: 426 });
    },
    websocket: {
      message(ws, message) {
        ws.send(message);
      },
      // The bench decides when a connection is stuck; compression would
      // measure zlib, not the relay.
      idleTimeout: 0,
      sendPings: false,
      perMessageDeflate: false,
    },
  });
  return `http://127.0.0.1:${server.port}`;
}

if (!isMainThread) announce(serveEcho());
