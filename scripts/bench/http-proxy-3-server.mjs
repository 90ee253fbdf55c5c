// http-proxy-3 the way Vite's `server.proxy` runs it: a node:http server that
// hands requests to proxy.web and upgrades to proxy.ws. Like Vite's options
// object form, no agent is given, so http-proxy-3 opens one upstream
// connection per request. Plain JavaScript because Node runs it, as it runs Vite.
// Usage: node http-proxy-3-server.mjs <upstream URL> <port>
import http from 'node:http';
import { createProxyServer } from 'http-proxy-3';

const [target, port] = process.argv.slice(2);
const proxy = createProxyServer({ target, ws: true, xfwd: true });
// As Vite does: a failed request gets a bare 502, a failed socket is ended.
proxy.on('error', (error, _req, res) => {
  console.error(`http-proxy-3: ${error.message}`);
  if ('writeHead' in res) {
    if (!res.headersSent && !res.writableEnded) res.writeHead(502, { 'content-type': 'text/plain' }).end();
  } else {
    res.end();
  }
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head));
server.listen(Number(port), '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(0));
