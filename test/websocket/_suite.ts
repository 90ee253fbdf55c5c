import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { io as ioClient, type Socket as SocketIoClient } from 'socket.io-client';
import { describe, it, beforeAll, afterAll } from 'vitest';
import WebSocket from 'ws';
import { startRouter, watchRss, type RouterProcess, type RssReport, type Runtime } from '../_helpers/router-process.ts';
import { MiB, patternChunks, patternSha256 } from '../_helpers/upstream.ts';
import { deferred, within } from '../_helpers/async.ts';
import {
  closeOf,
  connect,
  describeMessage,
  handshake,
  opened,
  Pump,
  settle,
  sha256,
  waitForStall,
  type ClientOptions,
  type Closed,
  type Message,
} from './_clients.ts';
import {
  closedPort,
  echo,
  sayHello,
  startSocketIoUpstream,
  startViteUpstream,
  startWsUpstream,
  VITE_MODULE,
  type Hello,
  type SocketIoUpstream,
  type ViteUpstream,
  type WsUpstream,
} from './_upstreams.ts';

const MB = 1_000_000;
/** DESIGN §5: a side that cannot keep up gets backpressure, not unbounded memory. */
const RSS_GROWTH_LIMIT = 100 * MB;
/** How long the idle socket stays silent: longer than any runtime's default idle timeout (Bun 120 s). */
const IDLE_MS = 180_000;
/** Engine.IO holds a long-poll until its next ping: longer than Reflex's 25 s, so a poll outlives any 30 s idle cut. */
const PING_INTERVAL_MS = 35_000;

function routerArgs(frontend: string, backend: string, django: string): string[] {
  return [
    '--port', '0',
    '--host', '127.0.0.1',
    '--log', 'json',
    '--frontend', frontend,
    '--backend', backend,
    '--django', django,
    '--profile', 'split_dev',
    '--wait', '0',
  ];
}

/**
 * The WebSocket contract (DESIGN §5) through real rxroute processes:
 * - `router`: plain `ws` upstreams behind every owner, for the relay itself;
 * - `reflex`: the Reflex layout — a real Vite dev server, Socket.IO at /_event,
 *   and Django down;
 * - `pressure`: its own process for the backpressure tests, so its RSS belongs
 *   to one transfer.
 */
export function addTests(runtime: Runtime): void {
  describe(`rxroute WebSockets (${runtime})`, () => {
    let frontend: WsUpstream;
    let backend: WsUpstream;
    let django: WsUpstream;
    let socketIo: SocketIoUpstream;
    let vite: ViteUpstream;
    let router: RouterProcess;
    let reflex: RouterProcess;
    let pressure: RouterProcess;

    beforeAll(async () => {
      let downPort: number;
      [frontend, backend, django, socketIo, vite, downPort] = await Promise.all([
        startWsUpstream('frontend'),
        startWsUpstream('backend'),
        startWsUpstream('django'),
        startSocketIoUpstream({ pingIntervalMs: PING_INTERVAL_MS }),
        startViteUpstream(),
        closedPort(),
      ]);
      [router, reflex, pressure] = await Promise.all([
        startRouter(runtime, routerArgs(frontend.url, backend.url, django.url)),
        startRouter(runtime, routerArgs(vite.url, socketIo.url, `http://127.0.0.1:${downPort}`)),
        startRouter(runtime, routerArgs(frontend.url, backend.url, django.url)),
      ]);
    }, 60_000);

    afterAll(async () => {
      for (const [name, proc] of [['router', router], ['reflex', reflex], ['pressure', pressure]] as const) {
        // A router that complained (or crashed) says why here.
        if (proc?.stderr().trim()) console.log(`[${runtime}] ${name} stderr:\n${proc.stderr().trim()}`);
      }
      await Promise.all([router, reflex, pressure].map((proc) => proc?.stop()));
      await Promise.all([frontend, backend, django, socketIo, vite].map((upstream) => upstream?.close()));
    });

    /** `ws://` URL on the router's socket for `path`. */
    const wsUrl = (proc: RouterProcess, path: string) => `ws://127.0.0.1:${proc.port}${path}`;
    /** What a browser on http://localhost:PORT sends with every handshake. */
    const browser = (proc: RouterProcess, extra: ClientOptions = {}): ClientOptions => ({
      ...extra,
      headers: { host: `localhost:${proc.port}`, ...extra.headers },
      origin: `http://localhost:${proc.port}`,
    });

    // Every test owns its paths, so all of them run side by side and the
    // 3-minute idle test sets the wall time.
    describe('relay', { concurrent: true, timeout: 30_000 }, () => {
      describe('handshake: the upstream answers first', () => {
        it("gives the client the subprotocol the upstream picked (the last offered)", async ({ expect }) => {
          frontend.accept('/t/protocol-last', sayHello('frontend'), (offered) => offered.at(-1) ?? false);
          const { ws, inbox } = await connect(
            wsUrl(router, '/t/protocol-last'),
            browser(router, { protocols: ['chat.v1', 'chat.v2', 'chat.v3'] }),
          );
          const hello = parseHello(await inbox.nth(0, 5_000, 'no hello from the upstream'));
          ws.close();
          expect({ client: ws.protocol, offered: hello.offered, upstream: hello.protocol }).toEqual({
            client: 'chat.v3',
            offered: ['chat.v1', 'chat.v2', 'chat.v3'],
            upstream: 'chat.v3',
          });
        });

        it('answers with no subprotocol when none was offered', async ({ expect }) => {
          const { ws, inbox } = await connect(wsUrl(router, '/t/protocol-none'), browser(router));
          const hello = parseHello(await inbox.nth(0, 5_000, 'no hello from the upstream'));
          ws.close();
          expect({ client: ws.protocol, offered: hello.offered }).toEqual({ client: '', offered: [] });
        });

        for (const status of [400, 403, 404]) {
          it(`passes an upstream's ${status} refusal to the client, never an open-then-close`, async ({ expect }) => {
            const path = `/t/refuse-${status}`;
            frontend.refuse(path, status, `refused by the upstream with ${status}`, { 'x-refused-by': 'frontend' });
            const result = await within(handshake(wsUrl(router, path), browser(router)), 5_000, 'the handshake hung');
            if (result.opened) result.ws.close();
            expect(
              result.opened
                ? { opened: true }
                : { opened: false, status: result.status, body: result.body, refusedBy: result.headers['x-refused-by'] },
            ).toEqual({ opened: false, status, body: `refused by the upstream with ${status}`, refusedBy: 'frontend' });
          });
        }

        it('answers 502 when the upstream is down', async ({ expect }) => {
          const result = await within(handshake(wsUrl(reflex, '/api/ws'), browser(reflex)), 10_000, 'the handshake hung');
          if (result.opened) result.ws.close();
          const body = result.opened ? undefined : (JSON.parse(result.body) as { upstream?: string });
          expect({ opened: result.opened, status: result.opened ? 101 : result.status, upstream: body?.upstream }).toEqual({
            opened: false,
            status: 502,
            upstream: 'django',
          });
        });

        it('passes Cookie, Origin, Authorization, User-Agent, X-Forwarded-* and the query; keeps Host', async ({ expect }) => {
          const path = '/_event/?EIO=4&transport=websocket&token=a%2Fb&q=a+b%20c&empty=&u=%C3%A9';
          const host = `localhost:${router.port}`;
          const { ws, inbox } = await connect(wsUrl(router, path), {
            origin: `http://${host}`,
            headers: {
              host,
              cookie: 'csrftoken=abc123; sessionid=s3ss10n',
              authorization: 'Bearer t0k3n',
              'user-agent': 'Mozilla/5.0 (rxroute websocket test)',
            },
          });
          const hello = parseHello(await inbox.nth(0, 5_000, 'no hello from the upstream'));
          ws.close();
          const h = hello.headers;
          expect({
            upstream: hello.upstream,
            url: hello.url,
            host: h.host,
            cookie: h.cookie,
            origin: h.origin,
            authorization: h.authorization,
            userAgent: h['user-agent'],
            forwardedFor: h['x-forwarded-for'],
            forwardedHost: h['x-forwarded-host'],
            forwardedProto: h['x-forwarded-proto'],
          }).toEqual({
            upstream: 'backend',
            url: path,
            host,
            cookie: 'csrftoken=abc123; sessionid=s3ss10n',
            origin: `http://${host}`,
            authorization: 'Bearer t0k3n',
            userAgent: 'Mozilla/5.0 (rxroute websocket test)',
            forwardedFor: '127.0.0.1',
            forwardedHost: host,
            forwardedProto: 'http',
          });
        });

        const routes: Array<[path: string, owner: string]> = [
          ['/', 'frontend'],
          ['/t/hmr-like?token=x', 'frontend'],
          ['/_event/?EIO=4&transport=websocket', 'backend'],
          ['/admin/ws', 'django'],
          ['/api/ws/chat', 'django'],
          ['/static/ws', 'django'],
          ['/media/ws', 'django'],
        ];
        for (const [path, owner] of routes) {
          it(`relays a WebSocket on ${path} to ${owner}`, async ({ expect }) => {
            const { ws, inbox } = await connect(wsUrl(router, path), browser(router));
            const hello = parseHello(await inbox.nth(0, 5_000, 'no hello from the upstream'));
            ws.close();
            expect({ upstream: hello.upstream, url: hello.url }).toEqual({ upstream: owner, url: path });
          });
        }
      });

      describe('frames', () => {
        it('keeps the type, bytes and order of 1,000 interleaved text and binary messages, both ways', async ({ expect }) => {
          frontend.accept('/t/echo-order', echo);
          const sent = orderedMessages(1_000);
          const { ws, inbox } = await connect(wsUrl(router, '/t/echo-order'), browser(router));
          // In rounds of 20 (at most 1.4 MB), so this checks order, not how
          // much the relay will queue (the burst tests below do that).
          for (let start = 0; start < sent.length; start += 20) {
            for (const message of sent.slice(start, start + 20)) ws.send(message.data, { binary: message.binary });
            await inbox.nth(Math.min(start + 20, sent.length) - 1, 10_000, `not all of messages ${start}… came back`);
          }
          ws.close();
          const lines = (messages: Message[]) => messages.map((m, i) => describeMessage(i, m.binary, m.data));
          expect(lines(inbox.messages)).toEqual(lines(sent));
        });

        it("sends exactly a message's bytes when it is a view into a larger buffer", async ({ expect }) => {
          const backing = randomBytes(64 * 1024);
          const views = [backing.subarray(3, 1003), ...Array.from({ length: 100 }, (_, i) => backing.subarray(2000 + i * 97, 2000 + i * 97 + 10 + i))];
          frontend.accept('/t/views', (ws, req) => {
            // One TCP write for all of them, so the router's parser hands the
            // relay each message as a view into one shared chunk.
            req.socket.cork();
            for (const view of views) ws.send(view, { binary: true });
            ws.send('end');
            process.nextTick(() => req.socket.uncork());
          });
          const { ws, inbox } = await connect(wsUrl(router, '/t/views'), browser(router));
          await inbox.nth(views.length, 5_000, 'not every view arrived');
          ws.close();
          const lines = (messages: Message[]) => messages.map((m, i) => describeMessage(i, m.binary, m.data));
          expect(lines(inbox.messages)).toEqual(lines([...views.map((data) => ({ binary: true, data })), { binary: false, data: Buffer.from('end') }]));
        });

        it('relays 16 MiB sent in a burst of 1 MiB messages to an upstream that reads', async ({ expect }) => {
          frontend.accept('/t/echo-burst', echo);
          const { ws, inbox } = await connect(wsUrl(router, '/t/echo-burst'), browser(router));
          const sent = [...patternChunks(16 * MiB)];
          for (const chunk of sent) ws.send(chunk, { binary: true });
          await inbox.nth(sent.length - 1, 20_000, `not all ${sent.length} messages came back`).catch(() => {});
          const got = {
            messages: inbox.messages.length,
            sha256: sha256(Buffer.concat(inbox.messages.map((m) => m.data))),
            closed: inbox.closedWith,
          };
          ws.close();
          expect(got).toEqual({ messages: sent.length, sha256: patternSha256(16 * MiB), closed: undefined });
        });

        it('relays a 15 MiB message each way (just under the 16 MiB message limit)', async ({ expect }) => {
          frontend.accept('/t/echo-large', echo);
          const large = randomBytes(15 * MiB);
          const { ws, inbox } = await connect(wsUrl(router, '/t/echo-large'), browser(router));
          ws.send(large, { binary: true });
          const back = await inbox.nth(0, 20_000, 'the 15 MiB message did not come back');
          ws.close();
          expect({ binary: back.binary, length: back.data.length, sha256: sha256(back.data) }).toEqual({
            binary: true,
            length: large.length,
            sha256: sha256(large),
          });
        });
      });

      describe('close codes', () => {
        const longReason = `${'é'.repeat(61)}x`; // 123 bytes of UTF-8, the most a close frame carries
        const upstreamCloses: Array<[code: number, reason: string]> = [
          [1000, 'done'],
          [1001, 'going away'],
          [1008, 'policy violation'],
          [1011, 'server error'],
          [4002, 'srv'],
          [4003, longReason],
        ];
        for (const [code, reason] of upstreamCloses) {
          it(`passes the upstream's close ${code} ${reason.slice(0, 12)} to the client`, async ({ expect }) => {
            const path = `/t/upstream-closes-${code}`;
            frontend.accept(path, (ws) => ws.once('message', () => ws.close(code, reason)));
            const { ws, inbox } = await connect(wsUrl(router, path), browser(router));
            ws.send('close now');
            const closed = await inbox.closed(5_000, 'the client saw no close after the upstream closed');
            expect({ ...closed, errors: errorsOf(inbox.errors) }).toEqual({ code, reason, errors: [] });
          });
        }

        it('turns an upstream close with no status (1005) into 1000', async ({ expect }) => {
          frontend.accept('/t/upstream-closes-bare', (ws) => ws.once('message', () => ws.close()));
          const { ws, inbox } = await connect(wsUrl(router, '/t/upstream-closes-bare'), browser(router));
          ws.send('close now');
          const closed = await inbox.closed(5_000, 'the client saw no close after the upstream closed');
          expect({ ...closed, errors: errorsOf(inbox.errors) }).toEqual({ code: 1000, reason: '', errors: [] });
        });

        it('sends 1012 (service restart) when the upstream vanishes without a close frame (1006 is never sent)', async ({ expect }) => {
          frontend.accept('/t/upstream-vanishes', (ws) => ws.once('message', () => ws.terminate()));
          const { ws, inbox } = await connect(wsUrl(router, '/t/upstream-vanishes'), browser(router));
          ws.send('vanish now');
          const closed = await inbox.closed(5_000, 'the client saw no close after the upstream vanished');
          expect({ code: closed.code, errors: errorsOf(inbox.errors) }).toEqual({ code: 1012, errors: [] });
        });

        it('delivers what the upstream sent right after the 101, then its close', async ({ expect }) => {
          frontend.accept('/t/upstream-closes-early', (ws) => {
            ws.send('first words');
            ws.close(4004, 'early');
          });
          const { inbox } = await connect(wsUrl(router, '/t/upstream-closes-early'), browser(router));
          const closed = await inbox.closed(5_000, 'the client saw no close after the upstream closed');
          expect({
            messages: inbox.messages.map((m) => m.data.toString()),
            ...closed,
            errors: errorsOf(inbox.errors),
          }).toEqual({ messages: ['first words'], code: 4004, reason: 'early', errors: [] });
        });

        const clientCloses: Array<[code: number | undefined, reason: string, seen: Closed]> = [
          [4001, 'bye', { code: 4001, reason: 'bye' }],
          [1001, 'navigating away', { code: 1001, reason: 'navigating away' }],
          [1000, '', { code: 1000, reason: '' }],
          // A close frame with no status is reported as 1005, which must not be sent on.
          [undefined, '', { code: 1000, reason: '' }],
        ];
        for (const [code, reason, seen] of clientCloses) {
          it(`passes the client's close ${code ?? '(no status)'} ${reason} to the upstream as ${seen.code}`, async ({ expect }) => {
            const path = `/t/client-closes-${code ?? 'bare'}`;
            const upstreamSaw = deferred<Closed>();
            frontend.accept(path, (ws) => ws.on('close', (c: number, r: Buffer) => upstreamSaw.resolve({ code: c, reason: r.toString() })));
            const { ws } = await connect(wsUrl(router, path), browser(router));
            if (code === undefined) ws.close();
            else ws.close(code, reason);
            expect(await within(upstreamSaw.promise, 5_000, 'the upstream saw no close after the client closed')).toEqual(seen);
          });
        }

        it('closes the upstream with 1011 when the client vanishes without a close frame', async ({ expect }) => {
          const upstreamSaw = deferred<Closed>();
          frontend.accept('/t/client-vanishes', (ws) =>
            ws.on('close', (c: number, r: Buffer) => upstreamSaw.resolve({ code: c, reason: r.toString() })),
          );
          const { ws } = await connect(wsUrl(router, '/t/client-vanishes'), browser(router));
          ws.terminate();
          const seen = await within(upstreamSaw.promise, 5_000, 'the upstream socket stayed open after the client vanished');
          expect(seen.code).toBe(1011);
        });
      });

      describe('idle sockets', () => {
        it('keeps a socket silent for 3 minutes open, and it still carries messages', { timeout: IDLE_MS + 30_000 }, async ({ expect }) => {
          let upstreamClosed: Closed | undefined;
          frontend.accept('/t/idle', (ws) => {
            echo(ws);
            ws.on('close', (code: number, reason: Buffer) => (upstreamClosed = { code, reason: reason.toString() }));
          });
          const { ws, inbox } = await connect(wsUrl(router, '/t/idle'), browser(router));
          await delay(IDLE_MS);
          const afterSilence = { clientOpen: ws.readyState === WebSocket.OPEN, upstreamClosed };
          ws.send('still there?');
          const back = await inbox.nth(0, 5_000, 'no echo after 3 minutes of silence');
          ws.close();
          expect({ ...afterSilence, echoed: back.data.toString() }).toEqual({
            clientOpen: true,
            upstreamClosed: undefined,
            echoed: 'still there?',
          });
        });
      });

      // Sequential, on their own router process, so each RSS figure belongs to one transfer.
      describe('backpressure', { concurrent: false, timeout: 240_000 }, () => {
        it('holds back an upstream pushing 500 MiB to a client that stopped reading', async ({ expect }) => {
          const total = 500 * MiB;
          const pushing = deferred<Pump>();
          frontend.accept('/t/push', (ws) => ws.once('message', () => pushing.resolve(new Pump(ws, total))));
          const rss = watchRss(pressure.rssBytes);
          const client = new WebSocket(wsUrl(pressure, '/t/push'), browser(pressure));
          const received = { messages: 0, bytes: 0, notBinary: 0, wrongSize: 0 };
          const hash = createHash('sha256');
          client.on('message', (data: Buffer, isBinary: boolean) => {
            received.messages++;
            received.bytes += data.length;
            if (!isBinary) received.notBinary++;
            if (data.length !== MiB) received.wrongSize++;
            hash.update(data);
          });
          const clientClosed = closeOf(client);
          await opened(client);
          client.pause();
          client.send('go');
          const pump = await within(pushing.promise, 5_000, 'the upstream never got the go');
          const stall = await waitForStall(pump, () => clientClosed.closed !== undefined, 120_000);
          const stalled = rss.stop();
          console.log(
            `[${runtime}] stalled reader: upstream ${stall} after ${mb(pump.acked)} MB of ${mb(total)} MB; router ${describeRss(stalled)}`,
          );
          expect.soft(stall, 'the upstream was not held back while the client was not reading').toBe('blocked');
          expect.soft(stalled.growthBytes, 'router RSS growth while the reader stalled').toBeLessThan(RSS_GROWTH_LIMIT);

          const draining = watchRss(pressure.rssBytes);
          const started = performance.now();
          client.resume();
          await settle(() => received.messages, total / MiB, () => clientClosed.closed !== undefined, 20_000);
          const seconds = (performance.now() - started) / 1000;
          // Reported, not asserted: a runtime's GC working set at full speed
          // (flat, but ~105 MB on Deno, which is no measure of buffering).
          const drained = draining.stop();
          client.close();
          console.log(
            `[${runtime}] stalled reader resumed: ${received.messages} messages, ${mb(received.bytes)} MB in ${seconds.toFixed(1)} s; router ${describeRss(drained)} while draining`,
          );
          expect.soft({ ...received, sha256: hash.digest('hex'), closed: clientClosed.closed }).toEqual({
            messages: total / MiB,
            bytes: total,
            notBinary: 0,
            wrongSize: 0,
            sha256: patternSha256(total),
            closed: undefined,
          });
        });

        it('bounds memory for a client pushing 300 MiB to an upstream that stopped reading', async ({ expect }) => {
          const total = 300 * MiB;
          const upstream = { messages: 0, bytes: 0, hash: createHash('sha256'), ws: undefined as WebSocket | undefined };
          frontend.accept('/t/sink-stalled', (ws) => {
            upstream.ws = ws;
            ws.pause();
            ws.on('message', (data: Buffer) => {
              upstream.messages++;
              upstream.bytes += data.length;
              upstream.hash.update(data);
            });
          });
          const rss = watchRss(pressure.rssBytes);
          const client = new WebSocket(wsUrl(pressure, '/t/sink-stalled'), browser(pressure));
          const clientClosed = closeOf(client);
          await opened(client);
          const pump = new Pump(client, total);
          const stall = await waitForStall(pump, () => clientClosed.closed !== undefined, 120_000);
          const stalled = rss.stop();
          // Bun keeps reading (and discarding) after its 1013 close frame until
          // the handshake completes, so every send can complete just before
          // the close arrives: wait a moment for it before calling it finished.
          if (stall === 'finished') {
            for (let i = 0; i < 50 && clientClosed.closed === undefined; i++) await new Promise((r) => setTimeout(r, 100));
          }
          const outcome = clientClosed.closed !== undefined ? `closed ${clientClosed.closed.code}` : stall;
          console.log(
            `[${runtime}] stalled upstream: client ${outcome} after ${mb(pump.acked)} MB of ${mb(total)} MB; router ${describeRss(stalled)}`,
          );
          expect.soft(stalled.growthBytes, 'router RSS growth while the upstream stalled').toBeLessThan(RSS_GROWTH_LIMIT);
          // Node pauses the client's socket; Bun and Deno cannot, and close with
          // 1013 (try again later) once 16 MiB are queued. Their server sockets
          // may close TCP right after the close frame while this client is still
          // writing, so the client may only see the reset (1006). Either way the
          // socket is closed and the RSS bound above holds.
          const accepted = runtime === 'node' ? ['blocked', 'closed 1013'] : ['blocked', 'closed 1013', 'closed 1006'];
          expect.soft(accepted, 'neither held back nor told to back off').toContain(outcome);
          if (outcome !== 'blocked') return;
          upstream.ws?.resume();
          await settle(() => upstream.messages, total / MiB, () => clientClosed.closed !== undefined, 20_000);
          client.close();
          expect.soft({ messages: upstream.messages, bytes: upstream.bytes, sha256: upstream.hash.digest('hex') }).toEqual({
            messages: total / MiB,
            bytes: total,
            sha256: patternSha256(total),
          });
        });
      });

      describe('Socket.IO at /_event (the Reflex backend)', () => {
        it('survives a long-poll held over 30 s, with every request in one session', { timeout: PING_INTERVAL_MS + 30_000 }, async ({ expect }) => {
          const client = ioClient(reflex.url, {
            path: '/_event',
            transports: ['polling'],
            query: { test: 'polling' },
            reconnection: false,
            forceNew: true,
          });
          try {
            const disconnects: string[] = [];
            client.on('disconnect', (reason) => disconnects.push(reason));
            await socketIoConnected(client);
            const id = client.id;
            const echo = (n: number) => client.timeout(5_000).emitWithAck('echo', n) as Promise<number>;
            const before = await Promise.all([1, 2, 3].map(echo));
            // The server holds the next poll until its ping, PING_INTERVAL_MS after the handshake.
            await within(new Promise<void>((resolve) => client.io.once('ping', resolve)), PING_INTERVAL_MS + 15_000, 'no Engine.IO ping arrived');
            const after = await Promise.all([4, 5, 6].map(echo));
            const connections = socketIo.connections('polling');
            const requests = socketIo.requests.filter((r) => r.test === 'polling' && r.sid !== null);
            const polls = requests.filter((r) => r.method === 'GET' && r.endedAt !== undefined);
            const longestPollMs = Math.max(0, ...polls.map((r) => (r.endedAt ?? 0) - r.startedAt));
            console.log(`[${runtime}] socket.io polling: longest poll held ${(longestPollMs / 1000).toFixed(1)} s`);
            expect({
              before,
              after,
              // Copies: the client is closed before the report is printed.
              disconnects: [...disconnects],
              sameId: client.id === id,
              connections: connections.length,
              transport: connections[0]?.transport,
              events: [...(connections[0]?.events ?? [])],
              sessions: [...new Set(requests.map((r) => r.sid))],
              statuses: [...new Set(requests.filter((r) => r.status !== undefined).map((r) => `${r.method} ${r.status}`))].sort(),
              heldAtLeast30s: longestPollMs >= 30_000,
            }).toEqual({
              before: [1, 2, 3],
              after: [4, 5, 6],
              disconnects: [],
              sameId: true,
              connections: 1,
              transport: 'polling',
              events: [1, 2, 3, 4, 5, 6],
              sessions: [connections[0]?.sid],
              statuses: ['GET 200', 'POST 200'],
              heldAtLeast30s: true,
            });
          } finally {
            client.close();
          }
        });

        it('carries 10,000 events in order over a WebSocket offering protocol 0.9.0, with the cookie', async ({ expect }) => {
          const host = `localhost:${reflex.port}`;
          const client = ioClient(reflex.url, {
            path: '/_event',
            transports: ['websocket'],
            protocols: ['0.9.0'],
            // Browsers send the page's cookies and Origin themselves; the Node client needs them spelled out.
            extraHeaders: { host, origin: `http://${host}`, cookie: 'csrftoken=abc123; sessionid=s3ss10n' },
            query: { test: 'websocket' },
            reconnection: false,
            forceNew: true,
          });
          try {
            const count = 10_000;
            const received: number[] = [];
            const all = deferred<void>();
            client.on('echoed', (n: number) => {
              received.push(n);
              if (received.length === count) all.resolve();
            });
            // `ws` fails the handshake when the answer names no protocol, so connecting proves 0.9.0 came back.
            await socketIoConnected(client);
            for (let n = 0; n < count; n++) client.emit('echo', n);
            await within(all.promise, 30_000, `only ${received.length} of ${count} events came back`).catch(() => {});
            const [connection] = socketIo.connections('websocket');
            expect({
              received: received.length,
              firstOutOfOrder: received.findIndex((n, i) => n !== i),
              transport: connection?.transport,
              protocol: connection?.headers['sec-websocket-protocol'],
              cookie: connection?.headers.cookie,
              host: connection?.headers.host,
            }).toEqual({
              received: count,
              firstOutOfOrder: -1,
              transport: 'websocket',
              protocol: '0.9.0',
              cookie: 'csrftoken=abc123; sessionid=s3ss10n',
              host,
            });
          } finally {
            client.close();
          }
        });
      });

      describe('Vite HMR (the frontend)', () => {
        let token: Promise<string> | undefined;
        /** Vite 6+ accepts the HMR socket only with the token its client carries, served through the router. */
        const viteToken = () =>
          (token ??= fetch(`${reflex.url}/@vite/client`).then(async (res) => {
            const source = await res.text();
            const literal = /const wsToken = ("[^"]*");/.exec(source)?.[1];
            if (res.status !== 200 || !literal) throw new Error(`no wsToken in /@vite/client (${res.status}): ${source.slice(0, 300)}`);
            return JSON.parse(literal) as string;
          }));

        it('relays the HMR socket: connected, then an update when the module changes on disk', async ({ expect }) => {
          // Vite sends HMR updates only for modules it has served.
          const served = await fetch(`${reflex.url}${VITE_MODULE}`);
          await served.text();
          const { ws, inbox } = await connect(
            wsUrl(reflex, `/?token=${await viteToken()}`),
            browser(reflex, { protocols: ['vite-hmr'] }),
          );
          try {
            const connected = JSON.parse((await inbox.nth(0, 5_000, 'Vite sent no "connected"')).data.toString()) as unknown;
            // The watcher may not be ready at the first write; edit until an update comes through.
            let update: { type?: string; updates?: Array<{ type?: string; path?: string }> } | undefined;
            for (let version = 1; !update && version <= 10; version++) {
              vite.editModule(version);
              update = await inbox.nth(1, 2_000, 'no HMR message yet').then(
                (m) => JSON.parse(m.data.toString()) as typeof update,
                () => undefined,
              );
            }
            expect({
              status: served.status,
              protocol: ws.protocol,
              connected,
              update: update && { type: update.type, updates: update.updates?.map((u) => ({ type: u.type, path: u.path })) },
            }).toEqual({
              status: 200,
              protocol: 'vite-hmr',
              connected: { type: 'connected' },
              update: { type: 'update', updates: [{ type: 'js-update', path: VITE_MODULE }] },
            });
          } finally {
            ws.close();
          }
        });

        it("passes Vite's 400 for an HMR socket without its token", async ({ expect }) => {
          const result = await handshake(wsUrl(reflex, '/?token=wrong'), browser(reflex, { protocols: ['vite-hmr'] }));
          if (result.opened) result.ws.close();
          expect({ opened: result.opened, status: result.opened ? 101 : result.status }).toEqual({ opened: false, status: 400 });
        });

        it('relays a vite-ping socket: accepted with its protocol, then closed 1000', async ({ expect }) => {
          const result = await handshake(wsUrl(reflex, '/'), browser(reflex, { protocols: ['vite-ping'] }));
          if (!result.opened) throw new Error(`vite-ping was refused with ${result.status}: ${result.body}`);
          const closed = await result.inbox.closed(5_000, 'Vite did not close the ping socket');
          expect({ protocol: result.ws.protocol, code: closed.code, errors: errorsOf(result.inbox.errors) }).toEqual({
            protocol: 'vite-ping',
            code: 1000,
            errors: [],
          });
        });
      });
    });
  });
}

function parseHello(message: Message): Hello {
  return JSON.parse(message.data.toString()) as Hello;
}

function errorsOf(errors: Error[]): string[] {
  return errors.map((error) => error.message);
}

/**
 * An empty text and an empty binary message, then `count` messages of both
 * types in a seeded order, sized across the 7-, 16- and 64-bit frame lengths,
 * each carrying its sequence number.
 */
function orderedMessages(count: number): Message[] {
  const sizes = [1, 125, 126, 1_000, 65_535, 65_536, 70_000];
  const messages: Message[] = [
    { binary: false, data: Buffer.alloc(0) },
    { binary: true, data: Buffer.alloc(0) },
  ];
  let x = 0x2545f491;
  for (let seq = 0; seq < count; seq++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const size = sizes[(x >>> 0) % sizes.length] ?? 1;
    const binary = (x & 0x100) !== 0;
    if (binary) {
      const data = randomBytes(Math.max(size, 4));
      data.writeUInt32BE(seq, 0);
      messages.push({ binary, data });
    } else {
      const head = `${seq}:é✓:`;
      messages.push({ binary, data: Buffer.from(head + 'x'.repeat(Math.max(0, size - Buffer.byteLength(head)))) });
    }
  }
  return messages;
}

function socketIoConnected(client: SocketIoClient): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('connect_error', reject);
    }),
    10_000,
    'the Socket.IO client did not connect',
  );
}

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1);
}

function describeRss({ baselineBytes, peakBytes, growthBytes }: RssReport): string {
  return `rss growth ${mb(growthBytes)} MB (${mb(baselineBytes)} → ${mb(peakBytes)} MB)`;
}
