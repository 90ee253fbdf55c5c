import { readFileSync } from 'node:fs';
import net, { type Socket } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type WebSocket from 'ws';
import { startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { within } from '../_helpers/async.ts';
import { healthStatus, parseResponses } from './_net.ts';
import { closeSocket, handshake, roundTrip, startEchoWsUpstream, type EchoWsUpstream } from './_ws.ts';

const IDLE_CONNECTIONS = 5_000;
const WEBSOCKETS = 500;
const MB = 1_000_000;
/** Generous: an idle keep-alive connection or relayed socket should cost kilobytes, not hundreds. */
const RSS_LIMIT = 500 * MB;
/** Test-process descriptors: the idle connections, both ends of every relayed WebSocket here, and slack. */
const FDS_NEEDED = IDLE_CONNECTIONS + 2 * WEBSOCKETS + 1_000;

/**
 * Resource exhaustion: thousands of clients that connect, ask once and then
 * sit idle, plus hundreds of open WebSockets, must not stop the router from
 * answering the next request, nor grow its memory without bound.
 */
export function addTests(runtime: Runtime): void {
  describe(`idle connections (${runtime})`, () => {
    let upstream: EchoWsUpstream;
    let router: RouterProcess;
    const idle: Socket[] = [];
    const sockets: WebSocket[] = [];

    beforeAll(async () => {
      upstream = await startEchoWsUpstream();
      router = await startRouter(runtime, [
        '--port', '0',
        '--host', '127.0.0.1',
        '--log', 'json',
        '--quiet',
        '--frontend', upstream.url,
        '--backend', upstream.url,
        '--wait', '0',
      ]);
    }, 40_000);

    afterAll(async () => {
      for (const socket of idle) socket.destroy();
      await Promise.all(sockets.map((ws) => closeSocket(ws)));
      await router?.stop();
      await upstream?.close();
    });

    it(`answers with ${IDLE_CONNECTIONS} idle keep-alive connections and ${WEBSOCKETS} open WebSockets`, { timeout: 120_000 }, async () => {
      const limit = openFileLimit();
      if (limit < FDS_NEEDED) {
        throw new Error(`this test needs ${FDS_NEEDED} file descriptors; ulimit -n is ${limit}`);
      }
      const baseline = router.rssBytes();

      // One complete request on each connection, then silence.
      for (let opened = 0; opened < IDLE_CONNECTIONS; ) {
        const batch = Math.min(250, IDLE_CONNECTIONS - opened);
        const made = await within(
          Promise.all(Array.from({ length: batch }, () => openIdleConnection(router.port))),
          30_000,
          `opening idle connections ${opened}…${opened + batch} stalled`,
        );
        idle.push(...made);
        opened += batch;
      }

      for (let opened = 0; opened < WEBSOCKETS; ) {
        const batch = Math.min(50, WEBSOCKETS - opened);
        const made = await within(
          Promise.all(
            Array.from({ length: batch }, async (_, i) => {
              const n = opened + i;
              const result = await handshake(`ws://127.0.0.1:${router.port}/ws/${n}`);
              if (!result.opened) throw new Error(`WebSocket ${n} refused with ${result.status}: ${result.body}`);
              sockets.push(result.ws);
              const echo = await roundTrip(result.ws, `open ${n}`);
              if (echo !== `open ${n}`) throw new Error(`WebSocket ${n} echoed ${JSON.stringify(echo)}`);
              return result.ws;
            }),
          ),
          30_000,
          `opening WebSockets ${opened}…${opened + batch} stalled`,
        );
        opened += made.length;
      }

      const rss = router.rssBytes();
      const stillOpen = idle.filter((socket) => !socket.destroyed && socket.readyState === 'open').length;
      const started = performance.now();
      const health = await healthStatus(router.port);
      const answerMs = performance.now() - started;
      // Every relayed socket still carries frames both ways.
      const echoes = await within(
        Promise.all(sockets.map((ws, n) => roundTrip(ws, `still there ${n}`, 15_000))),
        20_000,
        'the open WebSockets did not all echo',
      );
      console.log(
        `[${runtime}] ${IDLE_CONNECTIONS} idle + ${WEBSOCKETS} ws: rss ${(rss / MB).toFixed(1)} MB ` +
          `(baseline ${(baseline / MB).toFixed(1)} MB), ${stillOpen} idle connections still open, ` +
          `next request answered in ${answerMs.toFixed(0)} ms`,
      );

      expect({
        health,
        answeredWithin5s: answerMs < 5_000,
        echoesIntact: echoes.every((text, n) => text === `still there ${n}`),
        upstreamSockets: upstream.openSockets(),
      }).toEqual({ health: 200, answeredWithin5s: true, echoesIntact: true, upstreamSockets: WEBSOCKETS });
      expect(rss).toBeLessThan(RSS_LIMIT);
    });

    it('answers normally once they are all gone', async () => {
      for (const socket of idle.splice(0)) socket.destroy();
      await Promise.all(sockets.splice(0).map((ws) => closeSocket(ws)));
      expect(await healthStatus(router.port)).toBe(200);
    });
  });
}

/** Connects, sends one keep-alive request, waits for its whole answer, and returns the open socket. */
function openIdleConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const { responses } = parseResponses(received, { ended: false });
      if (responses.length === 0) return;
      socket.off('data', onData);
      if (responses[0]!.status !== 200) reject(new Error(`idle connection answered ${responses[0]!.status}`));
      else resolve(socket);
    };
    socket.on('data', onData);
    // After the answer: a close by the server is allowed, an error must not crash the test.
    socket.on('error', (error) => reject(error));
    socket.once('connect', () => socket.write('GET /__rxroute/health HTTP/1.1\r\nHost: localhost\r\n\r\n'));
  });
}

function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}
