import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { exchange, request } from '../security/_net.ts';

// A minimal WebAssembly module: magic and version.
const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** The exported bundle every test reads: relative path → contents. */
const FILES: Record<string, string | Buffer> = {
  'index.html': '<!doctype html><title>shell</title>SPA-SHELL',
  'about.html': '<!doctype html>ABOUT-PAGE',
  'docs/index.html': '<!doctype html>DOCS-INDEX',
  'docs/intro.html': '<!doctype html>DOCS-INTRO',
  '404.html': '<!doctype html>NOT-FOUND-PAGE',
  'robots.txt': 'User-agent: *\n',
  'assets/app.mjs': 'export const answer = 42;\n',
  'assets/chunk.js': 'console.log("chunk");\n',
  'assets/style.css': 'body { color: rebeccapurple }\n',
  'assets/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'assets/data.json': '{"ok":true}',
  'assets/mod.wasm': WASM,
  'changing.js': 'version 1\n',
};

/**
 * DESIGN §4, the happy path of serving an exported build (`--static DIR`):
 * lookup order, SPA fallback, 404.html, content types, validators and 304s,
 * HEAD, and methods a static build does not take.
 */
export function addTests(runtime: Runtime): void {
  describe(`serve the build directory (${runtime})`, () => {
    let dir: string;
    let router: RouterProcess;
    const get = (path: string, headers: Record<string, string> = {}) =>
      request(router.url, { path, headers: { host: 'localhost', ...headers } });

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rxroute-build-'));
      for (const [relative, contents] of Object.entries(FILES)) {
        mkdirSync(join(dir, relative, '..'), { recursive: true });
        writeFileSync(join(dir, relative), contents);
      }
      // A symlink that stays inside the directory is served like its target.
      symlinkSync(join(dir, 'assets/app.mjs'), join(dir, 'assets/alias.mjs'));
      // A fixed, whole-second mtime so Last-Modified round-trips exactly.
      const mtime = new Date('2024-05-06T07:08:09Z');
      utimesSync(join(dir, 'assets/style.css'), mtime, mtime);
      router = await startRouter(runtime, ['--port', '0', '--host', '127.0.0.1', '--log', 'json', '--static', dir]);
    }, 40_000);

    afterAll(async () => {
      await router?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    describe('lookup order and fallbacks', { concurrent: true, timeout: 10_000 }, () => {
      // Expected answers name the file whose bytes must come back.
      const lookups: Array<[path: string, status: number, file: string, why: string]> = [
        ['/', 200, 'index.html', 'index.html for /'],
        ['/about.html', 200, 'about.html', 'path as given'],
        ['/about', 200, 'about.html', 'path.html'],
        ['/docs', 200, 'docs/index.html', 'path/index.html'],
        ['/docs/', 200, 'docs/index.html', 'path/index.html for a trailing slash'],
        ['/docs/intro', 200, 'docs/intro.html', 'path.html in a subdirectory'],
        ['/robots.txt', 200, 'robots.txt', 'a plain file'],
        ['/dashboard/settings', 200, 'index.html', 'SPA fallback for an extensionless miss'],
        ['/about/team', 200, 'index.html', 'SPA fallback under a page name'],
        ['/assets/missing.js', 404, '404.html', '404.html for a missing asset with an extension'],
        ['/missing.css', 404, '404.html', '404.html, not the SPA shell that would be parsed as CSS'],
        ['/assets/alias.mjs', 200, 'assets/app.mjs', 'a symlink inside the directory'],
        ['/about?tab=1', 200, 'about.html', 'the query string is ignored for lookup'],
      ];
      for (const [path, status, file, why] of lookups) {
        it(`${path} → ${status} ${file} (${why})`, async () => {
          const res = await get(path);
          expect({ status: res.status, body: res.body.toString() }).toEqual({ status, body: String(FILES[file]) });
        });
      }

      it('answers a missing asset with 404.html as text/html', async () => {
        const res = await get('/nope.png');
        expect({ status: res.status, type: res.headers['content-type'] }).toEqual({
          status: 404,
          type: 'text/html; charset=utf-8',
        });
      });
    });

    describe('content types', { concurrent: true, timeout: 10_000 }, () => {
      const types: Array<[path: string, type: string]> = [
        ['/', 'text/html; charset=utf-8'],
        ['/about', 'text/html; charset=utf-8'],
        ['/assets/app.mjs', 'text/javascript; charset=utf-8'],
        ['/assets/chunk.js', 'text/javascript; charset=utf-8'],
        ['/assets/style.css', 'text/css; charset=utf-8'],
        ['/assets/logo.svg', 'image/svg+xml'],
        ['/assets/data.json', 'application/json; charset=utf-8'],
        ['/assets/mod.wasm', 'application/wasm'],
        ['/robots.txt', 'text/plain; charset=utf-8'],
      ];
      for (const [path, type] of types) {
        it(`${path} → ${type}`, async () => {
          const res = await get(path);
          expect({ status: res.status, type: res.headers['content-type'], nosniff: res.headers['x-content-type-options'] })
            .toEqual({ status: 200, type, nosniff: 'nosniff' });
        });
      }

      it('sends the exact bytes of a binary file with its Content-Length', async () => {
        const res = await get('/assets/mod.wasm');
        expect({ length: res.headers['content-length'], body: res.body.toString('hex') }).toEqual({
          length: String(WASM.length),
          body: WASM.toString('hex'),
        });
      });
    });

    describe('validators', { concurrent: true, timeout: 10_000 }, () => {
      it('sends a weak ETag, Last-Modified and Cache-Control: no-cache', async () => {
        const res = await get('/assets/style.css');
        expect({
          etag: /^W\/"[0-9a-f]+-[0-9a-f]+"$/.test(String(res.headers.etag)),
          lastModified: res.headers['last-modified'],
          cacheControl: res.headers['cache-control'],
        }).toEqual({ etag: true, lastModified: 'Mon, 06 May 2024 07:08:09 GMT', cacheControl: 'no-cache' });
      });

      it('answers 304 with no body to a matching If-None-Match', async () => {
        const first = await get('/assets/app.mjs');
        const etag = String(first.headers.etag);
        const again = await get('/assets/app.mjs', { 'if-none-match': etag });
        expect({ status: again.status, etag: again.headers.etag, body: again.body.length }).toEqual({
          status: 304,
          etag,
          body: 0,
        });
      });

      it('answers 304 when the ETag is one of a list, and to If-None-Match: *', async () => {
        const etag = String((await get('/assets/chunk.js')).headers.etag);
        const listed = await get('/assets/chunk.js', { 'if-none-match': `"other", ${etag}` });
        const star = await get('/assets/chunk.js', { 'if-none-match': '*' });
        expect([listed.status, star.status]).toEqual([304, 304]);
      });

      it('answers 200 with the body to a stale If-None-Match', async () => {
        const res = await get('/assets/app.mjs', { 'if-none-match': 'W/"0-0"' });
        expect({ status: res.status, body: res.body.toString() }).toEqual({
          status: 200,
          body: 'export const answer = 42;\n',
        });
      });

      it('answers 304 to If-Modified-Since at or after Last-Modified, 200 before it', async () => {
        const at = await get('/assets/style.css', { 'if-modified-since': 'Mon, 06 May 2024 07:08:09 GMT' });
        const after = await get('/assets/style.css', { 'if-modified-since': 'Tue, 07 May 2024 00:00:00 GMT' });
        const before = await get('/assets/style.css', { 'if-modified-since': 'Mon, 06 May 2024 07:08:08 GMT' });
        const garbage = await get('/assets/style.css', { 'if-modified-since': 'not a date' });
        expect([at.status, after.status, before.status, garbage.status]).toEqual([304, 304, 200, 200]);
      });

      it('lets If-None-Match win over If-Modified-Since (RFC 9110 §13.2.2)', async () => {
        const res = await get('/assets/style.css', {
          'if-none-match': 'W/"0-0"',
          'if-modified-since': 'Tue, 07 May 2024 00:00:00 GMT',
        });
        expect(res.status).toBe(200);
      });

      it('changes the ETag when the file changes, so the old one gets 200 and the new bytes', async () => {
        const before = await get('/changing.js');
        const oldEtag = String(before.headers.etag);
        writeFileSync(join(dir, 'changing.js'), 'version 2, longer\n');
        const after = await get('/changing.js', { 'if-none-match': oldEtag });
        expect({ status: after.status, body: after.body.toString(), sameEtag: after.headers.etag === oldEtag }).toEqual({
          status: 200,
          body: 'version 2, longer\n',
          sameEtag: false,
        });
      });

      it('answers a 404.html miss with 404, never 304', async () => {
        const first = await get('/gone.js');
        const again = await get('/gone.js', { 'if-none-match': String(first.headers.etag) });
        expect([first.status, again.status]).toEqual([404, 404]);
      });
    });

    describe('methods', { concurrent: true, timeout: 10_000 }, () => {
      it('answers HEAD with the headers of GET and no body', async () => {
        const result = await exchange(
          router.port,
          'HEAD /assets/app.mjs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
          { head: true },
        );
        const res = result.responses[0];
        expect({
          responses: result.responses.length,
          status: res?.status,
          type: res?.headers['content-type'],
          length: res?.headers['content-length'],
          etag: /^W\//.test(res?.headers.etag ?? ''),
          trailingBytes: result.bytes.length - result.bytes.indexOf('\r\n\r\n') - 4,
        }).toEqual({
          responses: 1,
          status: 200,
          type: 'text/javascript; charset=utf-8',
          length: String(Buffer.byteLength(FILES['assets/app.mjs']!)),
          etag: true,
          trailingBytes: 0,
        });
      });

      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        it(`answers ${method} with 405 and Allow: GET, HEAD`, async () => {
          const res = await request(router.url, { method, path: '/about', headers: { host: 'localhost' } });
          expect({ status: res.status, allow: res.headers.allow }).toEqual({ status: 405, allow: 'GET, HEAD' });
        });
      }
    });
  });
}
