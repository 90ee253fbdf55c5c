import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser } from 'playwright-core';
import { startRouter, type RouterProcess, type Runtime } from '../../test/_helpers/router-process.ts';
import { findExecutable, root } from './contenders.ts';
import { freePort } from './launch.ts';
import { fmt, median, percentile } from './numbers.ts';
import { MODULE_COUNT, writePageLoadApp } from './page-load-app.ts';

// Page load through rxroute: headless Chromium opens a generated Vite dev app
// (~1,200 modules) directly, through rxroute over HTTP/1.1, and through
// rxroute over HTTPS/h2, each runtime; the cache is off, so every round
// fetches every module. Rounds alternate between the variants in one run so
// a machine that slows down slows all of them alike.

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const RUNTIMES: Runtime[] = ['binary', 'deno', 'node'];

export interface PageLoadVariant {
  id: string;
  name: string;
  url: string;
}

export interface PageLoadResult {
  variant: PageLoadVariant;
  samplesMs: number[];
  /** The protocol Chromium used for the module requests. */
  protocol: string;
}

export interface PageLoadReport {
  results: PageLoadResult[];
  rounds: number;
  skipped: string[];
}

/** `runtimes`: which rxroute launches to include (by the bench's contender ids). */
export async function measurePageLoad(runtimes: string[], rounds: number, log: (line: string) => void): Promise<PageLoadReport> {
  const skipped: string[] = [];
  if (!findExecutable('chromium') && !findExecutable(CHROMIUM)) return { results: [], rounds, skipped: ['Chromium is not installed (/usr/bin/chromium)'] };
  const scratch = mkdtempSync(join(tmpdir(), 'rxroute-page-load-'));
  const appDir = join(scratch, 'app');
  writePageLoadApp(appDir);
  const stops: (() => Promise<void>)[] = [];
  try {
    const vite = await startVite(appDir);
    stops.push(vite.stop);
    const vitePort = Number(new URL(vite.url).port);
    const variants: PageLoadVariant[] = [{ id: 'direct', name: 'Vite direct (HTTP/1.1)', url: `http://localhost:${vitePort}/` }];
    const dataDir = join(scratch, 'data');
    const canTrust = findExecutable('certutil') !== undefined;
    if (!canTrust) skipped.push('HTTPS/h2 rows: certutil (libnss3-tools) is not installed, so Chromium cannot be given the CA');
    for (const runtime of RUNTIMES.filter((r) => runtimes.includes(r))) {
      const base = ['--port', '0', '--host', '127.0.0.1', '--frontend', vite.url, '--backend', vite.url, '--wait', '0'];
      const h1 = await startRouter(runtime, base, { readyPattern: /Open:/, env: { RXROUTE_DATA_DIR: dataDir } });
      stops.push(() => h1.stop());
      variants.push({ id: `${runtime}-h1`, name: `rxroute ${runtime}, HTTP/1.1`, url: `http://localhost:${h1.port}/` });
      if (canTrust) {
        const h2 = await startRouter(runtime, [...base, '--https'], { readyPattern: /Open:/, env: { RXROUTE_DATA_DIR: dataDir } });
        stops.push(() => h2.stop());
        variants.push({ id: `${runtime}-h2`, name: `rxroute ${runtime}, HTTPS/h2`, url: `https://localhost:${h2.port}/` });
      }
    }
    const home = join(scratch, 'home');
    if (canTrust) trustInNss(home, join(dataDir, 'ca.pem'));
    const browser = await chromium.launch({ executablePath: CHROMIUM, env: { ...process.env, HOME: home }, args: FLAGS });
    stops.push(() => browser.close());

    // Vite transforms each module on its first request and caches the result:
    // two untimed loads direct, then one through every variant (JITs, TLS, pools).
    for (const url of [variants[0]!.url, variants[0]!.url, ...variants.map((v) => v.url)]) await loadOnce(browser, url);
    const samples = new Map<string, number[]>(variants.map((v) => [v.id, []]));
    const protocols = new Map<string, string>();
    for (let round = 0; round < rounds; round++) {
      // A different variant goes first each round.
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      const line: string[] = [];
      for (const variant of order) {
        const { ms, protocol } = await loadOnce(browser, variant.url);
        samples.get(variant.id)!.push(ms);
        protocols.set(variant.id, protocol);
        line.push(`${variant.id} ${ms.toFixed(0)}`);
      }
      log(`  page load round ${round + 1}/${rounds}: ${line.join(', ')} ms`);
    }
    return {
      results: variants.map((variant) => ({ variant, samplesMs: samples.get(variant.id)!, protocol: protocols.get(variant.id) ?? '?' })),
      rounds,
      skipped,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** One cold page load in a fresh context (a new connection), cache off: ms from navigation to every module evaluated. */
async function loadOnce(browser: Browser, url: string): Promise<{ ms: number; protocol: string }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction(() => (window as unknown as { __evaluated?: number }).__evaluated !== undefined, undefined, { timeout: 120_000, polling: 50 });
    const { ms, modules, protocol } = await page.evaluate(() => {
      const w = window as unknown as { __evaluated: number; __modules: number };
      const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((e) => e.name.includes('/src/pages/'));
      return { ms: w.__evaluated, modules: w.__modules, protocol: [...new Set(scripts.map((e) => e.nextHopProtocol))].join('/') };
    });
    if (modules !== MODULE_COUNT - 0) throw new Error(`${url}: ${modules} of ${MODULE_COUNT} modules evaluated`);
    return { ms, protocol };
  } finally {
    await context.close();
  }
}

/** What `rxroute trust` does for Chrome on Linux, into a HOME of the bench's own. */
function trustInNss(home: string, caPath: string): void {
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  for (const args of [['-d', `sql:${db}`, '-N', '--empty-password'], ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'rxroute bench', '-i', caPath]]) {
    const result = spawnSync('certutil', args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`certutil ${args.join(' ')}: ${result.stderr}`);
  }
}

async function startVite(appDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(findExecutable('node') ?? 'node', [join(root, 'scripts/bench/vite-app-server.mjs'), appDir, String(port)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Vite did not start within 60 s: ${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`Vite exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The page-load table: median and spread per variant, ratio to Vite direct. */
export function renderPageLoad(report: PageLoadReport, header: string): string {
  const direct = report.results.find((r) => r.variant.id === 'direct');
  const directMedian = direct ? median(direct.samplesMs) : Number.NaN;
  const rows = report.results.map((r) => {
    const sorted = [...r.samplesMs].sort((a, b) => a - b);
    const m = median(sorted);
    return `| ${r.variant.name} | ${r.protocol} | ${fmt(m)} | ${fmt(percentile(sorted, 0.25))}–${fmt(percentile(sorted, 0.75))} | ${(m / directMedian).toFixed(2)}× |`;
  });
  return [
    '# rxroute page-load benchmark',
    '',
    header,
    '',
    `## Page load: a Vite dev app of ${MODULE_COUNT} modules (12 pages × 100 modules of ~4 KiB, one 1 MiB pre-bundled dependency)`,
    '',
    `Headless Chromium (Debian's), cache disabled, a fresh browser context (so a new connection) per load; timed from navigation start to the moment the entry module runs, which is after every module it imports was fetched and evaluated. Vite's transforms warmed first (two untimed loads direct, one through each variant). ${report.rounds} rounds, alternating the variants, a different one first each round. HTTPS variants: rxroute's local CA trusted through an NSS database in the browser's HOME, as \`rxroute trust\` sets it up.`,
    '',
    '| variant | protocol | median ms | p25–p75 ms | vs direct |',
    '|---|---|---:|---:|---:|',
    ...rows,
    ...(report.skipped.length > 0 ? ['', ...report.skipped.map((s) => `Skipped: ${s}.`)] : []),
    '',
  ].join('\n');
}
