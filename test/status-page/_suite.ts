import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportedRuntime, startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';

/**
 * The status page at /__rxroute/ (DESIGN §1) and the 502 page's reload
 * (DESIGN §6), in headless Chromium against a real router and real upstreams:
 * what a developer sees, row by row and card by card.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = `${root}test-artifacts/`;
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

/** Debian's Chromium, driven by playwright-core; never a downloaded browser. */
const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A node:http upstream that can be stopped (connections dropped) and started again on the same port. */
class Upstream {
  port = 0;
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(readonly name: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/missing') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
        } else if (req.headers.accept?.includes('text/html')) {
          res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>${this.name}</title><h1 id="upstream-page">${this.name} ${req.url}</h1>`);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: this.name, url: req.url }));
        }
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Like a killed process: the listener closes and every connection drops. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

interface Row {
  method: string;
  path: string;
  owner: string;
  status: string;
}

/** The log rows the page currently shows (not hidden by the filter), top to bottom. */
function visibleRows(page: Page): Promise<Row[]> {
  return page.$$eval('#log-rows tr:not([hidden])', (trs) =>
    trs.map((tr) => {
      const cell = (i: number) => (tr as HTMLTableRowElement).cells[i]?.textContent ?? '';
      return { method: cell(1), path: cell(4), owner: cell(3), status: cell(2) };
    }),
  );
}

export function addTests(runtime: Runtime): void {
  const shot = (name: string) => `${artifacts}${name}${runtime === 'binary' ? '' : `.${runtime}`}.png`;

  describe(`status page (${runtime})`, () => {
    const frontend = new Upstream('frontend');
    const backend = new Upstream('backend');
    let router: RouterProcess;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const pageErrors: string[] = [];
    let origin: string;
    const request = (path: string, init: RequestInit = {}) =>
      fetch(`${router.url}${path}`, { ...init, headers: { host: `localhost:${router.port}`, ...init.headers } }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      });

    beforeAll(async () => {
      mkdirSync(artifacts, { recursive: true });
      await Promise.all([frontend.start(), backend.start()]);
      browser = await launchChromium();
      router = await startRouter(runtime, ['--port', '0', '--log', 'json', '--frontend', frontend.url, '--backend', backend.url, '--wait', '0']);
      origin = `http://localhost:${router.port}`;
      context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
    }, 60_000);

    afterAll(async () => {
      // The browser first: its event stream would otherwise hold the router's shutdown.
      await browser?.close();
      await router?.stop();
      await Promise.all([frontend.stop(), backend.stop()]);
    });

    it('serves the page with version, runtime, profile and the route table', async () => {
      const res = await page.goto(`${origin}/__rxroute/`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-type']).toBe('text/html; charset=utf-8');
      expect(res?.headers()['cache-control']).toBe('no-store');
      expect(await page.textContent('header')).toMatch(new RegExp(`version ${version}.*runtime ${reportedRuntime[runtime]}.*profile integrated`));
      const routes = await page.$$eval('table.routes tbody tr', (trs) =>
        trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((td) => td.textContent ?? '')),
      );
      expect(routes).toContainEqual(['/_event', 'backend', backend.url, 'reflex path', 'ws']);
      expect(routes).toContainEqual(['/admin', 'django', backend.url, 'django prefix (profile integrated)', 'ws']);
      expect(routes[0]).toEqual(['/__rxroute', 'rxroute', '-', 'rxroute (own endpoints)', '']);
      expect(routes.at(-1)).toEqual(['/ (everything else)', 'frontend', frontend.url, 'catch-all (dev_proxy)', 'ws']);
      // Without the trailing slash too.
      expect((await request('/__rxroute', { headers: { accept: 'text/html' } }))).toBe(200);
    });

    it('lists requests as they finish, newest first, with owner and status', async () => {
      await page.waitForSelector('#live[data-state=live]', { timeout: 10_000 });
      await page.waitForSelector(`.card[data-target="${backend.url}"][data-up=true]`, { timeout: 10_000 });
      await page.waitForSelector(`.card[data-target="${frontend.url}"][data-up=true]`, { timeout: 10_000 });
      // /health has answered: plain rxroute supervises nothing, so no Processes panel.
      expect(await page.isHidden('#processes')).toBe(true);
      expect(await request('/ping')).toBe(200);
      expect(await request('/dashboard/settings')).toBe(200);
      expect(await request('/admin/login/')).toBe(200);
      expect(await request('/missing')).toBe(404);
      expect(await request('/_upload', { method: 'POST', body: 'x'.repeat(3000) })).toBe(200);
      // Markup in a path is shown as text, never run.
      expect(await request('/x/%3Cimg%20src=x%20onerror=window.pwned=1%3E')).toBe(200);
      await page.waitForFunction(() => document.querySelectorAll('#log-rows tr').length >= 6, undefined, { timeout: 10_000 });
      await page.waitForTimeout(300); // nothing else arrives
      expect(await visibleRows(page)).toEqual([
        { method: 'GET', path: '/x/<img src=x onerror=window.pwned=1>', owner: 'frontend', status: '200' },
        { method: 'POST', path: '/_upload', owner: 'backend', status: '200' },
        { method: 'GET', path: '/missing', owner: 'frontend', status: '404' },
        { method: 'GET', path: '/admin/login/', owner: 'django', status: '200' },
        { method: 'GET', path: '/dashboard/settings', owner: 'frontend', status: '200' },
        { method: 'GET', path: '/ping', owner: 'backend', status: '200' },
      ]);
      expect(await page.evaluate(() => [document.querySelectorAll('#log-rows img').length, 'pwned' in window])).toEqual([0, false]);
      expect(await page.getAttribute('#log-rows tr:nth-child(3)', 'data-owner')).toBe('frontend');
      expect(await page.textContent('#log-count')).toBe('6 requests');
      await page.screenshot({ path: shot('status-page'), fullPage: true });
    });

    it('filters rows by a substring of path, owner or status', async () => {
      await page.fill('#filter', 'backend');
      expect((await visibleRows(page)).map((r) => r.path)).toEqual(['/_upload', '/ping']);
      expect(await page.textContent('#log-count')).toBe('2 of 6 match');
      await page.screenshot({ path: shot('status-page-filtered'), fullPage: true });
      await page.fill('#filter', '404');
      expect((await visibleRows(page)).map((r) => r.path)).toEqual(['/missing']);
      await page.fill('#filter', 'ADMIN');
      expect((await visibleRows(page)).map((r) => r.owner)).toEqual(['django']);
      // A row that arrives while filtering is filtered too.
      await page.fill('#filter', '/ping');
      expect(await request('/ping')).toBe(200);
      expect(await request('/about')).toBe(200);
      await page.waitForFunction(() => document.querySelectorAll('#log-rows tr').length >= 8, undefined, { timeout: 10_000 });
      expect((await visibleRows(page)).map((r) => r.path)).toEqual(['/ping', '/ping']);
      await page.fill('#filter', '');
      expect(await visibleRows(page)).toHaveLength(8);
    });

    it('flips an upstream card to down when it stops and back to up when it restarts', async () => {
      const card = `.card[data-target="${backend.url}"]`;
      let started = performance.now();
      await backend.stop();
      await page.waitForSelector(`${card}[data-up=false]`, { timeout: 6_000 });
      const downMs = performance.now() - started;
      expect(await page.textContent(`${card} .state`)).toBe('down');
      expect(await page.textContent(`${card} .since`)).toMatch(/^down for \d+s · since \d\d:\d\d:\d\d$/);
      expect(await page.textContent(`${card} .error`)).not.toBe('');
      expect(await page.title()).toBe('rxroute · 1 down');
      // The other upstream is unaffected.
      expect(await page.getAttribute(`.card[data-target="${frontend.url}"]`, 'data-up')).toBe('true');
      await page.screenshot({ path: shot('status-page-down'), fullPage: true });
      started = performance.now();
      await backend.start();
      await page.waitForSelector(`${card}[data-up=true]`, { timeout: 6_000 });
      const upMs = performance.now() - started;
      console.log(`[${runtime}] status page: card down after ${Math.round(downMs)} ms, up after ${Math.round(upMs)} ms`);
      expect(await page.textContent(`${card} .since`)).toMatch(/^up for \d+s/);
      expect(await page.textContent(`${card} .latency`)).toMatch(/^connect [\d.]+ ms$/);
      expect(await page.title()).toBe('rxroute');
    });

    it('shows the 502 page for a stopped upstream, then reloads into the real page once it is back', async () => {
      await backend.stop();
      const tab = await context.newPage();
      tab.on('pageerror', (error) => pageErrors.push(error.message));
      try {
        const res = await tab.goto(`${origin}/ping`);
        expect(res?.status()).toBe(502);
        expect(await tab.textContent('h1')).toContain('Upstream not reachable');
        expect(await tab.textContent('#rx-reload')).toContain('This page reloads itself when backend is back.');
        await tab.waitForFunction(() => document.getElementById('rx-check')?.textContent?.startsWith('Still down'), undefined, { timeout: 5_000 });
        await tab.screenshot({ path: shot('error-page'), fullPage: true });
        // The failure is in the status page's log too.
        await page.waitForSelector('#log-rows tr[data-status="502"][data-path="/ping"][data-owner=backend]', { timeout: 5_000 });
        await backend.start();
        await tab.waitForSelector('#upstream-page', { timeout: 10_000 });
        expect(tab.url()).toBe(`${origin}/ping`);
        expect(await tab.textContent('#upstream-page')).toBe('backend /ping');
      } finally {
        await tab.close();
        await backend.start();
      }
      expect(pageErrors).toEqual([]);
    });
  });
}
