import { createHash, X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import https from 'node:https';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ClientHttp2Session } from 'node:http2';
import WebSocket from 'ws';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { deferred, within } from '../_helpers/async.ts';
import { startRouter, watchRss, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { h2Connect, h2Request, negotiate, readCa, tempDataDir } from '../_helpers/tls.ts';
import { MiB, patternChunks, patternSha256, startUpstream, writeRespectingBackpressure, type Echo, type SinkReport, type Upstream } from '../_helpers/upstream.ts';
import { startWsUpstream, type Hello, type WsUpstream } from '../websocket/_upstreams.ts';

const GiB = 1024 * MiB;
const MB = 1_000_000;
/** DESIGN §3 over TLS: memory stays flat whatever the body size. */
const rssGrowthLimit = 100 * MB;

/**
 * DESIGN §11 through a real rxroute process started with --https: the
 * generated CA as the only trust root, ALPN both ways, §3–§7 over h2 and
 * over HTTP/1.1 on TLS, wss relay.
 */
export function addTlsTests(runtime: Runtime): void {
  describe(`rxroute --https (${runtime})`, () => {
    let frontend: Upstream;
    let ws: WsUpstream;
    let router: RouterProcess;
    let dataDir: string;
    let ca: string;
    let session: ClientHttp2Session;
    let backendPort: number;
    let host: string;

    beforeAll(async () => {
      [frontend, ws] = await Promise.all([startUpstream('frontend'), startWsUpstream('backend')]);
      // A port nobody listens on yet: the restart test brings a backend up there.
      backendPort = await freePort();
      dataDir = tempDataDir();
      router = await startRouter(
        runtime,
        [
          '--https',
          '--port', '0',
          '--host', '127.0.0.1',
          '--log', 'json',
          '--frontend', frontend.url,
          '--backend', `http://127.0.0.1:${backendPort}`,
          '--django', ws.url,
          '--profile', 'split_dev',
          '--allowed-host', 'myapp.test',
          '--wait', '10000',
        ],
        { env: { RXROUTE_DATA_DIR: dataDir } },
      );
      ca = readCa(dataDir);
      host = `localhost:${router.port}`;
      session = await h2Connect(router.port, ca);
    });

    afterAll(async () => {
      session?.close();
      await router?.stop();
      await Promise.all([frontend?.close(), ws?.close()]);
    });

    describe('certificates', () => {
      it('listens on https:// and says h2 is offered', () => {
        const line = router.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'listening');
        expect({ url: router.url.slice(0, 8), tls: (line?.tls as { http2?: boolean })?.http2 }).toEqual({ url: 'https://', tls: true });
      });

      it('keeps the CA key private (0600) in RXROUTE_DATA_DIR', () => {
        expect((statSync(join(dataDir, 'ca-key.pem')).mode & 0o777).toString(8)).toBe('600');
        expect((statSync(join(dataDir, 'localhost-key.pem')).mode & 0o777).toString(8)).toBe('600');
      });

      it('serves a leaf for the loopback names and allowed_hosts, issued by the CA', async () => {
        const { peer, authorized } = await negotiate(router.port, ca, ['http/1.1']);
        const leaf = new X509Certificate(peer.raw);
        const root = new X509Certificate(ca);
        expect({
          authorized,
          caIsCa: root.ca,
          issuedByCa: leaf.checkIssued(root) && leaf.verify(root.publicKey),
          san: leaf.subjectAltName?.split(', ').sort(),
          daysLeft: Math.round((Date.parse(leaf.validTo) - Date.now()) / 86_400_000),
        }).toEqual({
          authorized: true,
          caIsCa: true,
          issuedByCa: true,
          san: ['DNS:*.localhost', 'DNS:localhost', 'DNS:myapp.test', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1'],
          daysLeft: 397,
        });
      });
    });

    describe('protocols', () => {
      it('negotiates h2 when offered, http/1.1 otherwise', async () => {
        expect({
          both: (await negotiate(router.port, ca, ['h2', 'http/1.1'])).alpn,
          h1: (await negotiate(router.port, ca, ['http/1.1'])).alpn,
        }).toEqual({ both: 'h2', h1: 'http/1.1' });
      });

      it('does not announce extended CONNECT (RFC 8441), so browsers open WebSockets over HTTP/1.1', () => {
        expect(session.remoteSettings.enableConnectProtocol).toBe(false);
      });

      it('answers plain https (HTTP/1.1) with only the CA trusted', async () => {
        const res = await httpsGet(router.port, ca, '/hello?x=1');
        const echo = JSON.parse(res.body) as Echo;
        expect({ status: res.status, url: echo.url, host: echo.headers.host, proto: echo.headers['x-forwarded-proto'] }).toEqual({
          status: 200,
          url: '/hello?x=1',
          host,
          proto: 'https',
        });
      });
    });

    describe('proxying over h2 (DESIGN §3)', () => {
      it('keeps Host (from :authority) and sends X-Forwarded-Proto: https', async () => {
        const res = await h2Request(session, { ':path': '/app/page?q=%2F', ':authority': host });
        const echo = JSON.parse(res.body.toString()) as Echo;
        expect({
          status: res.status,
          url: echo.url,
          host: echo.headers.host,
          proto: echo.headers['x-forwarded-proto'],
          forwardedHost: echo.headers['x-forwarded-host'],
          forwardedFor: echo.headers['x-forwarded-for'],
        }).toEqual({ status: 200, url: '/app/page?q=%2F', host, proto: 'https', forwardedHost: host, forwardedFor: '127.0.0.1' });
      });

      it('refuses an unknown Host over h2 too (DNS-rebinding guard)', async () => {
        const res = await h2Request(session, { ':path': '/', ':authority': `evil.example:${router.port}` });
        expect(res.status).toBe(403);
      });

      it('passes a POST body with its Content-Length', async () => {
        const body = Buffer.from('name=rxroute&'.repeat(1000));
        const res = await h2Request(session, { ':method': 'POST', ':path': '/form', 'content-length': String(body.length), 'content-type': 'application/x-www-form-urlencoded' }, (s) => {
          s.end(body);
        });
        const echo = JSON.parse(res.body.toString()) as Echo;
        expect({ length: echo.headers['content-length'], sha: echo.bodySha256 }).toEqual({
          length: String(body.length),
          sha: createHash('sha256').update(body).digest('hex'),
        });
      });

      it('rewrites a Location on an upstream origin to the https origin', async () => {
        frontend.handle('/t/redirect', (_req, res) => {
          res.writeHead(302, { location: `${frontend.url}/next?a=1` });
          res.end();
        });
        const res = await h2Request(session, { ':path': '/t/redirect', ':authority': host });
        expect({ status: res.status, location: res.headers.location }).toEqual({ status: 302, location: `https://${host}/next?a=1` });
      });

      it('delivers a server-sent event while the upstream holds back the next, and survives 12 s of quiet', { timeout: 30_000 }, async () => {
        frontend.handle('/t/sse', (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write('data: first\n\n');
          const timer = setTimeout(() => res.end('data: second\n\n'), 12_000);
          res.on('close', () => clearTimeout(timer));
        });
        const first = deferred<number>();
        const started = Date.now();
        const stream = session.request({ ':path': '/t/sse', ':authority': host });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('data: first')) first.resolve(Date.now() - started);
        });
        const ended = new Promise<void>((resolve, reject) => {
          stream.on('end', resolve);
          stream.on('error', reject);
        });
        const firstAfter = await within(first.promise, 5_000, 'the first event did not arrive over h2 while the upstream held the second');
        await ended;
        expect({ firstSoon: firstAfter < 3_000, text, quietFor: Date.now() - started >= 11_500 }).toEqual({
          firstSoon: true,
          text: 'data: first\n\ndata: second\n\n',
          quietFor: true,
        });
      });

      it('answers a held long-poll when the upstream does, and cancels the upstream when the client resets the stream', { timeout: 30_000 }, async () => {
        const arrived = deferred<void>();
        const upstreamClosed = deferred<void>();
        let answer: (() => void) | undefined;
        frontend.handle('/t/poll', (req, res) => {
          req.resume();
          arrived.resolve();
          answer = () => res.end('42["event"]');
          res.on('close', () => upstreamClosed.resolve());
        });
        // A Socket.IO poll: held 3 s, then answered.
        const held = h2Request(session, { ':path': '/t/poll?EIO=4&transport=polling', ':authority': host });
        await within(arrived.promise, 5_000, 'the poll did not reach the upstream');
        await new Promise((r) => setTimeout(r, 3_000));
        answer!();
        const res = await within(held, 5_000, 'the answered poll did not reach the client');
        // The next poll is left by the client (a tab closed): RST_STREAM must reach the upstream.
        const nextArrived = deferred<void>();
        const nextClosed = deferred<void>();
        frontend.handle('/t/poll2', (req, res) => {
          req.resume();
          nextArrived.resolve();
          res.on('close', () => nextClosed.resolve());
        });
        const stream = session.request({ ':path': '/t/poll2', ':authority': host });
        stream.on('error', () => {});
        await within(nextArrived.promise, 5_000, 'the second poll did not reach the upstream');
        await new Promise((r) => setTimeout(r, 600));
        stream.close(0x8); // CANCEL
        await within(nextClosed.promise, 8_000, 'the upstream request stayed open after the h2 client cancelled its stream');
        expect({ status: res.status, body: res.body.toString() }).toEqual({ status: 200, body: '42["event"]' });
      });

      it('cancels the upstream when an h2 client resets a stream mid-body', async () => {
        const upstreamClosed = deferred<void>();
        frontend.handle('/t/endless', (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('tick\n');
          const ticks = setInterval(() => res.write('tick\n'), 50);
          res.on('close', () => {
            clearInterval(ticks);
            upstreamClosed.resolve();
          });
        });
        const stream = session.request({ ':path': '/t/endless', ':authority': host });
        stream.on('error', () => {});
        await within(new Promise((r) => stream.once('data', r)), 5_000, 'the first chunk of the endless stream did not arrive');
        stream.close(0x8); // CANCEL
        await within(upstreamClosed.promise, 8_000, 'the upstream response stayed open after the h2 client reset its stream');
      });

      it('never ends an h2 response cleanly when the upstream dies mid-body', async () => {
        frontend.handle('/t/dies', (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(4 * MiB) });
          res.write(Buffer.alloc(256 * 1024, 1));
          setTimeout(() => res.socket?.destroy(), 200);
        });
        const outcome = await within(
          new Promise<{ ended: boolean; bytes: number; rstCode: number | undefined }>((resolve) => {
            const stream = session.request({ ':path': '/t/dies', ':authority': host });
            let bytes = 0;
            let ended = false;
            stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
            stream.on('end', () => (ended = true));
            stream.on('error', () => {});
            stream.on('close', () => resolve({ ended, bytes, rstCode: stream.rstCode }));
          }),
          10_000,
          'the h2 stream neither ended nor was reset after the upstream died',
        );
        expect({ ended: outcome.ended, truncated: outcome.bytes < 4 * MiB, reset: (outcome.rstCode ?? 0) !== 0 }).toEqual({ ended: false, truncated: true, reset: true });
      });

      it('waits for a backend that is restarting, then answers (DESIGN §6)', { timeout: 30_000 }, async () => {
        const pending = h2Request(session, { ':path': '/ping', ':authority': host });
        await new Promise((r) => setTimeout(r, 700));
        const backend = await listenOn(backendPort, (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('pong');
        });
        try {
          const res = await within(pending, 15_000, 'the request did not go through once the backend was up');
          expect({ status: res.status, body: res.body.toString() }).toEqual({ status: 200, body: 'pong' });
        } finally {
          await new Promise((r) => backend.close(r));
          backend.closeAllConnections();
        }
      });
    });

    describe('1 GiB bodies over TLS', { timeout: 240_000 }, () => {
      it('streams a 1 GiB upload over h2 with flat memory, and reports h2 vs HTTP/1.1 MB/s', async () => {
        const expected = patternSha256(GiB);
        const memory = watchRss(() => router.rssBytes());
        let started = performance.now();
        const res = await h2Request(session, { ':method': 'POST', ':path': '/sink', ':authority': host, 'content-length': String(GiB) }, async (s) => {
          await writeRespectingBackpressure(s, patternChunks(GiB));
          s.end();
        });
        const h2Seconds = (performance.now() - started) / 1000;
        const rss = memory.stop();
        const report = JSON.parse(res.body.toString()) as SinkReport;
        started = performance.now();
        const h1 = await httpsUpload(router.port, ca, '/sink', GiB);
        const h1Seconds = (performance.now() - started) / 1000;
        console.log(
          `[${runtime}] TLS upload 1 GiB: h2 ${(GiB / MB / h2Seconds).toFixed(0)} MB/s, HTTP/1.1 ${(GiB / MB / h1Seconds).toFixed(0)} MB/s; RSS growth over h2 ${(rss.growthBytes / MB).toFixed(0)} MB`,
        );
        expect({ report, h1: JSON.parse(h1) as SinkReport, flat: rss.growthBytes < rssGrowthLimit }).toEqual({
          report: { upstream: 'frontend', bytes: GiB, sha256: expected, contentLength: String(GiB), transferEncoding: null },
          h1: { upstream: 'frontend', bytes: GiB, sha256: expected, contentLength: String(GiB), transferEncoding: null },
          flat: true,
        });
      });

      it('streams a 1 GiB download over h2 with flat memory', async () => {
        const expected = patternSha256(GiB);
        const memory = watchRss(() => router.rssBytes());
        const started = performance.now();
        const got = await new Promise<{ status: number; bytes: number; sha: string }>((resolve, reject) => {
          const stream = session.request({ ':path': `/source/${GiB}`, ':authority': host });
          const hash = createHash('sha256');
          let bytes = 0;
          let status = 0;
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            hash.update(chunk);
          });
          stream.on('end', () => resolve({ status, bytes, sha: hash.digest('hex') }));
          stream.on('error', reject);
        });
        const rss = memory.stop();
        console.log(`[${runtime}] TLS h2 download 1 GiB: ${(GiB / MB / ((performance.now() - started) / 1000)).toFixed(0)} MB/s; RSS growth ${(rss.growthBytes / MB).toFixed(0)} MB`);
        expect({ ...got, flat: rss.growthBytes < rssGrowthLimit }).toEqual({ status: 200, bytes: GiB, sha: expected, flat: true });
      });
    });

    describe('wss (DESIGN §5 over TLS)', () => {
      it('relays a WebSocket over TLS with the subprotocol the upstream chose, Host and X-Forwarded-Proto', async () => {
        const client = new WebSocket(`wss://${host}/admin/ws`, ['vite-hmr', 'vite-ping'], { ca, origin: `https://${host}` });
        const messages: (string | Buffer)[] = [];
        const hello = deferred<void>();
        const echoed = deferred<void>();
        client.on('message', (data: Buffer, isBinary: boolean) => {
          messages.push(isBinary ? data : data.toString());
          if (messages.length === 1) hello.resolve();
          if (messages.length === 3) echoed.resolve();
        });
        await within(new Promise((resolve, reject) => { client.once('open', resolve); client.once('error', reject); }), 5_000, 'the wss handshake did not complete');
        await within(hello.promise, 5_000, 'no hello from the upstream');
        client.send('text frame');
        client.send(Buffer.from([0, 1, 2, 255]));
        await within(echoed.promise, 5_000, 'the frames did not come back');
        const first = JSON.parse(messages[0] as string) as Hello;
        const protocol = client.protocol;
        client.close(1000);
        expect({
          protocol,
          upstreamProtocol: first.protocol,
          host: first.headers.host,
          proto: first.headers['x-forwarded-proto'],
          echoes: messages.slice(1),
        }).toEqual({
          protocol: 'vite-hmr',
          upstreamProtocol: 'vite-hmr',
          host,
          proto: 'https',
          echoes: ['text frame', Buffer.from([0, 1, 2, 255])],
        });
      });
    });
  });
}

function httpsGet(port: number, ca: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', servername: 'localhost', port, path, ca, headers: { host: `localhost:${port}` }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function httpsUpload(port: number, ca: string, path: string, total: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', servername: 'localhost', port, path, method: 'POST', ca, agent: false, headers: { host: `localhost:${port}`, 'content-length': total } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    writeRespectingBackpressure(req, patternChunks(total)).then(() => req.end(), reject);
  });
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function listenOn(port: number, handler: http.RequestListener): Promise<Server> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

