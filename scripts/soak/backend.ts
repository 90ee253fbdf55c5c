import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { chunksOf } from './content.ts';

// The soak's backend, a process of its own so the chaos loop can kill it
// for real: `bun scripts/soak/backend.ts PORT ARRIVALS_FILE`. Every request
// it receives is appended to ARRIVALS_FILE (id, method, path) with a
// synchronous write before anything else happens, so the line survives a
// SIGKILL and the soak can count copies. On SIGTERM it goes down the way
// uvicorn does: idle connections closed, WebSockets closed with 1012, new
// connections accepted and reset, in-flight requests given a second, exit.

const [portArg, arrivalsPath] = process.argv.slice(2);
if (!portArg || !arrivalsPath) throw new Error('usage: backend.ts PORT ARRIVALS_FILE');
const log = openSync(arrivalsPath, 'a');

const arrived = (id: string | string[] | undefined, method: string, path: string) => {
  writeSync(log, `${String(id ?? '-')}\t${method}\t${path}\n`);
};

const small = 'pong\n';
const large = Buffer.concat([...chunksOf(64 * 1024, 64)]);

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://backend');
  arrived(req.headers['x-soak-id'], req.method ?? '?', url.pathname);
  const seed = Number(url.searchParams.get('seed') ?? 0);
  if (url.pathname === '/ping') return void res.writeHead(200, { 'content-type': 'text/plain', 'content-length': small.length }).end(small);
  if (url.pathname === '/assets/64k.bin') return void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': large.length }).end(large);
  if (url.pathname.startsWith('/stream/')) return void stream(res, Number(url.pathname.slice(8)), seed);
  if (url.pathname === '/sse') return void sse(res, Number(url.searchParams.get('n') ?? 10));
  if (url.pathname === '/slow') {
    // A long-poll: answered after a while, unless the process dies first.
    const timer = setTimeout(() => res.end('late\n'), Number(url.searchParams.get('ms') ?? 2000));
    res.once('close', () => clearTimeout(timer));
    return;
  }
  if (url.pathname === '/_upload' && req.method === 'POST') {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
    return;
  }
  res.writeHead(404).end('no such path\n');
});
server.keepAliveTimeout = 30_000;
server.requestTimeout = 0;

/** Chunked, a 64 KiB chunk at a time with a pause every MiB, so a kill often lands mid-body. */
function stream(res: http.ServerResponse, size: number, seed: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const chunks = chunksOf(size, seed);
  let sent = 0;
  const next = () => {
    for (;;) {
      const { done, value } = chunks.next();
      if (done) return void res.end();
      sent += value.length;
      const ok = res.write(value);
      if (sent % (1024 * 1024) === 0) return void setTimeout(next, 5);
      if (!ok) return void res.once('drain', next);
    }
  };
  res.once('close', () => chunks.return(undefined));
  next();
}

/** `n` events, one every 100 ms, then the stream ends. */
function sse(res: http.ServerResponse, n: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  let k = 0;
  const timer = setInterval(() => {
    res.write(`id: ${k}\ndata: ${k}\n\n`);
    if (++k === n) {
      clearInterval(timer);
      res.end();
    }
  }, 100);
  res.once('close', () => clearInterval(timer));
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  arrived(req.headers['x-soak-id'], 'UPGRADE', new URL(req.url ?? '/', 'http://backend').pathname);
  wss.handleUpgrade(req, socket as net.Socket, head, (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
});

const sockets = new Set<net.Socket>();
let goingDown = false;
const listener = net.createServer((socket) => {
  if (goingDown) return void socket.resetAndDestroy();
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
  socket.on('error', () => {});
  server.emit('connection', socket);
});
listener.listen(Number(portArg), '127.0.0.1', () => console.log('listening'));

process.on('SIGTERM', () => {
  goingDown = true;
  server.closeIdleConnections();
  for (const ws of wss.clients) ws.close(1012, 'backend restarting');
  setTimeout(() => {
    closeSync(log);
    process.exit(0);
  }, 1000);
});
