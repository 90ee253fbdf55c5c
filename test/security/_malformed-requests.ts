import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { singleUpstreamArgs, startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { startUpstream, type Upstream } from '../_helpers/upstream.ts';
import { exchange, healthStatus, statuses } from './_net.ts';

/**
 * DESIGN §7: malformed requests get 4xx, and an error inside one request never
 * takes the process down. These are refused by each runtime's HTTP parser
 * before rxroute's code runs; the statuses differ by runtime and are pinned
 * here exactly, so a runtime upgrade that changes them is noticed.
 */
export function addTests(runtime: Runtime): void {
  describe(`malformed requests (${runtime})`, () => {
    let upstream: Upstream;
    let router: RouterProcess;

    beforeAll(async () => {
      upstream = await startUpstream('frontend');
      router = await startRouter(runtime, singleUpstreamArgs(upstream.url));
    }, 40_000);

    afterAll(async () => {
      await router?.stop();
      await upstream?.close();
    });

    const H = 'Host: localhost\r\n';
    type PerRuntime = number[] | Record<Runtime, number[]>;
    const cases: Array<{ name: string; bytes: string | Buffer; statuses: PerRuntime; note?: string }> = [
      {
        // Deno answers a 64 KB header with 400 rather than 431 (a 20 KB one gets 431).
        name: 'one 64 KB header',
        bytes: `GET /big-header HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`,
        statuses: { binary: [431], deno: [400], node: [431] },
      },
      {
        name: 'one 20 KB header',
        bytes: `GET /mid-header HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20 * 1024)}\r\nConnection: close\r\n\r\n`,
        statuses: [431],
      },
      {
        name: 'a 64 KB request-target',
        bytes: `GET /${'a'.repeat(64 * 1024)} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
        statuses: { binary: [431], deno: [400], node: [431] },
      },
      {
        name: 'garbage bytes',
        bytes: Buffer.concat([Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x80, 0x7f, 0x00]), Buffer.from('\r\n\r\n')]),
        statuses: [400],
      },
      {
        name: 'a TLS ClientHello on the plain-HTTP port',
        bytes: Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]),
        statuses: [400],
      },
      {
        name: 'a request line with no path (GET HTTP/1.1)',
        bytes: `GET HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
        statuses: [400],
      },
      {
        name: 'a request line with only a method',
        bytes: `GET\r\n${H}Connection: close\r\n\r\n`,
        statuses: [400],
      },
      {
        // Bun answers an unknown version with 505 (HTTP Version Not Supported).
        name: 'HTTP/9.9',
        bytes: `GET /v HTTP/9.9\r\n${H}Connection: close\r\n\r\n`,
        statuses: { binary: [505], deno: [400], node: [400] },
      },
      {
        name: 'NUL inside a header value',
        bytes: `GET /nul HTTP/1.1\r\n${H}X-A: a\x00b\r\nConnection: close\r\n\r\n`,
        statuses: [400],
      },
      {
        name: 'a header line without a colon',
        bytes: `GET /nocolon HTTP/1.1\r\n${H}Garbage\r\nConnection: close\r\n\r\n`,
        statuses: [400],
      },
      {
        name: 'a space inside a header name',
        bytes: `GET /space-name HTTP/1.1\r\n${H}X A: b\r\nConnection: close\r\n\r\n`,
        statuses: [400],
      },
      {
        name: 'a CR alone inside a header value',
        bytes: `GET /cr HTTP/1.1\r\n${H}X-A: a\rb\r\nConnection: close\r\n\r\n`,
        statuses: [400],
      },
    ];

    describe('refused by the parser, process survives', { concurrent: true, timeout: 10_000 }, () => {
      for (const c of cases) {
        const expected = Array.isArray(c.statuses) ? c.statuses : c.statuses[runtime];
        it(`${c.name} → ${expected.join(', ') || 'closed'}`, async () => {
          // Written 4 KB at a time, stopping once the server answers, so a
          // server that closes early does not turn its answer into a reset.
          const result = await exchange(router.port, c.bytes, { waitMs: 3_000, chunkSize: 4096 });
          expect({ statuses: statuses(result), ending: result.ending === 'open' ? 'open' : 'ended' }).toEqual({
            statuses: expected,
            ending: 'ended',
          });
          expect(await healthStatus(router.port)).toBe(200);
        });
      }
    });

    it('still proxies a normal request after all of the above', async () => {
      const res = await fetch(`${router.url}/after-malformed`);
      expect({ status: res.status, upstream: res.headers.get('x-upstream') }).toEqual({ status: 200, upstream: 'frontend' });
      await res.body?.cancel();
    });
  });
}
