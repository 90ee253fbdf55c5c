import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, launchChromium, startStack, type Profile, type Stack } from './_stack.ts';

/**
 * rxroute in front of software nobody here wrote (issue 7): Debian's Django
 * (admin, sessions, CSRF, static files), a Reflex-shaped python-socketio +
 * uvicorn backend, a real Vite dev server and Debian's Chromium. One scenario
 * per `it`, in order: the admin login leaves the session the socket scenario
 * checks, and the backend restart comes last.
 */

// What test/e2e/frontend/main.js puts on window.
interface Hello {
  name: 'hello';
  boot: string;
  sid: string;
  user: string | null;
  token: string | null;
  host: string | null;
  origin: string | null;
  forwarded_host: string | null;
  protocol: string | null;
  at: number;
}
interface Reply {
  name: 'reply';
  payload: { seq: number; [key: string]: unknown };
  boot: string;
  sid: string;
  user: string | null;
  token: string | null;
  sentAt: number;
  receivedAt: number;
}
interface NdjsonLine {
  readAt: number;
  t: number;
  [key: string]: unknown;
}
interface UploadResult {
  status: number;
  size: number;
  sha256: string;
  startedAt: number;
  headersAt: number;
  finishedAt: number;
  lines: NdjsonLine[];
}
interface StreamResult {
  status: number;
  contentType: string | null;
  startedAt: number;
  lines: Array<NdjsonLine & { i: number; of: number }>;
}
interface PingResult {
  status: number;
  body: string;
  boot: string | null;
  startedAt: number;
  finishedAt: number;
}
interface E2ePage {
  state: {
    token: string;
    connects: Array<{ at: number; id: string }>;
    disconnects: Array<{ at: number; reason: string }>;
    connectErrors: Array<{ at: number; message: string }>;
    hellos: Hello[];
    replies: Reply[];
    loadedAt: number;
  };
  socket: { id: string | undefined; connected: boolean; io: { engine: { transport: { name: string } } } };
  roundTrip(payload: Record<string, unknown>, timeoutMs?: number): Promise<Reply>;
  upload(mib: number): Promise<UploadResult>;
  stream(n?: number, delay?: number): Promise<StreamResult>;
  ping(): Promise<PingResult>;
  log(text: string): void;
}
declare global {
  interface Window {
    e2e: E2ePage;
    e2eMarker: string;
    e2eGreetingRuns: number;
  }
}

const MiB = 1024 * 1024;
const UPLOAD_MIB = 200;

/** The page's upload pattern (main.js), hashed here too. */
function expectedUploadSha256(mib: number): string {
  const chunk = new Uint8Array(MiB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + (i >> 10)) & 255;
  const hash = createHash('sha256');
  for (let i = 0; i < mib; i++) hash.update(chunk);
  return hash.digest('hex');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A multipart upload from Node through rxroute that sends half its body, then
 * waits for a progress line before sending the rest: it completes only if
 * rxroute hands the backend's response to the client while the request body
 * is still arriving (no timing threshold involved).
 */
async function uploadWaitingForProgress(routerUrl: string, host: string, mib: number): Promise<{ lines: Array<Record<string, unknown>>; progressBeforeSecondHalf: number; sha256: string }> {
  const boundary = 'rxroute-e2e-boundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="node.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunk = Buffer.alloc(MiB, 'rxroute');
  const hash = createHash('sha256');
  for (let i = 0; i < mib; i++) hash.update(chunk);
  const url = new URL('/_upload', routerUrl);
  return new Promise((resolve, reject) => {
    const lines: Array<Record<string, unknown>> = [];
    let progressBeforeSecondHalf = 0;
    let sawProgress: () => void = () => undefined;
    const progressArrived = new Promise<void>((settle) => {
      sawProgress = settle;
    });
    const req = http.request(url, {
      method: 'POST',
      headers: { host, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + mib * MiB + tail.length },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no progress line reached the client within 30 s while the upload was half sent (lines so far: ${JSON.stringify(lines)})`));
    }, 30_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        pending += text;
        let newline;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = JSON.parse(pending.slice(0, newline)) as Record<string, unknown>;
          pending = pending.slice(newline + 1);
          lines.push(line);
          if (line.event === 'progress') sawProgress();
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ lines, progressBeforeSecondHalf, sha256: hash.digest('hex') });
      });
      res.on('error', reject);
    });
    const write = async (count: number) => {
      for (let i = 0; i < count; i++) {
        if (!req.write(chunk)) await new Promise((drained) => req.once('drain', drained));
      }
    };
    void (async () => {
      req.write(head);
      await write(mib / 2);
      await progressArrived;
      progressBeforeSecondHalf = lines.filter((line) => line.event === 'progress').length;
      await write(mib / 2);
      req.end(tail);
    })().catch(reject);
  });
}

export function addE2eTests(profile: Profile): void {
  describe(`end to end, profile ${profile}`, () => {
    let stack: Stack;
    let browser: Browser;
    let context: BrowserContext;
    /** The Vite page, opened after the admin login so its socket carries the session cookie. */
    let app: Page;
    let origin: string;
    const pageErrors: string[] = [];
    const webSocketUrls: string[] = [];
    const shot = (page: Page, name: string) => page.screenshot({ path: `${stack.artifacts}${name}.png`, fullPage: true });
    const note = (text: string) => console.info(`[e2e ${profile}] ${text}`);

    async function logIn(page: Page): Promise<void> {
      await page.goto(`${origin}/admin/login/?next=/admin/`);
      await page.fill('#id_username', ADMIN.username);
      await page.fill('#id_password', ADMIN.password);
      await Promise.all([page.waitForURL(`${origin}/admin/`), page.click('input[type=submit]')]);
    }

    beforeAll(async () => {
      const started = Date.now();
      stack = await startStack(profile);
      origin = stack.origin;
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
      note(`stack up in ${Date.now() - started} ms: router ${stack.router.url}, vite ${stack.vite.url}, backend :${stack.backendPort}`);
    });

    afterAll(async () => {
      // The browser first, so open sockets do not hold anything's shutdown.
      await browser?.close().catch(() => undefined);
      await stack?.close();
    });

    it('admin login and logout in the browser with CSRF on, no CSRF_TRUSTED_ORIGINS; admin CSS from /static/', async () => {
      const admin = await context.newPage();
      const css: Array<{ url: string; status: number; type: string | undefined }> = [];
      admin.on('response', (response) => {
        if (response.url().includes('/static/admin/css/')) css.push({ url: response.url(), status: response.status(), type: response.headers()['content-type'] });
      });

      // Anonymous: /admin/ sends the browser to the login form (a relative redirect, kept on rxroute's origin).
      await admin.goto(`${origin}/admin/`);
      expect(admin.url()).toBe(`${origin}/admin/login/?next=/admin/`);

      // CSRF is enforced: the same POST without the form's token is refused.
      const withoutToken = await admin.evaluate(async (credentials) => {
        const response = await fetch('/admin/login/?next=/admin/', { method: 'POST', body: new URLSearchParams(credentials) });
        return { status: response.status, text: await response.text() };
      }, ADMIN);
      expect(withoutToken.status).toBe(403);
      expect(withoutToken.text).toContain('CSRF');

      await admin.fill('#id_username', ADMIN.username);
      await admin.fill('#id_password', ADMIN.password);
      await Promise.all([admin.waitForURL(`${origin}/admin/`), admin.click('input[type=submit]')]);
      expect(await admin.textContent('#user-tools')).toMatch(new RegExp(`Welcome,\\s*${ADMIN.username}`));
      expect(await admin.textContent('#site-name')).toContain('Django administration');

      // Admin CSS came from /static/ through rxroute and is applied.
      expect(css.map((entry) => new URL(entry.url).pathname)).toContain('/static/admin/css/base.css');
      for (const entry of css) {
        expect(entry.status, entry.url).toBe(200);
        expect(entry.type, entry.url).toMatch(/^text\/css/);
      }
      expect(await admin.$eval('#header', (el) => getComputedStyle(el).backgroundColor)).toBe('rgb(65, 118, 144)');

      // Django saw the browser's Host, so its own checks compare against localhost:PORT.
      const seen = await admin.evaluate(() => fetch('/api/whoami/').then((response) => response.json() as Promise<Record<string, string | number | null>>));
      // Answered by the process the profile says: the backend (integrated) or runserver (split_dev).
      expect(seen.pid).toBe(profile === 'integrated' ? stack.backend.pid : stack.django?.pid);
      expect(seen).toMatchObject({ user: ADMIN.username, host: `localhost:${stack.router.port}`, absolute_uri: `${origin}/api/whoami/`, x_forwarded_host: `localhost:${stack.router.port}`, x_forwarded_proto: 'http' });
      // A POST with the CSRF token passes Django's middleware, and its Origin would also pass the
      // Origin check Django 4.0+ adds (Origin equal to scheme://Host), with no CSRF_TRUSTED_ORIGINS.
      const posted = await admin.evaluate(async () => {
        const token = /(?:^|; )csrftoken=([^;]+)/.exec(document.cookie)?.[1] ?? '';
        const response = await fetch('/api/whoami/', { method: 'POST', headers: { 'X-CSRFToken': token } });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      });
      expect(posted).toMatchObject({ status: 200, body: { method: 'POST', user: ADMIN.username, origin, origin_verified: true } });
      await shot(admin, '01-admin-dashboard');

      await Promise.all([admin.waitForURL(`${origin}/admin/logout/`), admin.click('#user-tools a[href="/admin/logout/"]')]);
      expect(await admin.textContent('#content')).toContain('Thanks for spending some quality time');
      expect(await admin.evaluate(() => fetch('/api/whoami/').then((response) => response.json() as Promise<{ user: string | null }>))).toMatchObject({ user: null });
      await shot(admin, '02-admin-logged-out');
      await admin.goto(`${origin}/admin/`);
      expect(admin.url()).toBe(`${origin}/admin/login/?next=/admin/`);

      // Log in again: the following scenarios use this session.
      await logIn(admin);
      expect(await admin.textContent('#user-tools')).toMatch(new RegExp(`Welcome,\\s*${ADMIN.username}`));
      await admin.close();
    });

    it('Socket.IO from the Vite page connects through rxroute, the backend sees the Django session, events round-trip', async () => {
      app = await context.newPage();
      app.on('pageerror', (error) => pageErrors.push(error.message));
      app.on('websocket', (socket) => webSocketUrls.push(socket.url()));
      await app.goto(`${origin}/`);
      await app.waitForFunction(() => window.e2e?.state.hellos.length >= 1, null, { timeout: 30_000 });
      const { state, transport } = await app.evaluate(() => ({ state: window.e2e.state, transport: window.e2e.socket.io.engine.transport.name }));
      expect(transport).toBe('websocket');
      expect(state.connects).toHaveLength(1);
      const hello = state.hellos[0]!;
      expect(hello).toMatchObject({
        user: ADMIN.username,
        token: state.token,
        host: `localhost:${stack.router.port}`,
        origin,
        forwarded_host: `localhost:${stack.router.port}`,
        protocol: '0.8.0',
      });

      const replies: Reply[] = [];
      for (let i = 0; i < 5; i++) replies.push(await app.evaluate((n) => window.e2e.roundTrip({ text: `hello ${n}` }), i));
      replies.forEach((reply, i) => {
        expect(reply).toMatchObject({ name: 'reply', payload: { text: `hello ${i}` }, user: ADMIN.username, token: state.token, boot: hello.boot, sid: hello.sid });
      });
      // A burst, answered in order.
      const burst = await app.evaluate(() => Promise.all(Array.from({ length: 20 }, (_, i) => window.e2e.roundTrip({ burst: i }))));
      expect(burst.map((reply) => reply.payload.burst)).toEqual(Array.from({ length: 20 }, (_, i) => i));

      // The page's sockets (Socket.IO and Vite's HMR socket) all go to rxroute's origin.
      expect(webSocketUrls.some((url) => url.startsWith(`ws://localhost:${stack.router.port}/_event/?`))).toBe(true);
      expect(webSocketUrls.every((url) => url.startsWith(`ws://localhost:${stack.router.port}/`)), webSocketUrls.join(', ')).toBe(true);
      note(`socket round trips: ${replies.map((reply) => reply.receivedAt - reply.sentAt).join(', ')} ms`);
      await shot(app, '03-app-socket-connected');
    });

    it('a Django streaming view reaches the browser incrementally', async () => {
      const result = await app.evaluate(() => window.e2e.stream(6, 0.4));
      expect(result.status).toBe(200);
      expect(result.contentType).toBe('application/x-ndjson');
      expect(result.lines.map((line) => line.i)).toEqual([0, 1, 2, 3, 4, 5]);
      const first = result.lines[0]!;
      const last = result.lines.at(-1)!;
      // The browser had chunk 1 before Django generated the last chunk (same machine, same clock).
      expect(first.readAt).toBeLessThan(last.t);
      // And every chunk was read after it was generated (the clocks agree).
      for (const line of result.lines) expect(line.readAt).toBeGreaterThanOrEqual(Math.floor(line.t) - 5);
      note(`stream: read latency per chunk ${result.lines.map((line) => Math.round(line.readAt - line.t)).join(', ')} ms; chunk 1 read ${Math.round(last.t - first.readAt)} ms before the last was generated`);
      await shot(app, '04-app-django-stream');
    });

    it(`a ${UPLOAD_MIB} MiB multipart upload from the browser reaches /_upload with a matching hash while progress streams back`, async () => {
      const expected = expectedUploadSha256(UPLOAD_MIB);
      const result = await app.evaluate((mib) => window.e2e.upload(mib), UPLOAD_MIB);
      expect(result.status).toBe(200);
      expect(result.size).toBe(UPLOAD_MIB * MiB);
      expect(result.sha256).toBe(expected);

      const start = result.lines.find((line) => line.event === 'start');
      const progress = result.lines.filter((line) => line.event === 'progress');
      const done = result.lines.find((line) => line.event === 'done');
      expect(result.lines.at(-1), JSON.stringify(result.lines.at(-1))).toBe(done);
      expect(done?.files).toEqual([{ field: 'files', filename: 'big.bin', bytes: UPLOAD_MIB * MiB, sha256: expected }]);
      // The browser's Content-Length reached the backend unchanged (not re-chunked).
      expect(start).toMatchObject({ content_length: done?.received, chunked: false });
      // Progress: many lines, counts increasing, all before the end of the body.
      expect(progress.length).toBeGreaterThanOrEqual(20);
      const counts = progress.map((line) => line.received as number);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(new Set(counts).size).toBe(counts.length);
      expect(counts.at(-1)).toBeLessThan(done?.received as number);
      // The backend wrote each progress line while the body was still arriving.
      expect(progress[0]!.t).toBeLessThan(done!.t);

      const seconds = (result.finishedAt - result.startedAt) / 1000;
      const firstProgressRead = progress[0]!.readAt;
      note(
        `upload: ${UPLOAD_MIB} MiB in ${seconds.toFixed(1)} s (${(UPLOAD_MIB / seconds).toFixed(0)} MiB/s); ` +
          `response headers ${result.headersAt - result.startedAt} ms after the POST; backend wrote progress 1 at +${Math.round(progress[0]!.t - result.startedAt)} ms, ` +
          `the page read it at +${firstProgressRead - result.startedAt} ms; backend finished at +${Math.round(done!.t - result.startedAt)} ms; ` +
          `progress lines read before the backend wrote its last line: ${progress.filter((line) => line.readAt < done!.t).length} of ${progress.length}`,
      );
      await shot(app, '05-app-upload-done');

      // What Chromium does not show (it reads the response only once it has sent the whole body):
      // rxroute passes the progress to a client while that client is still uploading.
      const node = await uploadWaitingForProgress(stack.router.url, `localhost:${stack.router.port}`, 32);
      expect(node.progressBeforeSecondHalf).toBeGreaterThanOrEqual(1);
      expect(node.lines.at(-1)).toMatchObject({ event: 'done', files: [{ field: 'files', filename: 'node.bin', bytes: 32 * MiB, sha256: node.sha256 }] });
    });

    it('editing a frontend file updates the open page through HMR (no reload)', async () => {
      const before = await app.evaluate(() => ({ marker: window.e2eMarker, runs: window.e2eGreetingRuns, connects: window.e2e.state.connects.length, text: document.querySelector('#greeting')?.textContent }));
      expect(before).toMatchObject({ runs: 1, connects: 1, text: 'greeting v1' });
      stack.vite.edit('greeting.js', (source) => source.replace("'greeting v1'", "'greeting v2, edited by the suite'"));
      await app.waitForFunction(() => document.querySelector('#greeting')?.textContent === 'greeting v2, edited by the suite', null, { timeout: 30_000 });
      const after = await app.evaluate(() => ({ marker: window.e2eMarker, runs: window.e2eGreetingRuns, connects: window.e2e.state.connects.length }));
      // Same page (marker kept, Socket.IO not reconnected), the module ran a second time.
      expect(after).toEqual({ marker: before.marker, runs: 2, connects: 1 });
      // Vite's HMR socket went through rxroute (the page has no other origin to use).
      expect(webSocketUrls.some((url) => /^ws:\/\/localhost:\d+\/\?token=/.test(url) && url.startsWith(`ws://localhost:${stack.router.port}/`)), webSocketUrls.join(', ')).toBe(true);
      await shot(app, '06-app-hmr-updated');
    });

    it('the backend is killed and restarted with the page open: the socket reconnects through rxroute and a request made meanwhile succeeds', async () => {
      const before = await app.evaluate(() => ({ hellos: window.e2e.state.hellos.length, disconnects: window.e2e.state.disconnects.length, connects: window.e2e.state.connects.length, hello: window.e2e.state.hellos.at(-1)! }));
      const oldPid = stack.backend.pid;
      await stack.killBackend();
      // The page notices: rxroute closes the relayed socket when the upstream dies.
      await app.waitForFunction((n) => window.e2e.state.disconnects.length > n, before.disconnects, { timeout: 15_000 });

      // A request made while the backend is down.
      const ping = app.evaluate(() => window.e2e.ping());
      await sleep(1_500);
      const restartedAt = Date.now();
      await stack.startBackend();
      expect(stack.backend.pid).not.toBe(oldPid);
      const pinged = await ping;
      expect(pinged).toMatchObject({ status: 200, body: '"pong"' });
      expect(pinged.boot).not.toBe(before.hello.boot);
      expect(pinged.startedAt).toBeLessThan(restartedAt);

      // socket.io-client reconnects through rxroute to the new process, which sees the same session.
      await app.waitForFunction((n) => window.e2e.state.hellos.length > n && window.e2e.socket.connected, before.hellos, { timeout: 60_000 });
      const after = await app.evaluate(() => ({ state: window.e2e.state, transport: window.e2e.socket.io.engine.transport.name }));
      const hello = after.state.hellos.at(-1)!;
      expect(after.state.connects.length).toBe(before.connects + 1);
      expect(after.transport).toBe('websocket');
      expect(hello.boot).not.toBe(before.hello.boot);
      expect(hello.boot).toBe(pinged.boot);
      expect(hello).toMatchObject({ user: ADMIN.username, token: after.state.token, host: `localhost:${stack.router.port}`, protocol: '0.8.0' });
      const reply = await app.evaluate(() => window.e2e.roundTrip({ text: 'after restart' }));
      expect(reply).toMatchObject({ payload: { text: 'after restart' }, user: ADMIN.username, boot: hello.boot });

      const disconnect = after.state.disconnects[before.disconnects]!;
      note(
        `restart: disconnect "${disconnect.reason}"; GET /ping waited ${pinged.finishedAt - pinged.startedAt} ms (${pinged.finishedAt - restartedAt} ms after the restart began); ` +
          `socket reconnected ${after.state.connects.at(-1)!.at - restartedAt} ms after the restart began, connect_errors meanwhile: ${after.state.connectErrors.length}`,
      );
      await shot(app, '07-app-after-backend-restart');
      expect(pageErrors).toEqual([]);
    });
  });
}
