import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { exchange, healthStatus } from './_net.ts';

/**
 * DESIGN §4: no path escapes the build directory. The router serves
 * `<tmp>/build`; next to it sit files holding a secret. Every attack is sent
 * over raw TCP with the request-target verbatim (fetch and node:http would
 * resolve dot-segments or escape bytes first), and no answer may contain the
 * secret.
 *
 * Plain and `%2e`-encoded `..` segments are dot-segments to the WHATWG URL
 * parser every runtime uses, so they are resolved before lookup and land
 * inside the directory: a missing asset (404) or the SPA shell (200).
 * `\` is a `/` to that parser on Bun and Deno; @hono/node-server refuses it
 * with 400 before rxroute sees it.
 */
export function addTests(runtime: Runtime): void {
  describe(`path traversal on the build directory (${runtime})`, () => {
    const secret = `RXROUTE-SECRET-${randomBytes(8).toString('hex')}`;
    let base: string;
    let router: RouterProcess;

    beforeAll(async () => {
      base = mkdtempSync(join(tmpdir(), 'rxroute-traversal-'));
      const build = join(base, 'build');
      const write = (relative: string, contents: string) => {
        mkdirSync(join(base, relative, '..'), { recursive: true });
        writeFileSync(join(base, relative), contents);
      };
      // Outside the build directory.
      write('secret.txt', `${secret} secret.txt`);
      write('outside/index.html', `${secret} outside/index.html`);
      write('build-sibling/x.txt', `${secret} build-sibling/x.txt`); // shares the "build" prefix
      // Inside.
      write('build/index.html', '<!doctype html>SPA-SHELL');
      write('build/assets/app.js', 'console.log("app")');
      write('build/.env', `SECRET_KEY=${secret}`);
      write('build/.git/config', `[remote "origin"] ${secret}`);
      write('build/assets/.hidden.js', `// ${secret}`);
      // Symlinks inside the directory pointing outside it.
      symlinkSync(join(base, 'secret.txt'), join(build, 'link-out.txt'));
      symlinkSync(base, join(build, 'up'));
      symlinkSync(join(base, 'outside'), join(build, 'outdir'));
      symlinkSync('../build-sibling', join(build, 'sibling'));
      symlinkSync('../../secret.txt', join(build, 'assets/relative-out.js'));
      router = await startRouter(runtime, ['--port', '0', '--host', '127.0.0.1', '--log', 'json', '--static', build]);
    }, 40_000);

    afterAll(async () => {
      await router?.stop();
      if (base) rmSync(base, { recursive: true, force: true });
    });

    const SHELL = '<!doctype html>SPA-SHELL';
    type Outcome = { status: number; body?: string };
    const refused: Outcome = { status: 400, body: 'bad path: it escapes the build directory or is not valid UTF-8\n' };
    const notFound: Outcome = { status: 404, body: 'not found\n' };
    const shell: Outcome = { status: 200, body: SHELL };
    // @hono/node-server's own answer to a backslash in the path: 400, empty body.
    const backslash: Outcome = runtime === 'node' ? { status: 400, body: '' } : notFound;

    const attacks: Array<[target: string, expected: Outcome, why: string]> = [
      // Dot-segments, resolved by URL parsing before lookup.
      ['/../secret.txt', notFound, 'resolves to /secret.txt, a missing asset'],
      ['/../../../../../../etc/passwd', shell, 'resolves to /etc/passwd, an extensionless miss'],
      ['/assets/../../secret.txt', notFound, 'resolves to /secret.txt'],
      ['/%2e%2e/secret.txt', notFound, '%2e%2e is a dot-segment to the URL parser'],
      ['/%2E%2E/%2e%2E/secret.txt', notFound, 'either case'],
      ['/.%2e/secret.txt', notFound, 'half-encoded'],
      ['/assets/%2e%2e/%2e%2e/secret.txt', notFound, 'encoded, below a real directory'],
      // Encoded separators and NUL: refused by rxroute.
      ['/%2e%2e%2fsecret.txt', refused, 'encoded ../ in one segment'],
      ['/..%2fsecret.txt', refused, 'encoded /'],
      ['/..%2Fsecret.txt', refused, 'encoded /, upper case'],
      ['/%2fetc%2fpasswd', refused, 'encoded leading /'],
      ['/..%5csecret.txt', refused, 'encoded \\'],
      ['/..%5c..%5csecret.txt', refused, 'encoded \\ twice'],
      ['/..\\secret.txt', backslash, 'raw \\'],
      ['/%00', refused, 'NUL'],
      ['/index.html%00.js', refused, 'NUL before a fake extension'],
      ['/assets/app.js%00', refused, 'trailing NUL'],
      ['/%zz/secret.txt', refused, 'invalid escape'],
      ['/%c0%ae%c0%ae/secret.txt', refused, 'overlong UTF-8 dots'],
      ['/%c0%ae%c0%ae%c0%afsecret.txt', refused, 'overlong UTF-8 ../'],
      ['/%e0%80%ae%e0%80%ae/secret.txt', refused, 'three-byte overlong dots'],
      // Decoded once only.
      ['/%252e%252e%252fsecret.txt', notFound, 'double-encoded: one segment named %2e%2e%2fsecret.txt'],
      ['/%252e%252e/secret.txt', notFound, 'double-encoded dots'],
      // Symlinks that leave the directory.
      ['/link-out.txt', notFound, 'file symlink to ../secret.txt'],
      ['/assets/relative-out.js', notFound, 'relative file symlink to ../../secret.txt'],
      ['/up/secret.txt', notFound, 'directory symlink to the parent'],
      ['/up', shell, 'directory symlink, extensionless'],
      ['/outdir/', shell, 'directory symlink whose index.html is outside'],
      ['/outdir', shell, 'same, without the slash'],
      ['/outdir/index.html', notFound, 'same, by name'],
      ['/sibling/x.txt', notFound, 'a directory that merely shares the build prefix'],
      // Dotfiles.
      ['/.env', notFound, 'dotfile'],
      ['/.git/config', notFound, 'dot-directory'],
      ['/%2eenv', notFound, 'encoded leading dot'],
      ['/%2egit/config', notFound, 'encoded dot-directory'],
      ['/assets/.hidden.js', notFound, 'dotfile below a directory'],
      ['/.git', notFound, 'dot-directory itself'],
      // Odd shapes.
      ['//etc/passwd', shell, 'empty segment: looked up as etc/passwd inside'],
      ['/assets//..//..//secret.txt', notFound, 'empty segments around dot-segments'],
    ];

    describe('attacks', { concurrent: true, timeout: 10_000 }, () => {
      for (const [target, expected, why] of attacks) {
        it(`GET ${target} → ${expected.status} (${why}), secret never sent`, async () => {
          const result = await exchange(router.port, `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`, {
            responses: 1,
          });
          const res = result.responses[0];
          expect({
            status: res?.status,
            body: expected.body === undefined ? undefined : res?.body.toString(),
            leaked: result.bytes.toString('latin1').includes(secret),
          }).toEqual({ ...expected, leaked: false });
          expect(await healthStatus(router.port)).toBe(200);
        });
      }

      it('never sends the secret to HEAD or a Range request either', async () => {
        const results = await Promise.all([
          exchange(router.port, 'HEAD /link-out.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', { head: true }),
          exchange(router.port, 'GET /link-out.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-10\r\nConnection: close\r\n\r\n'),
          exchange(router.port, 'GET /.env HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-10\r\nConnection: close\r\n\r\n'),
        ]);
        expect(results.map((r) => ({ status: r.responses[0]?.status, leaked: r.bytes.toString('latin1').includes(secret) })))
          .toEqual([
            { status: 404, leaked: false },
            { status: 404, leaked: false },
            { status: 404, leaked: false },
          ]);
      });
    });
  });
}
