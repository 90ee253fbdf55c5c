// The floor for any proxy built on Bun.serve and Bun's fetch: no routing, no
// header rewriting, no logging; every request is handed to the upstream and
// the upstream's Response returned as is, WebSockets relayed with Bun's own
// client. rxroute's binary cannot be cheaper per request than this, so the
// gap between the two is what rxroute's own code costs.
// Usage: bun bun-floor-server.ts <upstream URL> <port>
const [target, port] = process.argv.slice(2) as [string, string];
const wsTarget = target.replace(/^http/, 'ws');

type Relay = { upstream: WebSocket; early: Array<string | Buffer> };

Bun.serve<Relay>({
  hostname: '127.0.0.1',
  port: Number(port),
  idleTimeout: 0,
  // Bun caps request bodies at 128 MiB by default; the upload is 2 GiB.
  maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  fetch(req, server) {
    const at = req.url.indexOf('/', req.url.indexOf('//') + 2);
    const path = req.url.slice(at);
    if (req.headers.get('upgrade')?.toLowerCase() === 'websocket') {
      const upstream = new WebSocket(wsTarget + path);
      upstream.binaryType = 'nodebuffer' as BinaryType;
      const data: Relay = { upstream, early: [] };
      upstream.onopen = () => {
        for (const m of data.early.splice(0)) upstream.send(m);
      };
      return server.upgrade(req, { data }) ? undefined : new Response('upgrade failed', { status: 400 });
    }
    return fetch(target + path, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: 'manual',
      decompress: false,
    } as RequestInit);
  },
  websocket: {
    idleTimeout: 0,
    open(ws) {
      ws.data.upstream.onmessage = (event) => {
        if (typeof event.data === 'string') ws.sendText(event.data);
        else ws.sendBinary(event.data as Buffer);
      };
      ws.data.upstream.onclose = () => ws.close();
    },
    message(ws, message) {
      const upstream = ws.data.upstream;
      if (upstream.readyState === WebSocket.OPEN) upstream.send(message);
      else ws.data.early.push(message);
    },
    close(ws) {
      ws.data.upstream.close();
    },
  },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
