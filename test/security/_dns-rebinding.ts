import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { singleUpstreamArgs, startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { startUpstream, type Echo, type Upstream } from '../_helpers/upstream.ts';
import { exchange, healthStatus, isGuardJson, type Exchange } from './_net.ts';

/**
 * DESIGN §7, DNS-rebinding guard: a page on evil.example whose name is rebound
 * to 127.0.0.1 reaches rxroute with `Host: evil.example` and must be refused
 * before anything is routed. Requests go over raw TCP so the Host header is
 * exactly what a test writes (or absent).
 */
export function addTests(runtime: Runtime): void {
  describe(`DNS-rebinding guard (${runtime})`, () => {
    let upstream: Upstream;
    let router: RouterProcess;

    beforeAll(async () => {
      upstream = await startUpstream('frontend');
      router = await startRouter(runtime, singleUpstreamArgs(upstream.url, '--allowed-host', 'myapp.test'));
    }, 40_000);

    afterAll(async () => {
      await router?.stop();
      await upstream?.close();
    });

    /** A GET whose Host header lines are exactly `hostLines`. */
    const get = (path: string, hostLines: string, { version = '1.1', extra = '' } = {}): Promise<Exchange> =>
      exchange(router.port, `GET ${path} HTTP/${version}\r\n${hostLines}${extra}Connection: close\r\n\r\n`, {
        responses: 1,
      });

    describe('allowed Host names reach the upstream, Host unchanged', { concurrent: true, timeout: 10_000 }, () => {
      const allowed = [
        'localhost',
        'localhost:3000',
        'LOCALHOST',
        'LocalHost:3000',
        'localhost.',
        'localhost.:3000',
        'app.localhost',
        'App.Localhost:5173',
        '127.0.0.1',
        '127.0.0.1:3000',
        '10.1.2.3:80', // any IP literal: a rebound DNS name never arrives as an IP
        '[::1]',
        '[::1]:3000',
        'myapp.test', // --allowed-host
        'myapp.test:8080',
        'MYAPP.TEST.',
      ];
      allowed.forEach((host, i) => {
        it(`Host: ${host} → 200 from the upstream`, async () => {
          const path = `/allowed/${i}`;
          const result = await get(path, `Host: ${host}\r\n`);
          const res = result.responses[0];
          const echo = res?.status === 200 ? (JSON.parse(res.body.toString()) as Echo) : undefined;
          expect({ status: res?.status, url: echo?.url, host: echo?.headers.host }).toEqual({
            status: 200,
            url: path,
            host,
          });
        });
      });
    });

    describe('refused Host names', { concurrent: true, timeout: 10_000 }, () => {
      const refused: Array<[host: string, named: string]> = [
        ['evil.example', 'evil.example'],
        ['evil.example:3000', 'evil.example'],
        ['EVIL.example.', 'evil.example'],
        ['localhost.evil.example', 'localhost.evil.example'],
        ['127.0.0.1.nip.io', '127.0.0.1.nip.io'],
        ['localhost.evil.example:3000', 'localhost.evil.example'],
        ['sub.myapp.test', 'sub.myapp.test'], // allowed_hosts names one host, not its subdomains
        ['myapp.test.evil.example', 'myapp.test.evil.example'],
      ];
      refused.forEach(([host, named], i) => {
        it(`Host: ${host} → 403 JSON naming ${named} and the setting to change`, async () => {
          const result = await get(`/refused/${i}`, `Host: ${host}\r\n`);
          const res = result.responses[0];
          const body = res ? (JSON.parse(res.body.toString()) as { error: string; hint: string }) : undefined;
          expect({
            status: res?.status,
            type: res?.headers['content-type'],
            namesHost: body?.error.includes(`"${named}"`),
            namesSettings: body?.hint.includes('allowed_hosts') && body.hint.includes(`--allowed-host ${named}`),
          }).toEqual({ status: 403, type: 'application/json', namesHost: true, namesSettings: true });
          expect(await healthStatus(router.port)).toBe(200);
        });
      });

      it('answers a browser (Accept: text/html) in text, with the reason and the fix', async () => {
        const result = await get('/refused/html', 'Host: evil.example\r\n', {
          extra: 'Accept: text/html,application/xhtml+xml\r\n',
        });
        const res = result.responses[0];
        expect({
          status: res?.status,
          type: res?.headers['content-type'],
          body: res?.body.toString(),
        }).toEqual({
          status: 403,
          type: 'text/plain; charset=UTF-8',
          body:
            'Forbidden: Host "evil.example" is not allowed (DNS-rebinding guard).\n' +
            'To fix: if you meant to open rxroute as evil.example, add it to allowed_hosts in rxroute.json or pass --allowed-host evil.example.\n',
        });
      });

      it("guards rxroute's own endpoints too (/__rxroute/health)", async () => {
        const result = await get('/__rxroute/health', 'Host: evil.example\r\n');
        expect({ status: result.responses[0]?.status, guard: isGuardJson(result.responses[0]) }).toEqual({
          status: 403,
          guard: true,
        });
      });

      it('judges by the Host header, not an absolute-form request-target', async () => {
        const result = await exchange(
          router.port,
          'GET http://localhost/abs HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
          { responses: 1 },
        );
        expect(result.responses[0]?.status).toBe(403);
      });
    });

    // Missing and malformed Host names are 400s. Some are refused by the
    // runtime's HTTP server before rxroute sees them; `by` says who answered
    // (rxroute's guard answers JSON `{error, hint}`, the runtimes answer with
    // an empty body).
    describe('missing or malformed Host → 400', { concurrent: true, timeout: 10_000 }, () => {
      type By = 'rxroute' | 'runtime';
      const cases: Array<{ name: string; request: string; by: Record<Runtime, By> }> = [
        {
          name: 'empty Host',
          request: 'GET /h/empty HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n',
          by: { binary: 'rxroute', deno: 'rxroute', node: 'rxroute' },
        },
        {
          // Bun's server and @hono/node-server ("Missing host header") refuse
          // an HTTP/1.1 request without Host themselves; Deno passes it on.
          name: 'no Host, HTTP/1.1',
          request: 'GET /h/missing11 HTTP/1.1\r\nConnection: close\r\n\r\n',
          by: { binary: 'runtime', deno: 'rxroute', node: 'runtime' },
        },
        {
          name: 'no Host, HTTP/1.0',
          request: 'GET /h/missing10 HTTP/1.0\r\n\r\n',
          by: { binary: 'rxroute', deno: 'rxroute', node: 'rxroute' },
        },
        {
          // @hono/node-server refuses a Host it cannot build a URL from ("Invalid host header").
          name: 'space inside Host',
          request: 'GET /h/space HTTP/1.1\r\nHost: local host\r\nConnection: close\r\n\r\n',
          by: { binary: 'rxroute', deno: 'rxroute', node: 'runtime' },
        },
        {
          name: 'slash in Host',
          request: 'GET /h/slash HTTP/1.1\r\nHost: localhost/x\r\nConnection: close\r\n\r\n',
          by: { binary: 'rxroute', deno: 'rxroute', node: 'runtime' },
        },
        {
          name: 'userinfo in Host',
          request: 'GET /h/at HTTP/1.1\r\nHost: user@localhost\r\nConnection: close\r\n\r\n',
          by: { binary: 'rxroute', deno: 'rxroute', node: 'runtime' },
        },
        {
          name: 'non-numeric port',
          request: 'GET /h/port HTTP/1.1\r\nHost: localhost:abc\r\nConnection: close\r\n\r\n',
          by: { binary: 'rxroute', deno: 'rxroute', node: 'runtime' },
        },
        {
          // Two Host headers: Deno's server refuses; Bun and Node join them
          // ("localhost, evil.example"), which the guard calls malformed.
          name: 'two Host headers, the second evil',
          request: 'GET /h/two HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
          by: { binary: 'rxroute', deno: 'runtime', node: 'rxroute' },
        },
        {
          name: 'two Host headers, the first evil',
          request: 'GET /h/two-b HTTP/1.1\r\nHost: evil.example\r\nHost: localhost\r\nConnection: close\r\n\r\n',
          by: { binary: 'rxroute', deno: 'runtime', node: 'rxroute' },
        },
      ];
      for (const { name, request, by } of cases) {
        it(`${name} → 400 (answered by ${by[runtime]})`, async () => {
          const result = await exchange(router.port, request, { responses: 1 });
          const res = result.responses[0];
          expect({ status: res?.status, by: isGuardJson(res) ? 'rxroute' : 'runtime' }).toEqual({
            status: 400,
            by: by[runtime],
          });
          expect(await healthStatus(router.port)).toBe(200);
        });
      }
    });
  });
}
