import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { tempDataDir } from '../_helpers/tls.ts';
import { startUpstream, type Upstream } from '../_helpers/upstream.ts';
import { startViteUpstream, startWsUpstream, VITE_MODULE, type WsUpstream } from '../websocket/_upstreams.ts';

const CHROMIUM = '/usr/bin/chromium';
const MODULES = 40;

/**
 * Chromium trusting rxroute's CA through an NSS database in its own HOME
 * (what `rxroute trust` sets up for Chrome on Linux; no
 * --ignore-certificate-errors): the page and its modules over h2, a Secure
 * cookie set by "Django" and sent back, a wss socket with its subprotocol.
 */
export function addBrowserTests(runtime: Runtime): void {
  describe(`Chromium over rxroute --https (${runtime})`, () => {
    let frontend: Upstream;
    let django: Upstream;
    let backend: WsUpstream;
    let router: RouterProcess;
    let browser: Browser;
    let dataDir: string;
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

    beforeAll(async () => {
      [frontend, django, backend] = await Promise.all([startUpstream('frontend'), startUpstream('django'), startWsUpstream('backend')]);
      serveApp(frontend, django);
      dataDir = tempDataDir();
      router = await startRouter(
        runtime,
        ['--https', '--port', '0', '--log', 'json', '--frontend', frontend.url, '--backend', backend.url, '--django', django.url, '--profile', 'split_dev'],
        { env: { RXROUTE_DATA_DIR: dataDir } },
      );
      const home = join(dataDir, 'home');
      const nssdb = join(home, '.pki', 'nssdb');
      mkdirSync(nssdb, { recursive: true });
      // The two NSS commands `rxroute trust` runs for Chrome on Linux.
      execFileSync('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password']);
      execFileSync('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', 'rxroute test', '-i', join(dataDir, 'ca.pem')]);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        env: { ...process.env, HOME: home },
        args: flags,
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await router?.stop();
      await Promise.all([frontend?.close(), django?.close(), backend?.close()]);
    });

    it('loads the page and its modules over h2 with the CA trusted, keeps a Secure cookie, opens wss', { timeout: 60_000 }, async () => {
      const page = await browser.newPage();
      try {
        const response = await page.goto(`https://localhost:${router.port}/`);
        await page.waitForFunction(() => (window as unknown as { done?: boolean }).done === true, undefined, { timeout: 20_000 });
        const result = await page.evaluate(() => {
          const w = window as unknown as { loaded: number; cookieSeen: string; wsProtocol: string; wsEcho: string };
          const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
          const modules = entries.filter((e) => e.name.includes('/m/'));
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
          return {
            secure: window.isSecureContext,
            loaded: w.loaded,
            navProtocol: nav.nextHopProtocol,
            moduleProtocols: [...new Set(modules.map((e) => e.nextHopProtocol))],
            modules: modules.length,
            cookieSeen: w.cookieSeen,
            wsProtocol: w.wsProtocol,
            wsEcho: w.wsEcho,
          };
        });
        expect({ status: response?.status(), ...result }).toEqual({
          status: 200,
          secure: true,
          loaded: MODULES,
          navProtocol: 'h2',
          moduleProtocols: ['h2'],
          modules: MODULES,
          cookieSeen: 'sessionid=rx-secure-1',
          wsProtocol: 'vite-hmr',
          wsEcho: 'ping over wss',
        });
      } finally {
        await page.close();
      }
    });

    it("relays a real Vite's HMR socket over wss: connected, then a hot update when the module changes", { timeout: 60_000 }, async () => {
      const vite = await startViteUpstream();
      const viteRouter = await startRouter(runtime, ['--https', '--port', '0', '--log', 'json', '--frontend', vite.url], { env: { RXROUTE_DATA_DIR: dataDir } });
      const page = await browser.newPage();
      const messages: string[] = [];
      const sockets: string[] = [];
      page.on('console', (m) => messages.push(m.text()));
      page.on('websocket', (ws) => sockets.push(ws.url()));
      const saw = async (text: string, timeoutMs: number) => {
        const deadline = Date.now() + timeoutMs;
        while (!messages.some((m) => m.includes(text)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        return messages.some((m) => m.includes(text));
      };
      try {
        await page.goto(`https://localhost:${viteRouter.port}/`);
        const connected = await saw('[vite] connected', 15_000);
        // The watcher may not be ready at the first write; edit until an update comes through.
        let updated = false;
        for (let version = 1; connected && !updated && version <= 10; version++) {
          vite.editModule(version);
          updated = await saw(`[vite] hot updated: ${VITE_MODULE}`, 2_000);
        }
        expect({ connected, updated, wss: sockets.some((u) => u.startsWith(`wss://localhost:${viteRouter.port}/`)) }, messages.join('\n')).toEqual({
          connected: true,
          updated: true,
          wss: true,
        });
      } finally {
        await page.close();
        await viteRouter.stop();
        await vite.close();
      }
    });

    it('is refused by a Chromium whose NSS database lacks the CA', { timeout: 60_000 }, async () => {
      const home = join(dataDir, 'untrusting-home');
      mkdirSync(home, { recursive: true });
      const untrusting = await chromium.launch({ executablePath: CHROMIUM, env: { ...process.env, HOME: home }, args: flags });
      try {
        const page = await untrusting.newPage();
        const error = await page.goto(`https://localhost:${router.port}/`).then(() => 'loaded', (e: Error) => e.message);
        expect(error).toMatch(/ERR_CERT_AUTHORITY_INVALID/);
      } finally {
        await untrusting.close();
      }
    });
  });
}

/** A Vite-shaped page: many module requests, a login that sets a Secure cookie, a socket. */
function serveApp(frontend: Upstream, django: Upstream): void {
  const imports = Array.from({ length: MODULES }, (_, i) => `import './m/${i}.js';`).join('\n');
  frontend.handle('/', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>rxroute https</title><script>window.loaded = 0;</script>
<script type="module">
${imports}
const login = await fetch('/api/login', { method: 'POST' });
await login.text();
window.cookieSeen = (await (await fetch('/api/whoami')).json()).cookie;
const ws = new WebSocket('wss://' + location.host + '/_event?EIO=4', ['vite-hmr']);
ws.onmessage = (event) => {
  const data = String(event.data);
  if (data.startsWith('{')) { window.wsProtocol = ws.protocol; ws.send('ping over wss'); return; }
  window.wsEcho = data;
  window.done = true;
};
</script>`);
  });
  for (let i = 0; i < MODULES; i++) {
    frontend.handle(`/m/${i}.js`, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(`window.loaded++;\nexport const n${i} = ${i};\n`);
    });
  }
  django.handle('/api/login', (req, res) => {
    req.resume();
    // What Django sets with SESSION_COOKIE_SECURE once it sees X-Forwarded-Proto: https.
    const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
    res.writeHead(200, { 'set-cookie': `sessionid=rx-secure-1; Path=/; HttpOnly; SameSite=Lax${secure}`, 'content-type': 'text/plain' });
    res.end('ok');
  });
  django.handle('/api/whoami', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ cookie: req.headers.cookie ?? '' }));
  });
}
