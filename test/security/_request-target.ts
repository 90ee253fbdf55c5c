import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { singleUpstreamArgs, startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import {
  exchange,
  healthStatus,
  startRecordingUpstream,
  startTripwire,
  statuses,
  type RecordingUpstream,
} from './_net.ts';

/**
 * rxroute is a reverse proxy for its configured upstreams, never a forward
 * proxy: whatever request-target a client writes, the only hosts it connects
 * to are its upstreams. A "tripwire" listener on another port stands for any
 * host the client would like to reach (an internal service, the cloud
 * metadata address); it must receive nothing.
 *
 * Regression: Bun hands a CONNECT request's authority-form target to the
 * handler verbatim as `req.url` (`x:@127.0.0.1:PORT/steal`); parsed as a URL
 * its pathname is `@127.0.0.1:PORT/steal`, and gluing that to the upstream
 * origin gave `http://127.0.0.1:UPSTREAM@127.0.0.1:PORT/steal`: a request to
 * PORT, relayed back to the client.
 */
export function addTests(runtime: Runtime): void {
  describe(`request-target cannot pick the upstream (${runtime})`, () => {
    let upstream: RecordingUpstream;
    let tripwire: Awaited<ReturnType<typeof startTripwire>>;
    let router: RouterProcess;

    beforeAll(async () => {
      [upstream, tripwire] = await Promise.all([startRecordingUpstream(), startTripwire()]);
      router = await startRouter(runtime, singleUpstreamArgs(upstream.url));
    }, 40_000);

    afterAll(async () => {
      await router?.stop();
      await Promise.all([upstream?.close(), tripwire?.close()]);
    });

    const send = (requestLine: string) =>
      exchange(router.port, `${requestLine}\r\nHost: localhost\r\nConnection: close\r\n\r\n`, { waitMs: 3_000 });

    // `[]`: the server closed the connection without answering (Node's server
    // drops CONNECT when nobody listens for its 'connect' event).
    type PerRuntime = Record<Runtime, number[]>;
    const connectRefused: PerRuntime = { binary: [400], deno: [400], node: [] };
    const cases: Array<{ name: string; line: (port: number) => string; statuses: PerRuntime }> = [
      {
        name: 'CONNECT with userinfo in a scheme-like target',
        line: (port) => `CONNECT x:@127.0.0.1:${port}/steal HTTP/1.1`,
        statuses: connectRefused,
      },
      {
        name: 'CONNECT with user:password@host:port',
        line: (port) => `CONNECT a:b@127.0.0.1:${port} HTTP/1.1`,
        statuses: connectRefused,
      },
      {
        name: 'CONNECT host:port (authority-form)',
        line: (port) => `CONNECT 127.0.0.1:${port} HTTP/1.1`,
        statuses: connectRefused,
      },
      {
        name: 'GET with a non-http scheme and userinfo',
        line: (port) => `GET x:@127.0.0.1:${port}/steal HTTP/1.1`,
        statuses: { binary: [400], deno: [400], node: [400] },
      },
      {
        name: 'GET @host:port/path',
        line: (port) => `GET @127.0.0.1:${port}/steal HTTP/1.1`,
        statuses: { binary: [400], deno: [400], node: [400] },
      },
      {
        // Absolute-form is legal (RFC 9112 §3.2.2); the path goes to the
        // configured upstream, the authority is not a destination.
        name: 'GET absolute-form naming another host',
        line: (port) => `GET http://127.0.0.1:${port}/steal HTTP/1.1`,
        statuses: { binary: [200], deno: [200], node: [200] },
      },
      {
        name: 'GET //host:port/path (network-path reference)',
        line: (port) => `GET //127.0.0.1:${port}/steal HTTP/1.1`,
        statuses: { binary: [200], deno: [200], node: [200] },
      },
      {
        name: 'OPTIONS with a scheme-like target',
        line: (port) => `OPTIONS x:@127.0.0.1:${port}/steal HTTP/1.1`,
        statuses: { binary: [400], deno: [400], node: [400] },
      },
    ];

    describe('the tripwire host receives nothing', { concurrent: true, timeout: 10_000 }, () => {
      for (const c of cases) {
        const expected = c.statuses[runtime];
        it(`${c.name} → ${expected.join(', ') || 'closed, no answer'}`, async () => {
          const result = await send(c.line(tripwire.port));
          expect({
            statuses: statuses(result),
            relayedTripwire: result.bytes.toString('latin1').includes('TRIPWIRE-REACHED'),
          }).toEqual({ statuses: expected, relayedTripwire: false });
          expect(await healthStatus(router.port)).toBe(200);
        });
      }
    });

    it('sent not one byte to the tripwire, across every case', () => {
      expect(tripwire.received()).toBe('');
    });
  });
}
