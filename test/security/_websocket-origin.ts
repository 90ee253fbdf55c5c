import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { singleUpstreamArgs, startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { healthStatus } from './_net.ts';
import { closeSocket, handshake, roundTrip, startEchoWsUpstream, type EchoWsUpstream } from './_ws.ts';

/**
 * DESIGN §7, cross-site WebSocket guard: browsers send `Origin` on every
 * WebSocket handshake and no CORS check protects it, so a page on another site
 * could open a socket to the dev server. An upgrade whose Origin is present and
 * not an allowed host gets 403 before the upstream is contacted; no Origin
 * (a non-browser client) is let through.
 */
export function addTests(runtime: Runtime): void {
  describe(`cross-site WebSocket guard (${runtime})`, () => {
    let upstream: EchoWsUpstream;
    let router: RouterProcess;
    let base: string;

    beforeAll(async () => {
      upstream = await startEchoWsUpstream();
      router = await startRouter(runtime, singleUpstreamArgs(upstream.url, '--allowed-host', 'myapp.test'));
      base = `ws://127.0.0.1:${router.port}`;
    }, 40_000);

    afterAll(async () => {
      await router?.stop();
      await upstream?.close();
    });

    describe('refused', { concurrent: true, timeout: 10_000 }, () => {
      const refused: Array<[origin: string, named: string]> = [
        ['http://evil.example', 'http://evil.example'],
        ['https://evil.example:8443', 'https://evil.example:8443'],
        ['http://localhost.evil.example:3000', 'http://localhost.evil.example:3000'],
        ['http://127.0.0.1.nip.io:3000', 'http://127.0.0.1.nip.io:3000'],
        ['null', 'null'], // sandboxed iframes, file:// pages, some redirects
        ['file://', 'file://'],
        ['chrome-extension://abcdefghijklmnop', 'chrome-extension://abcdefghijklmnop'],
        ['http://sub.myapp.test', 'http://sub.myapp.test'],
      ];
      refused.forEach(([origin, named], i) => {
        it(`Origin: ${origin} → 403, upstream never contacted`, async () => {
          const path = `/refused/${i}`;
          const result = await handshake(`${base}${path}`, { headers: { Origin: origin } });
          const body = result.opened ? undefined : (JSON.parse(result.body) as { error: string; hint: string });
          if (result.opened) result.ws.terminate();
          expect({
            status: result.opened ? 101 : result.status,
            namesOrigin: body?.error.includes(JSON.stringify(named)),
            reachedUpstream: upstream.upgrades().includes(path),
          }).toEqual({ status: 403, namesOrigin: true, reachedUpstream: false });
          expect(await healthStatus(router.port)).toBe(200);
        });
      });

      it('refuses an upgrade with an allowed Origin but a foreign Host (DNS rebinding)', async () => {
        const path = '/refused/host';
        const result = await handshake(`${base}${path}`, {
          headers: { Host: 'evil.example', Origin: 'http://localhost:3000' },
        });
        if (result.opened) result.ws.terminate();
        expect({
          status: result.opened ? 101 : result.status,
          reachedUpstream: upstream.upgrades().includes(path),
        }).toEqual({ status: 403, reachedUpstream: false });
      });

      it('names the setting to change for a refused http(s) Origin', async () => {
        const result = await handshake(`${base}/refused/hint`, { headers: { Origin: 'http://evil.example' } });
        if (result.opened) result.ws.terminate();
        const body = result.opened ? undefined : (JSON.parse(result.body) as { hint: string });
        expect(body?.hint).toBe(
          'if pages on evil.example should connect, add it to allowed_hosts in rxroute.json or pass --allowed-host evil.example',
        );
      });
    });

    describe('allowed: 101 and frames relayed to the upstream', { concurrent: true, timeout: 10_000 }, () => {
      const allowed: Array<[label: string, origin: string | undefined]> = [
        ['no Origin (a non-browser client)', undefined],
        ['http://localhost:3000', 'http://localhost:3000'],
        ['http://127.0.0.1:5173', 'http://127.0.0.1:5173'],
        ['http://app.localhost', 'http://app.localhost'],
        ['https://LOCALHOST', 'https://LOCALHOST'],
        ['http://[::1]:3000', 'http://[::1]:3000'],
        ['http://myapp.test:3000 (--allowed-host)', 'http://myapp.test:3000'],
      ];
      allowed.forEach(([label, origin], i) => {
        it(`Origin: ${label}`, async () => {
          const path = `/allowed/${i}`;
          const result = await handshake(`${base}${path}`, { headers: origin ? { Origin: origin } : {} });
          if (!result.opened) throw new Error(`refused with ${result.status}: ${result.body}`);
          try {
            expect({
              echo: await roundTrip(result.ws, `hello ${i}`),
              reachedUpstream: upstream.upgrades().includes(path),
            }).toEqual({ echo: `hello ${i}`, reachedUpstream: true });
          } finally {
            await closeSocket(result.ws);
          }
        });
      });
    });
  });
}
