import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { deferred, within } from '../_helpers/async.ts';
import {
  reportedRuntime,
  startRouter,
  watchRss,
  type RouterProcess,
  type RssReport,
  type Runtime,
} from '../_helpers/router-process.ts';
import {
  MiB,
  patternChunks,
  patternSha256,
  startUpstream,
  writeRespectingBackpressure,
  type Echo,
  type SinkReport,
  type Upstream,
} from '../_helpers/upstream.ts';

const GiB = 1024 * MiB;
const MB = 1_000_000;
/** DESIGN §3: memory stays flat whatever the body size or the client's speed. */
const rssGrowthLimit = 100 * MB;

/**
 * The proxy contract (DESIGN §3) checked through a real rxroute process: three
 * upstreams on port 0, the router spawned the way `runtime` ships, real clients.
 */
export function addTests(runtime: Runtime): void {
  describe(`rxroute proxy (${runtime})`, () => {
    let frontend: Upstream;
    let backend: Upstream;
    let django: Upstream;
    let router: RouterProcess;
    // What a browser on http://localhost:PORT sends, unlike the 127.0.0.1 the socket connects to.
    let host: string;

    beforeAll(async () => {
      [frontend, backend, django] = await Promise.all([
        startUpstream('frontend'),
        startUpstream('backend'),
        startUpstream('django'),
      ]);
      router = await startRouter(runtime, [
        '--port', '0',
        '--host', '127.0.0.1',
        '--log', 'json',
        '--frontend', frontend.url,
        '--backend', backend.url,
        '--django', django.url,
        '--profile', 'split_dev',
        '--wait', '0',
      ]);
      host = `localhost:${router.port}`;
    }, 40_000);

    afterAll(async () => {
      await router?.stop();
      await Promise.all([frontend, backend, django].map((upstream) => upstream?.close()));
    });

    // Independent requests on their own paths, run side by side so the 15 s
    // quiet stream does not add to the wall time.
    describe('HTTP semantics', { concurrent: true, timeout: 10_000 }, () => {
      describe('routing', () => {
        it(`runs on ${reportedRuntime[runtime]}`, () => {
          expect(router.runtime).toBe(reportedRuntime[runtime]);
        });

        const routes: Array<[path: string, owner: string]> = [
          ['/admin/login', 'django'],
          ['/adminx', 'frontend'],
          ['/api/items?page=2', 'django'],
          ['/static/app.css', 'django'],
          ['/media/avatar.png', 'django'],
          ['/_event/?EIO=4', 'backend'],
          ['/ping', 'backend'],
          ['/anything', 'frontend'],
        ];
        for (const [path, owner] of routes) {
          it(`sends ${path} to ${owner}, path unchanged`, async () => {
            const res = await fetch(`${router.url}${path}`);
            const echo = (await res.json()) as Echo;
            expect({ status: res.status, upstream: echo.upstream, url: echo.url }).toEqual({
              status: 200,
              upstream: owner,
              url: path,
            });
          });
        }
      });

      describe('methods', () => {
        it('passes the status and bytes of a GET', async () => {
          const body = randomBytes(256 * 1024);
          frontend.handle('/t/get-bytes', (_req, res) => {
            res.writeHead(203, { 'content-type': 'application/octet-stream', 'content-length': body.length });
            res.end(body);
          });
          const res = await fetch(`${router.url}/t/get-bytes`);
          const got = Buffer.from(await res.arrayBuffer());
          expect({ status: res.status, ...digest(got) }).toEqual({ status: 203, ...digest(body) });
        });

        it("passes an upstream's 404 page instead of answering for it", async () => {
          frontend.handle('/t/missing', (_req, res) => {
            res.writeHead(404, { 'content-type': 'text/plain' });
            res.end('no such page, says the upstream');
          });
          const res = await fetch(`${router.url}/t/missing`);
          expect({ status: res.status, text: await res.text() }).toEqual({
            status: 404,
            text: 'no such page, says the upstream',
          });
        });

        it('passes HEAD with the Content-Length the upstream sent and no body', async () => {
          let seenMethod: string | undefined;
          frontend.handle('/t/head', (req, res) => {
            seenMethod = req.method;
            res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 12345 });
            res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(12345));
          });
          const res = await send(router.url, { method: 'HEAD', path: '/t/head' });
          expect({
            seenMethod,
            status: res.status,
            contentLength: res.headers['content-length'],
            bodyLength: res.body.length,
          }).toEqual({ seenMethod: 'HEAD', status: 200, contentLength: '12345', bodyLength: 0 });
        });

        const methods: Array<[method: string, body: string | undefined]> = [
          ['OPTIONS', undefined],
          ['PATCH', '{"done":true}'],
          ['DELETE', 'reason=test'],
          ['PROPFIND', '<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>'],
          ['PURGE', undefined],
        ];
        for (const [method, body] of methods) {
          it(`passes ${method}${body ? ' with its body' : ''}`, async () => {
            const res = await send(router.url, {
              method,
              path: `/t/method/${method}`,
              body: body === undefined ? undefined : Buffer.from(body),
            });
            const echo = parseEcho(res);
            expect({ status: res.status, method: echo.method, body: echo.bodyText }).toEqual({
              status: 200,
              method,
              body: body ?? '',
            });
          });
        }
      });

      describe('headers', () => {
        it('keeps Host as the client sent it and adds X-Forwarded-*', async () => {
          const echo = parseEcho(await send(router.url, { path: '/t/host', headers: { host } }));
          expect(pick(echo.headers, 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto')).toEqual({
            host,
            'x-forwarded-for': '127.0.0.1',
            'x-forwarded-host': host,
            'x-forwarded-proto': 'http',
          });
        });

        it('appends the client address to an incoming X-Forwarded-For', async () => {
          const echo = parseEcho(
            await send(router.url, { path: '/t/xff', headers: { host, 'x-forwarded-for': '203.0.113.7' } }),
          );
          const chain = String(echo.headers['x-forwarded-for']).split(',').map((hop) => hop.trim());
          expect(chain).toEqual(['203.0.113.7', '127.0.0.1']);
        });

        it('does not forward hop-by-hop request headers (RFC 9110 §7.6.1)', async () => {
          const echo = parseEcho(
            await send(router.url, {
              path: '/t/hop-request',
              headers: {
                host,
                connection: 'keep-alive, X-Secret-Hop',
                'x-secret-hop': '1',
                'keep-alive': 'timeout=5, max=100',
                'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
                te: 'trailers',
                'x-end-to-end': 'kept',
              },
            }),
          );
          const seen = echo.headers;
          expect({
            endToEnd: seen['x-end-to-end'],
            secretHop: seen['x-secret-hop'],
            keepAlive: seen['keep-alive'],
            proxyAuthorization: seen['proxy-authorization'],
            te: seen.te,
            connectionNamesSecretHop: String(seen.connection ?? '').toLowerCase().includes('x-secret-hop'),
          }).toEqual({
            endToEnd: 'kept',
            secretHop: undefined,
            keepAlive: undefined,
            proxyAuthorization: undefined,
            te: undefined,
            connectionNamesSecretHop: false,
          });
        });

        it('does not forward hop-by-hop response headers', async () => {
          frontend.handle('/t/hop-response', (_req, res) => {
            res.writeHead(200, {
              connection: 'X-Resp-Hop',
              'x-resp-hop': '1',
              'x-resp-kept': 'yes',
              'content-length': 2,
            });
            res.end('ok');
          });
          const res = await send(router.url, { path: '/t/hop-response', headers: { host } });
          expect({
            body: res.body.toString(),
            kept: res.headers['x-resp-kept'],
            hop: res.headers['x-resp-hop'],
            connectionNamesHop: String(res.headers.connection ?? '').toLowerCase().includes('x-resp-hop'),
          }).toEqual({ body: 'ok', kept: 'yes', hop: undefined, connectionNamesHop: false });
        });
      });

      describe('bodies and targets', () => {
        it('forwards the query string byte for byte', async () => {
          // Everything a browser can put in a query: escapes keep their case and
          // are not decoded. Raw ' and " are left out on purpose: browsers always
          // escape them, and Bun and Node re-escape them when parsing (README).
          const path = `/_event/?EIO=4&transport=polling&t=Pq1&sid=a%2Fb&x=%27%22&q=a+b%20c&empty=&u=%C3%A9&m=%2f%2F&p=~!*(),;:@/?&&z`;
          const echo = parseEcho(await send(router.url, { path }));
          expect({ upstream: echo.upstream, url: echo.url }).toEqual({ upstream: 'backend', url: path });
        });

        it('keeps the Content-Length of a streamed 768 KiB response', async () => {
          const res = await send(router.url, { path: `/source/${768 * 1024}` });
          expect({
            status: res.status,
            contentLength: res.headers['content-length'],
            transferEncoding: res.headers['transfer-encoding'],
            sha256: sha256(res.body),
          }).toEqual({
            status: 200,
            contentLength: String(768 * 1024),
            transferEncoding: undefined,
            sha256: patternSha256(768 * 1024),
          });
        });

        it('sends a Content-Length body on with the same Content-Length', async () => {
          const body = randomBytes(300_000);
          const echo = parseEcho(await send(router.url, { method: 'POST', path: '/t/sized-post', body }));
          expect({
            contentLength: echo.headers['content-length'],
            transferEncoding: echo.headers['transfer-encoding'],
            length: echo.bodyLength,
            sha256: echo.bodySha256,
          }).toEqual({
            contentLength: '300000',
            transferEncoding: undefined,
            length: body.length,
            sha256: sha256(body),
          });
        });

        it('sends an upload that waited for 100 Continue (as curl does) on with its Content-Length', async () => {
          const body = randomBytes(200_000);
          const { hostname, port } = new URL(router.url);
          const res = await within(
            new Promise<RawResponse>((resolve, reject) => {
              const req = http.request({
                hostname,
                port,
                method: 'POST',
                path: '/t/expect-post',
                agent: false,
                headers: { host, expect: '100-continue', 'content-length': body.length },
              });
              // The body goes only once the router has said to continue.
              req.on('continue', () => req.end(body));
              req.on('response', (r) => readResponse(r).then(resolve, reject));
              req.on('error', reject);
            }),
            5_000,
            'the upload sent after 100 Continue',
          );
          const echo = parseEcho(res);
          expect({ status: res.status, contentLength: echo.headers['content-length'], length: echo.bodyLength, sha256: echo.bodySha256 }).toEqual({
            status: 200,
            contentLength: '200000',
            length: body.length,
            sha256: sha256(body),
          });
        });

        it('passes a chunked request body intact', async () => {
          const chunks = [randomBytes(50_000), randomBytes(70_000), Buffer.from('tail')];
          const echo = parseEcho(await send(router.url, { method: 'POST', path: '/t/chunked-post', body: chunks }));
          expect({ length: echo.bodyLength, sha256: echo.bodySha256 }).toEqual(digest(Buffer.concat(chunks)));
        });

        it('passes a gzip response untouched, with its Content-Encoding and Content-Length', async () => {
          const gzipped = gzipSync(Buffer.from('rxroute leaves compressed bytes alone\n'.repeat(2000)));
          let acceptEncoding: string | undefined;
          frontend.handle('/t/gzip', (req, res) => {
            acceptEncoding = req.headers['accept-encoding'];
            res.writeHead(200, {
              'content-type': 'text/plain',
              'content-encoding': 'gzip',
              'content-length': gzipped.length,
            });
            res.end(gzipped);
          });
          // node:http does not decompress, so these are the bytes on the wire.
          const res = await send(router.url, { path: '/t/gzip', headers: { 'accept-encoding': 'gzip' } });
          expect({
            acceptEncoding,
            contentEncoding: res.headers['content-encoding'],
            contentLength: res.headers['content-length'],
            ...digest(res.body),
          }).toEqual({
            acceptEncoding: 'gzip',
            contentEncoding: 'gzip',
            contentLength: String(gzipped.length),
            ...digest(gzipped),
          });
        });

        let redirects = 0;
        const redirectTo = async (location: (upstream: Upstream) => string) => {
          const path = `/t/redirect/${++redirects}`;
          frontend.handle(path, (_req, res) => {
            res.writeHead(302, { location: location(frontend), 'content-length': 0 });
            res.end();
          });
          const res = await send(router.url, { path, headers: { host } });
          return { status: res.status, location: res.headers.location };
        };

        it("does not follow a redirect, and points an upstream's absolute Location at the router", async () => {
          expect(await redirectTo((upstream) => `${upstream.url}/next?a=1`)).toEqual({
            status: 302,
            location: `http://${host}/next?a=1`,
          });
        });

        it('leaves a relative Location alone', async () => {
          expect(await redirectTo(() => '/rel')).toEqual({ status: 302, location: '/rel' });
        });

        it('leaves a Location on a foreign origin alone', async () => {
          expect(await redirectTo(() => 'https://example.com/x')).toEqual({
            status: 302,
            location: 'https://example.com/x',
          });
        });
      });

      describe('streaming', () => {
        it('delivers a server-sent event while the upstream holds back the next', async () => {
          const release = deferred<void>();
          frontend.handle('/t/sse', async (_req, res) => {
            res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
            res.write('data: first\n\n');
            await release.promise;
            res.end('data: second\n\n');
          });
          try {
            const { res, reader, first } = await within(
              fetch(`${router.url}/t/sse`).then(async (res) => {
                const reader = textReader(res);
                return { res, reader, first: await reader.until('data: first\n\n') };
              }),
              5_000,
              'the first event did not reach the client while the upstream held the second',
            );
            release.resolve();
            const text = first + (await reader.rest());
            expect({ type: res.headers.get('content-type'), text }).toEqual({
              type: 'text/event-stream',
              text: 'data: first\n\ndata: second\n\n',
            });
          } finally {
            release.resolve();
          }
        });

        it('keeps a stream open through 15 s of silence', { timeout: 30_000 }, async () => {
          frontend.handle('/t/quiet', (_req, res) => {
            res.writeHead(200, { 'content-type': 'application/x-ndjson' });
            res.write('{"n":1}\n');
            const timer = setTimeout(() => res.end('{"n":2}\n'), 15_000);
            res.on('close', () => clearTimeout(timer));
          });
          const res = await fetch(`${router.url}/t/quiet`);
          expect({ status: res.status, text: await res.text() }).toEqual({
            status: 200,
            text: '{"n":1}\n{"n":2}\n',
          });
        });

        it('cancels the upstream request when the client disconnects', async () => {
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
          const controller = new AbortController();
          const first = await within(
            fetch(`${router.url}/t/endless`, { signal: controller.signal }).then((res) => bodyReader(res).read()),
            5_000,
            'the first chunk of the endless stream did not arrive',
          );
          expect(first.done).toBe(false);
          controller.abort();
          await within(upstreamClosed.promise, 8_000, 'the upstream response stayed open after the client left');
        });

        it('cancels the upstream request when the client leaves a long-poll after 600 ms without an answer', async () => {
          const upstreamClosed = deferred<void>();
          const arrived = deferred<void>();
          frontend.handle('/t/held', (req, res) => {
            arrived.resolve();
            // Never answers, like a long-poll with nothing to say yet.
            res.on('close', () => upstreamClosed.resolve());
            req.resume();
          });
          const controller = new AbortController();
          const pending = fetch(`${router.url}/t/held`, { signal: controller.signal }).catch(() => 'aborted');
          await within(arrived.promise, 5_000, 'the held request did not reach the upstream');
          // Long enough for any deferred client-side bookkeeping to have started.
          await new Promise((r) => setTimeout(r, 600));
          controller.abort();
          expect(await pending).toBe('aborted');
          await within(upstreamClosed.promise, 8_000, 'the upstream request stayed open after the client left');
        });

        it('cancels the upstream request when the client disconnects before the upstream answers', async () => {
          const arrived = deferred<void>();
          const upstreamClosed = deferred<void>();
          // A long-poll: the upstream holds the request until an event comes.
          frontend.handle('/t/long-poll', (_req, res) => {
            arrived.resolve();
            res.on('close', () => upstreamClosed.resolve());
          });
          const controller = new AbortController();
          const answered = fetch(`${router.url}/t/long-poll`, { signal: controller.signal }).catch(() => undefined);
          await within(arrived.promise, 5_000, 'the long-poll did not reach the upstream');
          controller.abort();
          await answered;
          await within(upstreamClosed.promise, 8_000, 'the upstream request stayed open after the client left');
        });

        for (const framing of ['content-length', 'chunked'] as const) {
          it(`fails the client's response when the upstream dies mid-body (${framing})`, async () => {
            frontend.handle(`/t/dies/${framing}`, (req, res) => {
              res.writeHead(200, {
                'content-type': 'application/octet-stream',
                ...(framing === 'content-length' ? { 'content-length': 1_000_000 } : {}),
              });
              res.write(Buffer.alloc(100_000, 0x61), () => setTimeout(() => req.socket.destroy(), 50));
            });
            const outcome = await within(
              fetch(`${router.url}/t/dies/${framing}`).then(
                (res) =>
                  res.arrayBuffer().then(
                    (body) => `${res.status}, clean end after ${body.byteLength} bytes`,
                    () => `${res.status}, body failed`,
                  ),
                // The binary reads bodies up to 1 MiB whole before answering (to keep
                // Content-Length on Bun), so there the connection drops before the head.
                () => 'connection dropped',
              ),
              8_000,
              'the response neither ended nor failed after the upstream died',
            );
            expect(['200, body failed', 'connection dropped']).toContain(outcome);
          });
        }
      });
    });

    // One at a time, after the rest, so the RSS figures belong to one transfer.
    describe('1 GiB bodies', { timeout: 120_000 }, () => {
      it('streams a 1 GiB upload with Content-Length and flat memory', async () => {
        const rss = watchRss(router.rssBytes);
        const started = performance.now();
        const { sentSha256, response } = await uploadPattern(router.url, '/sink', GiB);
        const seconds = (performance.now() - started) / 1000;
        const memory = rss.stop();
        console.log(`[${runtime}] upload 1 GiB: ${describeRss(memory)}, ${(GiB / MB / seconds).toFixed(0)} MB/s`);

        if (response.status !== 200) {
          throw new Error(`the upload was answered ${response.status}: ${response.body.toString().slice(0, 500)}`);
        }
        const report = JSON.parse(response.body.toString()) as SinkReport;
        // Soft, so a wrong body and a memory overrun are both reported.
        expect.soft({
          upstream: report.upstream,
          bytes: report.bytes,
          sha256: report.sha256,
          contentLength: report.contentLength,
        }).toEqual({ upstream: 'frontend', bytes: GiB, sha256: sentSha256, contentLength: String(GiB) });
        expect.soft(memory.growthBytes).toBeLessThan(rssGrowthLimit);
      });

      it('streams a 1 GiB download to a slow reader with flat memory', async () => {
        const expectedSha256 = patternSha256(GiB);
        const rss = watchRss(router.rssBytes);
        const started = performance.now();
        const got = await downloadSlowly(router.url, `/source/${GiB}`);
        const seconds = (performance.now() - started) / 1000;
        const memory = rss.stop();
        console.log(
          `[${runtime}] slow download 1 GiB: ${describeRss(memory)}, ${(GiB / MB / seconds).toFixed(0)} MB/s over ${seconds.toFixed(1)} s`,
        );

        // Bun.serve cannot send a Content-Length with a streamed body
        // (oven-sh/bun#10507): past 1 MiB the binary streams chunked, same bytes.
        const contentLength = runtime === 'binary' ? undefined : String(GiB);
        expect.soft(got).toEqual({ status: 200, contentLength, bytes: GiB, sha256: expectedSha256 });
        expect.soft(memory.growthBytes).toBeLessThan(rssGrowthLimit);
      });
    });
  });
}

interface RawRequest {
  method?: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  /** A Buffer goes with Content-Length; an array goes chunked, one write per element. */
  body?: Buffer | Buffer[];
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request on its own connection with node:http, which sends the target and
 * headers as given, never decompresses and never follows redirects.
 */
function send(base: string, { method = 'GET', path, headers = {}, body }: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname,
        port,
        method,
        path,
        agent: false,
        headers: Buffer.isBuffer(body) ? { ...headers, 'content-length': body.length } : headers,
      },
      (res) => readResponse(res).then(resolve, reject),
    );
    req.on('error', reject);
    if (Array.isArray(body)) writeChunked(req, body).catch(reject);
    else req.end(body);
  });
}

// Gaps between writes so the chunks leave as separate chunks.
async function writeChunked(req: http.ClientRequest, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    req.write(chunk);
    await delay(20);
  }
  req.end();
}

function readResponse(res: http.IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('aborted', () => reject(new Error('response aborted')));
    res.on('error', reject);
    res.on('end', () => {
      if (!res.complete) reject(new Error('response ended before it was complete'));
      else resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
    });
  });
}

/**
 * POSTs `size` pattern bytes with Content-Length, writing only as fast as the
 * router takes them, and hashes what it sent.
 */
async function uploadPattern(
  base: string,
  path: string,
  size: number,
): Promise<{ sentSha256: string; response: RawResponse }> {
  const { hostname, port } = new URL(base);
  const req = http.request({
    hostname,
    port,
    method: 'POST',
    path,
    agent: false,
    headers: { 'content-type': 'application/octet-stream', 'content-length': size },
  });
  const response = new Promise<RawResponse>((resolve, reject) => {
    req.on('response', (res) => readResponse(res).then(resolve, reject));
    req.on('error', reject);
  });
  // An answer before the last byte (a 413, a 502) would otherwise leave the writer waiting for 'drain' forever.
  const answeredEarly = response.then((res) => {
    throw new Error(`router answered ${res.status} before the upload finished: ${res.body.toString().slice(0, 500)}`);
  });
  answeredEarly.catch(() => {});

  const hash = createHash('sha256');
  const chunks = function* () {
    for (const chunk of patternChunks(size)) {
      hash.update(chunk);
      yield chunk;
    }
  };
  await Promise.race([writeRespectingBackpressure(req, chunks()), answeredEarly]);
  req.end();
  return { sentSha256: hash.digest('hex'), response: await response };
}

/**
 * GETs `path` with node:http and reads it like a slow client: after every
 * `pauseEvery` bytes it stops reading for `pauseMs`, so the router must hold
 * the upstream back instead of buffering. 1 GiB takes at least 16 × 350 ms.
 */
function downloadSlowly(
  base: string,
  path: string,
  { pauseEvery = 64 * MiB, pauseMs = 350 } = {},
): Promise<{ status: number; contentLength: string | undefined; bytes: number; sha256: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.get({ hostname, port, path, agent: false }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      let nextPause = pauseEvery;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
        if (bytes >= nextPause) {
          nextPause += pauseEvery;
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
      });
      res.on('aborted', () => reject(new Error(`download aborted after ${bytes} bytes`)));
      res.on('error', reject);
      res.on('end', () => {
        if (!res.complete) reject(new Error(`download ended early after ${bytes} bytes`));
        else
          resolve({
            status: res.statusCode ?? 0,
            contentLength: res.headers['content-length'],
            bytes,
            sha256: hash.digest('hex'),
          });
      });
    });
    req.on('error', reject);
  });
}

function parseEcho(res: RawResponse): Echo {
  if (res.status !== 200 || res.headers['content-type'] !== 'application/json') {
    throw new Error(`expected the upstream's echo, got ${res.status}: ${res.body.toString().slice(0, 500)}`);
  }
  return JSON.parse(res.body.toString()) as Echo;
}

function pick(headers: http.IncomingHttpHeaders, ...names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, headers[name]]));
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Length and hash: a readable stand-in for comparing two large buffers. */
function digest(bytes: Buffer): { length: number; sha256: string } {
  return { length: bytes.length, sha256: sha256(bytes) };
}

function describeRss({ baselineBytes, peakBytes, growthBytes }: RssReport): string {
  const mb = (bytes: number) => (bytes / MB).toFixed(1);
  return `rss growth ${mb(growthBytes)} MB (${mb(baselineBytes)} → ${mb(peakBytes)} MB)`;
}

function bodyReader(res: Response): ReadableStreamDefaultReader<Uint8Array> {
  if (!res.body) throw new Error(`response ${res.status} has no body`);
  return res.body.getReader();
}

/** Reads a fetch body as text, a piece at a time. */
function textReader(res: Response) {
  const reader = bodyReader(res);
  const decoder = new TextDecoder();
  return {
    /** Reads until the text so far contains `wanted`; returns all of it. */
    async until(wanted: string): Promise<string> {
      let text = '';
      while (!text.includes(wanted)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${JSON.stringify(wanted)}; got ${JSON.stringify(text)}`);
        text += decoder.decode(value, { stream: true });
      }
      return text;
    },
    async rest(): Promise<string> {
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text + decoder.decode();
        text += decoder.decode(value, { stream: true });
      }
    },
  };
}
