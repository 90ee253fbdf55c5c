import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { freePort } from '../_helpers/tcp.ts';

/**
 * DESIGN §6: the Reflex backend restarts on every Python edit. A request
 * made while it is down waits (up to wait_ms) and is sent when it is back;
 * sockets relayed to it close with 1012 so Socket.IO reconnects.
 */

/** A backend that can be stopped and started again on the same port. */
class RestartingBackend {
  private server: http.Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<net.Socket>();
  constructor(readonly port: number) {}

  static async onFreePort(): Promise<RestartingBackend> {
    return new RestartingBackend(await freePort());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, contentLength: req.headers['content-length'] ?? null, body: Buffer.concat(chunks).toString() }));
      });
    });
    this.wss = new WebSocketServer({ server });
    this.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Like a killed process: every connection dropped, no close frames. */
  async kill(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.wss?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function addTests(runtime: Runtime): void {
  describe(`upstream restarts (${runtime})`, () => {
    let backend: RestartingBackend;
    let waiting: RouterProcess;
    let failFast: RouterProcess;
    let shortWait: RouterProcess;

    beforeAll(async () => {
      backend = await RestartingBackend.onFreePort();
      const args = (wait: string) => ['--port', '0', '--log', 'json', '--backend', backend.url, '--frontend', backend.url, '--wait', wait];
      [waiting, failFast, shortWait] = await Promise.all([
        startRouter(runtime, args('15000')),
        startRouter(runtime, args('0')),
        startRouter(runtime, args('700')),
      ]);
    }, 60_000);

    afterAll(async () => {
      await Promise.all([waiting, failFast, shortWait].map((r) => r?.stop()));
      await backend?.kill();
    });

    // One scenario in order: the backend is down, requests arrive, it comes back.
    it('holds requests while the backend is down and sends them when it is back', { timeout: 60_000 }, async () => {
      const base = waiting.url;
      const headers = { host: `localhost:${waiting.port}` };
      const started = performance.now();
      const get = fetch(`${base}/_event/?EIO=4&transport=polling&t=1`, { headers }).then(async (r) => ({ status: r.status, body: await r.json() }));
      const post = fetch(`${base}/_upload`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: 'x'.repeat(5000) }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
      const socket = new Promise<{ opened: boolean; echo: string }>((resolve) => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}/_event/?EIO=4&transport=websocket`, { headers });
        ws.once('open', () => ws.send('ping'));
        ws.once('message', (data) => {
          resolve({ opened: true, echo: String(data) });
          ws.close();
        });
        ws.once('unexpected-response', (_req, res) => resolve({ opened: false, echo: `status ${res.statusCode}` }));
        ws.once('error', (e) => resolve({ opened: false, echo: e.message }));
      });
      await sleep(1500);
      await backend.start();
      const [g, p, s] = await Promise.all([get, post, socket]);
      const waitedMs = performance.now() - started;
      console.log(`[${runtime}] restart: requests waited ${Math.round(waitedMs)} ms (backend down for 1500 ms), then got ${g.status}/${p.status}, socket ${s.opened ? 'open' : s.echo}`);
      expect(g).toEqual({ status: 200, body: expect.objectContaining({ method: 'GET', url: '/_event/?EIO=4&transport=polling&t=1' }) });
      // The body was not read while the backend was down, so it arrives whole, with its length.
      expect(p).toEqual({ status: 200, body: expect.objectContaining({ method: 'POST', contentLength: '5000', body: 'x'.repeat(5000) }) });
      expect(s).toEqual({ opened: true, echo: 'ping' });
      expect(waitedMs).toBeGreaterThanOrEqual(1500);
    });

    it('closes relayed sockets with 1012 when the backend dies, and they reconnect once it is back', { timeout: 60_000 }, async () => {
      const url = `${waiting.url.replace('http', 'ws')}/_event/?EIO=4&transport=websocket`;
      const headers = { host: `localhost:${waiting.port}` };
      const ws = new WebSocket(url, { headers });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      await backend.kill();
      expect(await closed).toBe(1012);
      const again = new Promise<string>((resolve, reject) => {
        const next = new WebSocket(url, { headers });
        next.once('open', () => next.send('back'));
        next.once('message', (data) => {
          resolve(String(data));
          next.close();
        });
        next.once('error', reject);
      });
      await sleep(500);
      await backend.start();
      expect(await again).toBe('back');
    });

    it('reports the backend down and up in /__rxroute/health', { timeout: 30_000 }, async () => {
      const health = async () => {
        const res = await fetch(`${waiting.url}/__rxroute/health`, { headers: { host: `localhost:${waiting.port}` } });
        const body = (await res.json()) as { upstreams: Array<{ target: string; up: boolean; since: string; latencyMs: number | null }> };
        return body.upstreams.find((u) => u.target === backend.url);
      };
      expect(await health()).toMatchObject({ up: true, latencyMs: expect.any(Number) });
      await backend.kill();
      const down = await health();
      expect(down).toMatchObject({ up: false });
      await backend.start();
      const up = await health();
      expect(up).toMatchObject({ up: true });
      expect(Date.parse(up!.since)).toBeGreaterThan(Date.parse(down!.since));
    });

    it('fails fast with --wait 0: 502 JSON naming the upstream and what to start', { timeout: 30_000 }, async () => {
      await backend.kill();
      try {
        const res = await fetch(`${failFast.url}/_event/?EIO=4`, { headers: { host: `localhost:${failFast.port}` } });
        expect(res.status).toBe(502);
        expect(await res.json()).toEqual({
          error: expect.stringContaining('refused'),
          upstream: 'backend',
          target: backend.url,
          hint: expect.stringContaining('reflex run --backend-only'),
        });
      } finally {
        await backend.start();
      }
    });

    it('answers 502 after the wait runs out, as a page for browsers', { timeout: 30_000 }, async () => {
      await backend.kill();
      try {
        const started = performance.now();
        const res = await fetch(`${shortWait.url}/admin/`, { headers: { host: `localhost:${shortWait.port}`, accept: 'text/html' } });
        const waited = performance.now() - started;
        const page = await res.text();
        expect(res.status).toBe(502);
        expect(res.headers.get('content-type')).toContain('text/html');
        expect(page).toContain('Upstream not reachable');
        expect(page).toContain(backend.url);
        expect(waited).toBeGreaterThanOrEqual(650);
      } finally {
        await backend.start();
      }
    });
  });
}
