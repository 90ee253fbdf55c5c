import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { within } from '../_helpers/async.ts';
import { startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { freePort } from '../_helpers/tcp.ts';
import { FlakyUpstream, StaleKeepAliveUpstream } from './_upstreams.ts';

/**
 * DESIGN §6's retry rule through the real router: an upstream going down
 * (accepting and resetting connections) is waited for like a refusal; a
 * request the upstream already received is never sent again, except the one
 * resend of a body-less request whose reused keep-alive connection closed.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function addTests(runtime: Runtime): void {
  describe(`retries (${runtime})`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      await Promise.all(cleanup.splice(0).map((f) => f()));
    });

    async function routerFor(upstreamUrl: string, wait = '15000'): Promise<RouterProcess> {
      const router = await startRouter(runtime, ['--port', '0', '--log', 'json', '--backend', upstreamUrl, '--frontend', upstreamUrl, '--wait', wait]);
      cleanup.push(() => router.stop());
      return router;
    }

    async function flaky(keepAlive = true): Promise<FlakyUpstream> {
      const upstream = new FlakyUpstream(await freePort(), keepAlive);
      await upstream.start();
      cleanup.push(() => upstream.kill());
      return upstream;
    }

    const send = async (router: RouterProcess, path: string, id: string, init: RequestInit = {}) => {
      const headers = { host: `localhost:${router.port}`, 'x-test-id': id, ...(init.headers as Record<string, string> | undefined) };
      try {
        const res = await fetch(`${router.url}${path}`, { ...init, headers });
        return { status: res.status, body: await res.text() };
      } catch (error) {
        // A response that ended abnormally (or never started) is what the client sees as a network error.
        return { status: 0, body: String((error as Error).cause ?? error) };
      }
    };

    it('waits for an upstream that accepts and resets every connection for 1.5 s: GET 200 and WebSocket 101, not 502', { timeout: 30_000 }, async () => {
      const upstream = await flaky();
      const router = await routerFor(upstream.url);
      // A warm keep-alive connection first, as a browser session has.
      expect((await send(router, '/ping', 'warm')).status).toBe(200);
      upstream.resetFor(1500);
      // Let the router see its pooled connection close, as it would during a real shutdown.
      await sleep(100);
      const started = performance.now();
      const get = send(router, '/ping', 'get-during-reset');
      const socket = new Promise<{ opened: boolean; echo: string }>((resolve) => {
        const ws = new WebSocket(`${router.url.replace('http', 'ws')}/_event/?EIO=4&transport=websocket`, {
          headers: { host: `localhost:${router.port}`, 'x-test-id': 'ws-during-reset' },
        });
        ws.once('open', () => ws.send('hello'));
        ws.once('message', (data) => {
          resolve({ opened: true, echo: String(data) });
          ws.close();
        });
        ws.once('unexpected-response', (_req, res) => resolve({ opened: false, echo: `status ${res.statusCode}` }));
        ws.once('error', (e) => resolve({ opened: false, echo: e.message }));
      });
      const [g, s] = await within(Promise.all([get, socket]), 20_000, 'GET and WebSocket during the reset phase');
      const waited = performance.now() - started;
      console.log(`[${runtime}] reset phase: ${upstream.resets} connections reset; GET ${g.status} and socket ${s.opened ? 'open' : s.echo} after ${Math.round(waited)} ms`);
      expect(upstream.resets).toBeGreaterThan(0);
      expect(g).toEqual({ status: 200, body: 'pong 0' });
      expect(s).toEqual({ opened: true, echo: 'hello' });
      expect(waited).toBeGreaterThanOrEqual(1300);
      expect(upstream.copies('get-during-reset')).toBe(1);
      expect(upstream.copies('ws-during-reset')).toBe(1);
    });

    for (const then of ['reset', 'refuse'] as const) {
      const phase = then === 'reset' ? 'into the reset phase' : 'while the upstream is down (refused)';
      it(`a GET whose pooled connection the shutdown closed, resent ${phase}, waits: 200 and one copy, not 502`, { timeout: 30_000 }, async () => {
        const upstream = await flaky();
        const router = await routerFor(upstream.url);
        // Two warm exchanges so the router holds a pooled keep-alive connection.
        expect((await send(router, '/ping', 'warm-1')).status).toBe(200);
        expect((await send(router, '/ping', 'warm-2')).status).toBe(200);
        upstream.goDownOnReuse(1500, then);
        const res = await within(send(router, '/ping', 'get-across-shutdown'), 20_000, 'the GET sent across the shutdown');
        console.log(`[${runtime}] GET across the shutdown, then ${then}: ${res.status} ${res.body.slice(0, 200)}; ${upstream.resets} connections reset`);
        expect(res).toEqual({ status: 200, body: 'pong 0' });
        expect(upstream.closedOnReuse).toBe(1);
        if (then === 'reset') expect(upstream.resets).toBeGreaterThan(0);
        expect(upstream.arrivals.map((a) => a.id)).toEqual(['warm-1', 'warm-2', 'get-across-shutdown']);
      });
    }

    it('a POST with a body sent while the upstream resets connections gets a 502 and is not delivered later', { timeout: 30_000 }, async () => {
      const upstream = await flaky();
      const router = await routerFor(upstream.url);
      upstream.resetFor(1500);
      await sleep(100);
      const res = await send(router, '/api/order', 'post-during-reset', { method: 'POST', body: 'x'.repeat(100_000), headers: { 'content-type': 'text/plain' } });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body).hint).toContain('closed the connection while handling POST /api/order: was it restarting?');
      await sleep(2000);
      expect((await send(router, '/ping', 'after')).status).toBe(200);
      expect(upstream.copies('post-during-reset')).toBe(0);
    });

    it('a long-poll held by an upstream that dies ends in a 502, and the restarted upstream never sees it', { timeout: 30_000 }, async () => {
      const upstream = await flaky();
      const router = await routerFor(upstream.url);
      expect((await send(router, '/ping', 'warm')).status).toBe(200);
      const poll = send(router, '/hold?EIO=4&transport=polling', 'long-poll');
      await within(
        (async () => {
          while (upstream.copies('long-poll') === 0) await sleep(10);
        })(),
        5_000,
        'the long-poll reaching the upstream',
      );
      await sleep(600);
      await upstream.kill();
      await sleep(1000);
      const before = upstream.arrivals.length;
      await upstream.start();
      const result = await within(poll, 20_000, 'the long-poll to end');
      await sleep(1500);
      console.log(`[${runtime}] long-poll after the upstream died: ${result.status} ${result.body.slice(0, 160)}`);
      expect([0, 502]).toContain(result.status);
      if (result.status === 502) expect(JSON.parse(result.body).hint).toContain('closed the connection while handling GET /hold');
      expect(upstream.arrivals.slice(before).map((a) => a.id)).not.toContain('long-poll');
      expect(upstream.copies('long-poll')).toBe(1);
    });

    it('a GET the upstream read and dropped 500 ms later reaches it exactly once (fresh connection)', { timeout: 30_000 }, async () => {
      // Connection: close on every response, so the GET goes on a connection of its own.
      const upstream = await flaky(false);
      const router = await routerFor(upstream.url);
      expect((await send(router, '/ping', 'warm')).status).toBe(200);
      const res = await send(router, '/drop', 'dropped-get');
      await sleep(1000);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body).hint).toContain('closed the connection while handling GET /drop');
      expect(upstream.copies('dropped-get')).toBe(1);
    });

    it('a POST with a body the upstream read and dropped is delivered once, on a reused connection too', { timeout: 30_000 }, async () => {
      const upstream = await flaky();
      const router = await routerFor(upstream.url);
      // Warm the pool so the POST goes on a reused keep-alive connection.
      for (let i = 0; i < 3; i++) expect((await send(router, '/ping', `warm-${i}`)).status).toBe(200);
      const res = await send(router, '/drop', 'dropped-post', { method: 'POST', body: 'y'.repeat(300_000), headers: { 'content-type': 'text/plain' } });
      await sleep(1000);
      expect(res.status).toBe(502);
      expect(upstream.copies('dropped-post')).toBe(1);
      expect(upstream.arrivals.find((a) => a.id === 'dropped-post')?.bodyBytes).toBe(300_000);
    });

    it('a reused keep-alive connection closed as it is reused: a GET goes once more on a fresh one, a POST gets a 502', { timeout: 30_000 }, async () => {
      const upstream = new StaleKeepAliveUpstream();
      await upstream.start();
      cleanup.push(() => upstream.close());
      const router = await routerFor(upstream.url);
      expect(await send(router, '/ping', 'prime-1')).toEqual({ status: 200, body: 'served prime-1' });
      // Let the first exchange's connection go back to the pool, so the next request reuses it.
      await sleep(50);
      const silent = upstream.silentConnections;
      expect(await send(router, '/ping', 'stale-get')).toEqual({ status: 200, body: 'served stale-get' });
      expect(upstream.copies('stale-get')).toBe(1);
      // Sent again at once: the client knew the connection was a reused one,
      // so it did not wait for the upstream (a liveness probe) as for a fresh one.
      await sleep(100);
      expect(upstream.silentConnections).toBe(silent);
      expect(await send(router, '/ping', 'prime-2')).toEqual({ status: 200, body: 'served prime-2' });
      await sleep(50);
      const post = await send(router, '/api/order', 'stale-post', { method: 'POST', body: 'z'.repeat(1000), headers: { 'content-type': 'text/plain' } });
      expect(post.status).toBe(502);
      expect(JSON.parse(post.body).hint).toContain('closed the connection while handling POST /api/order');
      expect(upstream.copies('stale-post')).toBe(0);
    });
  });
}
