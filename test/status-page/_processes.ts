import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouter, watchRss, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { launchChromium } from './_suite.ts';

/**
 * The status page's Processes panel (DESIGN §10 "Visible") in headless
 * Chromium, against `rxroute dev -- node -e CHILD` run for real: what the
 * developer sees of the process, its output arriving live, a crash and the
 * restart, and a flood of output.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = `${root}test-artifacts/status-page/`;

/**
 * The supervised child: prints two lines and stays up. The test drives it
 * through a command file it polls: `out:TEXT` / `err:TEXT` print a line,
 * `flood:N` prints N lines at once (then `flood done N`), `exit:CODE` exits. It exits by itself if
 * rxroute goes away, so a killed test run leaves nothing behind.
 */
const CHILD = `
const fs = require('fs');
const file = process.argv[1];
const parent = process.ppid;
console.log('booted pid ' + process.pid);
console.error('a line on stderr');
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
  let cmd;
  try { cmd = fs.readFileSync(file, 'utf8'); fs.unlinkSync(file); } catch { return; }
  const [verb, ...rest] = cmd.split(':');
  const arg = rest.join(':');
  if (verb === 'out') console.log(arg);
  else if (verb === 'err') console.error(arg);
  else if (verb === 'exit') process.exit(Number(arg));
  else if (verb === 'flood') {
    let text = '';
    for (let i = 1; i <= Number(arg); i++) text += 'flood line ' + i + ' ' + 'x'.repeat(120) + '\\n';
    process.stdout.write(text + 'flood done ' + arg + '\\n');
  }
}, 50);
`;

/**
 * RSS growth allowed for the 100 000-line flood with one stalled event
 * stream. Measured with the stream's bound: binary ~28 MB, Node ~34, Deno
 * ~61 (the rest is the runtimes' own garbage from 100 000 log lines); with
 * the stream queueing everything: 68, 88 and 147 MB.
 */
const STALLED_FLOOD_LIMIT_MB: Record<Runtime, number> = { binary: 48, node: 60, deno: 110 };

interface HealthProcess {
  name: string;
  command: string;
  pid: number | null;
  state: string;
  startedAt: string | null;
  restarts: number;
  exitCode: number | null;
  exitSignal: string | null;
  lines: { stream: string; text: string; time: string }[];
}

const card = '.proc[data-process="node"]';

/** The panel's output rows for the node process: [stream, text]. */
function outputLines(page: Page): Promise<[string, string][]> {
  return page.$$eval(`${card} .lines .line:not(.note)`, (rows) =>
    rows.map((r) => [(r as HTMLElement).dataset.stream ?? '', r.querySelector('.x')?.textContent ?? ''] as [string, string]),
  );
}

export function addProcessTests(runtime: Runtime): void {
  const shot = (name: string) => `${artifacts}${name}${runtime === 'binary' ? '' : `.${runtime}`}.png`;

  describe(`status page processes panel (${runtime}: rxroute dev -- node -e …)`, () => {
    let dir: string;
    let commandFile: string;
    let router: RouterProcess;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    /** Hands the child one command; the rename makes it appear whole. */
    const tell = (command: string) => {
      writeFileSync(`${commandFile}.tmp`, command);
      renameSync(`${commandFile}.tmp`, commandFile);
    };
    const health = async (): Promise<HealthProcess[]> => {
      const res = await fetch(`${router.url}/__rxroute/health`, { headers: { host: `localhost:${router.port}` } });
      return ((await res.json()) as { processes: HealthProcess[] }).processes;
    };
    const text = async (selector: string) => (await page.textContent(`${card} ${selector}`))?.trim();

    beforeAll(async () => {
      mkdirSync(artifacts, { recursive: true });
      dir = mkdtempSync(join(tmpdir(), 'rxroute-procs-'));
      commandFile = join(dir, 'command');
      browser = await launchChromium();
      router = await startRouter(runtime, ['dev', '--port', '0', '--log', 'json', '--wait', '0', '--', 'node', '-e', CHILD, commandFile]);
      page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await router?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("shows the process's name, command, pid and state as /__rxroute/health reports them", async () => {
      await page.goto(`http://localhost:${router.port}/__rxroute/`);
      await page.waitForSelector(`${card}[data-state=running]`, { timeout: 10_000 });
      const [info, ...others] = await health();
      expect(others).toEqual([]);
      expect(info).toMatchObject({ name: 'node', state: 'running', restarts: 0, exitCode: null, exitSignal: null });
      expect(info?.command).toMatch(/^node -e .*booted pid/s);
      expect(info?.pid).toBeGreaterThan(0);
      expect(await page.isVisible('#processes')).toBe(true);
      expect(await text('.name')).toBe('node');
      expect(await text('.command')).toBe(info?.command);
      expect(await text('.pid')).toBe(String(info?.pid));
      expect(await text('.pstate')).toBe('running');
      expect(await text('.restarts')).toBe('0');
      expect(await text('.exit')).toBe('-');
      // The lines printed before the page opened come from /health, stderr told apart.
      await page.waitForFunction((sel) => document.querySelectorAll(`${sel} .lines .line:not(.note)`).length >= 2, card, { timeout: 5_000 });
      expect(await outputLines(page)).toEqual([
        ['stdout', `booted pid ${info?.pid}`],
        ['stderr', 'a line on stderr'],
      ]);
    });

    it('ticks the uptime from startedAt', async () => {
      const first = await text('.uptime');
      expect(first).toMatch(/^\d+s$/);
      await page.waitForFunction(([sel, before]) => document.querySelector(`${sel} .uptime`)?.textContent !== before, [card, first] as const, {
        timeout: 3_000,
      });
      expect(await text('.uptime')).toMatch(/^\d+s$/);
    });

    it('appends lines the child prints after the page loaded, live, as text', async () => {
      const marker = `printed after load ${Date.now()}`;
      tell(`out:${marker}`);
      await page.waitForFunction(
        ([sel, m]) => [...document.querySelectorAll(`${sel} .lines .x`)].some((x) => x.textContent === m),
        [card, marker] as const,
        { timeout: 5_000 },
      );
      tell('err:<img src=x onerror=window.pwned=1> on stderr');
      await page.waitForFunction((sel) => (document.querySelector(`${sel} .lines .line:last-child .x`)?.textContent ?? '').endsWith('on stderr'), card, {
        timeout: 5_000,
      });
      const lines = await outputLines(page);
      expect(lines.slice(-2)).toEqual([
        ['stdout', marker],
        ['stderr', '<img src=x onerror=window.pwned=1> on stderr'],
      ]);
      expect(await page.evaluate(() => [document.querySelectorAll('#processes img').length, 'pwned' in window])).toEqual([0, false]);
      // The stream carried them: the page did not reload to see them.
      expect(await page.textContent('#live')).toBe('live');
      expect(await text('.output summary')).toBe('output · last 4 lines');
      await page.screenshot({ path: shot('processes-panel'), fullPage: true });
    });

    it('collapses and expands the output', async () => {
      await page.click(`${card} .output summary`);
      expect(await page.isVisible(`${card} .lines`)).toBe(false);
      tell('out:while collapsed');
      await page.click(`${card} .output summary`);
      await page.waitForFunction((sel) => document.querySelector(`${sel} .lines .line:last-child .x`)?.textContent === 'while collapsed', card, {
        timeout: 5_000,
      });
      expect(await page.isVisible(`${card} .lines`)).toBe(true);
    });

    it('shows a crash: exit code, backoff, then the restart with its new pid and restart count', async () => {
      const before = (await health())[0];
      tell('exit:3');
      await page.waitForSelector(`${card}[data-state=backoff]`, { timeout: 5_000 });
      expect(await text('.pstate')).toBe('backoff');
      expect(await text('.exit')).toBe('code 3');
      expect(await text('.pid')).toBe('-');
      expect(await text('.uptime')).toBe('-');
      await page.screenshot({ path: shot('processes-panel-backoff'), fullPage: true });
      // Restarted after the 1 s backoff: a new run, a new pid.
      await page.waitForSelector(`${card}[data-state=running]`, { timeout: 10_000 });
      await page.waitForFunction((sel) => document.querySelector(`${sel} .restarts`)?.textContent === '1', card, { timeout: 5_000 });
      const after = (await health())[0];
      expect(after).toMatchObject({ state: 'running', restarts: 1 });
      expect(after?.pid).not.toBe(before?.pid);
      expect(await text('.pid')).toBe(String(after?.pid));
      // The last run's exit stays shown while the next one runs.
      expect(await text('.exit')).toBe('code 3');
      await page.waitForFunction(
        ([sel, pid]) => [...document.querySelectorAll(`${sel} .lines .x`)].some((x) => x.textContent === `booted pid ${pid}`),
        [card, after?.pid] as const,
        { timeout: 5_000 },
      );
      // A second crash counts again.
      tell('exit:4');
      await page.waitForFunction((sel) => document.querySelector(`${sel} .restarts`)?.textContent === '2', card, { timeout: 10_000 });
      expect(await text('.exit')).toBe('code 4');
      await page.waitForSelector(`${card}[data-state=running]`, { timeout: 10_000 });
      expect(pageErrors).toEqual([]);
    });

    it('keeps the last 50 lines of a 20 000-line flood, with the router memory bounded', { timeout: 60_000 }, async () => {
      const rss = watchRss(() => router.rssBytes());
      let growthBytes: number;
      try {
        tell('flood:20000');
        await page.waitForFunction((sel) => document.querySelector(`${sel} .lines .line:last-child .x`)?.textContent === 'flood done 20000', card, {
          timeout: 30_000,
        });
      } finally {
        growthBytes = rss.stop().growthBytes;
      }
      const rows = await page.$$eval(`${card} .lines .line`, (r) => r.length);
      expect(rows).toBeLessThanOrEqual(50);
      const lines = await outputLines(page);
      expect(lines.at(-2)?.[1]).toMatch(/^flood line 20000 x+$/);
      console.log(`[${runtime}] processes panel: 20 000-line flood shown, router RSS growth ${(growthBytes / 1048576).toFixed(1)} MB`);
      expect(growthBytes).toBeLessThan(64 * 1024 * 1024);
      // Still live afterwards.
      tell('out:after the flood');
      await page.waitForFunction((sel) => document.querySelector(`${sel} .lines .line:last-child .x`)?.textContent === 'after the flood', card, {
        timeout: 5_000,
      });
      expect(pageErrors).toEqual([]);
    });

    it('keeps memory bounded for an event stream that stops reading during a 100 000-line flood', { timeout: 120_000 }, async () => {
      // A tab that stopped reading: the request is sent, nothing is read back.
      const socket = connect(router.port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.pause();
      socket.write(`GET /__rxroute/events HTTP/1.1\r\nHost: localhost:${router.port}\r\nAccept: text/event-stream\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const rss = watchRss(() => router.rssBytes());
      let growthBytes: number;
      try {
        // ~13 MB of output, ~30 MB as SSE: more than the socket buffers hold.
        tell('flood:100000');
        const done = () => router.stdout.some((line) => line.includes('"line":"flood done 100000"'));
        const deadline = performance.now() + 90_000;
        while (!done() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(done()).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        growthBytes = rss.stop().growthBytes;
        socket.destroy();
      }
      console.log(`[${runtime}] processes panel: 100 000-line flood, a stalled event stream: router RSS growth ${(growthBytes / 1048576).toFixed(1)} MB`);
      expect(growthBytes).toBeLessThan(STALLED_FLOOD_LIMIT_MB[runtime] * 1024 * 1024);
      // The page, which kept reading, is still live and shows the end of it.
      await page.waitForFunction((sel) => document.querySelector(`${sel} .lines .line:last-child .x`)?.textContent === 'flood done 100000', card, {
        timeout: 30_000,
      }).catch(async (error: unknown) => {
        // Say what the page shows and what /health has, so a failure here can be told apart.
        const shown = await page.$$eval(`${card} .lines .line .x`, (xs) => xs.slice(-2).map((x) => x.textContent?.slice(0, 40)));
        const live = await page.textContent('#live');
        const snapshot = (await health())[0]?.lines.slice(-2).map((l) => l.text.slice(0, 40));
        console.log(`[${runtime}] page shows ${JSON.stringify(shown)} (stream ${live}); /health has ${JSON.stringify(snapshot)}`);
        throw error;
      });
    });
  });
}
