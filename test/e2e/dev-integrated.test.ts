import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './_stack.ts';
import { ctrlC, editProjectFile, startDevStack, startedProcesses, type DevStack } from './dev-stack.ts';

/**
 * `rxroute dev` with no arguments in a Reflex project whose rxconfig.py is
 * stock (DESIGN §10, profile integrated): the `reflex` on PATH is the fixture
 * launcher with the real Vite and the e2e Socket.IO backend under uvicorn's
 * reloader. In order: start, page, socket, backend restart, Ctrl+C.
 */

interface Ping {
  sentAt: number;
  doneAt: number;
  status: number;
  boot: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ping(url: string): Promise<Ping> {
  const sentAt = performance.now();
  try {
    const response = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(60_000) });
    await response.arrayBuffer();
    return { sentAt, doneAt: performance.now(), status: response.status, boot: response.headers.get('x-backend-boot') };
  } catch {
    return { sentAt, doneAt: performance.now(), status: 0, boot: null };
  }
}

describe('rxroute dev in a stock Reflex project (integrated)', () => {
  let stack: DevStack;
  let browser: Browser | undefined;
  let app: Page;

  beforeAll(async () => {
    stack = await startDevStack('integrated');
    browser = await launchChromium();
    app = await (await browser.newContext()).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('listens on rxconfig.py\'s frontend_port, runs reflex with Vite just above it, and says when it is ready', async () => {
    const health = await fetch(`http://127.0.0.1:${stack.port}/__rxroute/health`).then((r) => r.json() as Promise<{ processes: Array<Record<string, unknown>> }>);
    expect(health.processes).toEqual([
      expect.objectContaining({ name: 'reflex', state: 'running', restarts: 0, command: expect.stringMatching(new RegExp(`reflex run --frontend-port ${stack.port + 1} --backend-port ${stack.backendPort}$`)) }),
    ]);
    await stack.run.waitForLine((line) => new RegExp(`^reflex\\s+│ App running at: http://localhost:${stack.port + 1}/$`).test(line), 'reflex saying where Vite runs');
    expect(stack.reportedReadyMs).toBeGreaterThan(0);
    expect(stack.spawnToReadyMs).toBeGreaterThanOrEqual(stack.reportedReadyMs - 100);
  });

  it('serves the page from Vite through rxroute, with env.json pointing the app at rxroute', async () => {
    const page = await fetch(`${stack.origin.replace('localhost', '127.0.0.1')}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>rxroute e2e</title>');
    expect(html).toContain('<script type="module" src="/@vite/client"></script>');
    const env = await fetch(`http://127.0.0.1:${stack.port}/env.json`).then((r) => r.json() as Promise<Record<string, string>>);
    expect(env).toMatchObject({ EVENT: `ws://localhost:${stack.port}/_event`, PING: `http://localhost:${stack.port}/ping`, UPLOAD: `http://localhost:${stack.port}/_upload` });
  });

  it('connects Socket.IO at /_event through rxroute from Chromium', async () => {
    await app.goto(`${stack.origin}/`);
    await app.waitForFunction(() => window.e2e?.state.hellos.length >= 1, null, { timeout: 30_000 });
    const { hello, transport } = await app.evaluate(() => ({ hello: window.e2e.state.hellos[0]!, transport: window.e2e.socket.io.engine.transport.name }));
    expect(transport).toBe('websocket');
    expect(hello).toMatchObject({ host: `localhost:${stack.port}`, origin: stack.origin, protocol: '0.8.0' });
    const reply = await app.evaluate(() => window.e2e.roundTrip({ text: 'through rxroute dev' }));
    expect(reply).toMatchObject({ name: 'reply', boot: hello.boot, payload: { text: 'through rxroute dev' } });
    await app.screenshot({ path: `${stack.artifacts}page.png` });
  });

  it('a backend .py edit restarts the backend: GET /ping during the restart gets 200, the socket reconnects', async () => {
    const first = await ping(`http://127.0.0.1:${stack.port}/ping`);
    expect(first.status).toBe(200);
    const pings: Array<Promise<Ping>> = [];
    let pinging = true;
    const loop = (async () => {
      while (pinging) {
        pings.push(ping(`http://127.0.0.1:${stack.port}/ping`));
        await sleep(50);
      }
    })();

    editProjectFile(stack, 'myapp/myapp.py', '# edited by the rxroute dev e2e suite');
    const reloading = await stack.run.waitForLine((line) => /^reflex\s+│ .*StatReload detected file change in 'myapp\/myapp\.py'\. Reloading\.\.\.$/.test(line), 'uvicorn\'s reloader noticing the edit', 30_000);
    const booted = await stack.run.waitForLine(
      (line) => {
        const boot = /^reflex\s+│ backend boot (\w+) pid \d+/.exec(line)?.[1];
        return boot && boot !== first.boot ? boot : undefined;
      },
      'the new backend worker booting',
      60_000,
    );
    await sleep(500);
    pinging = false;
    await loop;
    const results = await Promise.all(pings);

    const during = results.filter((p) => p.sentAt >= reloading.at && p.sentAt <= booted.at);
    console.log(
      `rxroute dev (integrated) backend restart: ${Math.round(booted.at - reloading.at)} ms from "Reloading" to the new boot; ` +
        `${results.length} pings, ${during.length} sent meanwhile, slowest ${Math.round(Math.max(...results.map((p) => p.doneAt - p.sentAt)))} ms`,
    );
    expect(results.filter((p) => p.status !== 200)).toEqual([]);
    expect(during.length).toBeGreaterThan(0);
    expect(results.at(-1)!.boot).toBe(booted.value);
    expect(new Set(results.map((p) => p.boot))).toEqual(new Set([first.boot, booted.value]));

    await app.waitForFunction((boot) => window.e2e.state.hellos.some((hello) => hello.boot === boot) && window.e2e.socket.connected, booted.value, { timeout: 60_000 });
    const reply = await app.evaluate(() => window.e2e.roundTrip({ text: 'after the restart' }));
    expect(reply.boot).toBe(booted.value);
  });

  it('Ctrl+C stops reflex, Vite, the reloader and its worker; every port closes; exit 0', async () => {
    const before = startedProcesses(stack).map((p) => p.cmdline);
    expect(before.some((cmd) => /fixtures\/bin\/reflex run --frontend-port/.test(cmd))).toBe(true);
    expect(before.some((cmd) => /node_modules\/\.bin\/vite --config/.test(cmd))).toBe(true);
    expect(before.some((cmd) => /reflex_backend\.py --port/.test(cmd))).toBe(true);
    expect(before.some((cmd) => /multiprocessing-fork/.test(cmd))).toBe(true);
    const result = await ctrlC(stack);
    console.log(`rxroute dev (integrated) Ctrl+C: exit ${result.code} after ${result.tookMs} ms; checked ${result.before.length} pids (${result.before.map((p) => p.pid).join(', ')}), left ${result.left.length}; ports ${result.portsChecked.join(', ')} open afterwards: ${result.openPorts.join(', ') || 'none'}`);
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    expect(result.left).toEqual([]);
    expect(result.openPorts).toEqual([]);
  });
});
