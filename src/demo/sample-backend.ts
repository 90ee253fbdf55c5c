import { Hono } from 'hono';
import type { Bindings, ClientSocket } from '../runtime.ts';
import { Sha256 } from './sha256.ts';

// The sample "Reflex backend": a WebSocket echo at /_event and /_event/ (the
// form socket.io-client asks for, as Reflex's frontend does), a streaming
// upload at /_upload and /ping. The router relays /_event with the `ws`
// package, so this must accept a real upgrade: the server's own binding
// (`acceptWebSocket`, the same one the router's relay uses) provides it on
// Bun, Deno and Node alike.

export function sampleBackend(): Hono<{ Bindings: Bindings }> {
  const app = new Hono<{ Bindings: Bindings }>();

  // Hono routes strictly: without the second path, /_event/ would be a 404.
  app.on('GET', ['/_event', '/_event/'], (c) => {
    const accept = c.env?.acceptWebSocket;
    if (!accept) return c.text('expected a WebSocket upgrade', 426);
    let socket: ClientSocket | undefined;
    const response = accept(undefined, {
      open(s) {
        socket = s;
        s.sendText(JSON.stringify({ type: 'hello', text: 'connected to the sample backend through rxroute' }));
      },
      message(data) {
        if (typeof data === 'string') socket?.sendText(JSON.stringify({ type: 'echo', text: data }));
        else socket?.sendBinary(data);
      },
      close() {
        socket = undefined;
      },
    });
    return response ?? c.text('WebSocket upgrade failed', 400);
  });

  // Hashes the body as it streams in, so a large upload never sits in memory.
  app.post('/_upload', async (c) => {
    const hash = new Sha256();
    let bytes = 0;
    const body = c.req.raw.body;
    if (body) {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
        hash.update(value);
      }
    }
    return c.json({ bytes, sha256: hash.hex() });
  });

  app.get('/ping', (c) => c.text('pong'));
  app.all('*', (c) => c.json({ error: `the sample backend has no ${c.req.path}` }, 404));
  return app;
}
