// Upload benchmark: streams one large Content-Length upload through rxroute on
// each runtime to a local sink and compares with sending straight to the sink.
// It watches what DESIGN §3 promises for uploads (streamed, Content-Length kept,
// memory flat whatever the body size) and what the router costs in throughput.
// Usage: bun scripts/bench.ts [--size 1GiB] [--runs 3] [--quick]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const root = fileURLToPath(new URL('../', import.meta.url));
const resultsFile = join(root, 'bench/results/latest.md');

const MB = 1e6;
const MiB = 2 ** 20;
const CHUNK_BYTES = 64 * 1024;
const WARM_UP_BYTES = 256 * MiB;
const RSS_SAMPLE_MS = 50;
const START_TIMEOUT_MS = 30_000;
/** A transfer that makes no progress this long is aborted, so the bench always ends. */
const STALL_MS = 30_000;

interface Options {
  size: number;
  runs: number;
  quick: boolean;
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { size: { type: 'string' }, runs: { type: 'string' }, quick: { type: 'boolean', default: false } },
  });
  const quick = values.quick ?? false;
  const size = parseSize(values.size ?? (quick ? '64MiB' : '1GiB'));
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number ≥ 1 (got "${values.runs}")`);
  return { size, runs, quick };
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** `1GiB`, `500MB`, `1048576`: binary and decimal units both accepted. */
function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.round(Number(match[1]) * unit) : 0;
  if (bytes < 1) throw new Error(`--size must be a byte count ≥ 1, optionally with KiB/MiB/GiB/KB/MB/GB (got "${text}")`);
  return bytes;
}

// ---------------------------------------------------------------- sink

interface SinkReport {
  bytes: number;
  /** The Content-Length the sink received, or null if the body came chunked. */
  contentLength: string | null;
}

/**
 * The upstream: reads and discards the body, answers with the byte count.
 * Bun.serve, Bun's native server, costs less CPU per byte than node:http under
 * Bun. It runs on its own thread: sharing the client's event loop capped
 * `direct` below what a router on the second core reached.
 */
function serveSink(): string {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // The bench's own stall watchdog decides when a transfer is stuck.
    idleTimeout: 0,
    async fetch(req) {
      const report: SinkReport = { bytes: await countBytes(req.body), contentLength: req.headers.get('content-length') };
      return Response.json(report);
    },
  });
  return `http://127.0.0.1:${server.port}`;
}

async function countBytes(body: ReadableStream<Uint8Array> | null): Promise<number> {
  const reader = body?.getReader();
  let bytes = 0;
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) bytes += read.value.byteLength;
  return bytes;
}

/** Starts this same file as a worker thread, which runs `serveSink` and posts back its URL. */
async function startSink(): Promise<{ url: string; stop(): Promise<unknown> }> {
  const worker = new Worker(fileURLToPath(import.meta.url));
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { url, stop: () => worker.terminate() };
}

// ---------------------------------------------------------------- client

/**
 * The upload body: one shared, never-modified chunk handed out on demand.
 * Pull-based with no queue (highWaterMark 0), so bytes are made only as fast
 * as the socket takes them and the client holds one chunk whatever the size.
 */
function generatedBody(size: number, onPull: () => void): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(CHUNK_BYTES).fill(0x61);
  let left = size;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        onPull();
        if (left === 0) return controller.close();
        const n = Math.min(left, CHUNK_BYTES);
        left -= n;
        controller.enqueue(n === CHUNK_BYTES ? chunk : chunk.subarray(0, n));
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * POSTs `size` bytes with Content-Length to `url`; returns the seconds until
 * the sink's answer arrived. Bun's fetch streams a ReadableStream body and
 * sends the Content-Length given (the sink reports what it saw).
 */
async function upload(url: string, size: number): Promise<number> {
  const abort = new AbortController();
  let lastProgress = performance.now();
  const watchdog = setInterval(() => {
    if (performance.now() - lastProgress > STALL_MS) abort.abort(new Error(`no progress for ${STALL_MS / 1000} s`));
  }, 1_000);
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: generatedBody(size, () => (lastProgress = performance.now())),
      duplex: 'half',
      signal: abort.signal,
    } as RequestInit);
    const text = await res.text();
    const seconds = (performance.now() - started) / 1000;
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
    checkSinkReport(JSON.parse(text) as SinkReport, size);
    return seconds;
  } finally {
    clearInterval(watchdog);
  }
}

/** A run only counts if every byte arrived, framed as sent (DESIGN §3: Content-Length kept). */
function checkSinkReport(report: SinkReport, size: number): void {
  if (report.bytes !== size) throw new Error(`sink received ${report.bytes} of ${size} bytes`);
  if (report.contentLength !== String(size)) {
    throw new Error(`sink saw Content-Length ${report.contentLength ?? 'absent (chunked)'}, sent ${size}`);
  }
}

// ---------------------------------------------------------------- router processes

interface Launch {
  file: string;
  args: string[];
}

/** `launch` null: the client talks to the sink directly. */
const contenders: { name: string; launch: Launch | null }[] = [
  { name: 'direct', launch: null },
  { name: 'rxroute binary', launch: { file: join(root, 'dist/rxroute'), args: [] } },
  {
    name: 'rxroute deno',
    // As `deno task start` runs it: a small young generation keeps streamed chunks
    // from piling up; request.signal aborts only when the client disconnects.
    launch: {
      file: join(root, 'node_modules/.bin/deno'),
      args: ['run', '-A', '--unstable-no-legacy-abort', '--v8-flags=--max-semi-space-size=1', join(root, 'src/main.ts')],
    },
  },
  // `node` from PATH: process.execPath is Bun here.
  { name: 'rxroute node', launch: { file: 'node', args: [join(root, 'dist/npm/rxroute.js')] } },
];

interface Router {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Children still running, so an interrupted bench can still end them. */
const running = new Set<ChildProcess>();

// Settings from the environment would outrank the flags' profile defaults and
// skew the route; NO_COLOR keeps escape codes out of quoted startup errors.
function cleanEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (/^(RX_|RXROUTE_|REFLEX_)/.test(key)) delete env[key];
  return env;
}

/**
 * Spawns the executable itself (no shell, no npx) so the child's PID is the
 * router whose memory we sample; resolves at its JSON `listening` line.
 */
async function startRouter(launch: Launch, sinkUrl: string): Promise<Router> {
  if (launch.file.includes('/') && !existsSync(launch.file)) throw new Error(`${launch.file} not found (run npm run build)`);
  const flags = ['--port', '0', '--host', '127.0.0.1', '--log', 'json', '-q', '--frontend', sinkUrl, '--backend', sinkUrl];
  const child = spawn(launch.file, [...launch.args, ...flags], { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const stop = () => stopChild(child, exited);
  try {
    const url = await listeningUrl(child, exited, () => stderr);
    if (child.pid === undefined) throw new Error('spawned without a PID');
    // The router keeps logging; drain stdout so a full pipe never blocks it.
    child.stdout!.resume();
    return { url, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The URL from the router's `listening` line; rejects if it cannot spawn, exits or stays silent. */
async function listeningUrl(child: ChildProcess, exited: Promise<void>, stderr: () => string): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no "listening" line within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      child.once('error', (error) => reject(new Error(`could not start: ${error.message}`)));
      // Give stderr a moment to arrive so the reason can quote it.
      void exited.then(() =>
        setTimeout(() => reject(new Error(`exited with ${child.signalCode ?? `code ${child.exitCode}`}${errorLine(stderr())}`)), 100),
      );
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const url = urlIfListening(line);
        if (url) resolve(url);
      });
    });
  } finally {
    clearTimeout(timer);
  }
}

function urlIfListening(line: string): string | undefined {
  try {
    const event = JSON.parse(line) as { event?: unknown; url?: unknown } | null;
    return event?.event === 'listening' && typeof event.url === 'string' ? event.url : undefined;
  } catch {
    return undefined;
  }
}

/** The stderr line that says what went wrong (rxroute, Node and Deno all print `error` in it), else the first. */
function errorLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /error/i.test(l)) ?? lines[0];
  return line ? `: ${line.slice(0, 200)}` : '';
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  }
  running.delete(child);
}

// ---------------------------------------------------------------- memory

function readRss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/** Tracks the highest RSS of `pid` until stopped; a process that has exited just ends the sampling. */
function sampleRss(pid: number): { stop(): number } {
  let peak = 0;
  const sample = () => {
    try {
      peak = Math.max(peak, readRss(pid));
    } catch {
      clearInterval(timer);
    }
  };
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  sample();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

// ---------------------------------------------------------------- measuring

type Outcome =
  | { kind: 'measured'; runsMBps: number[]; idleRss?: number; peakRssGrowth?: number }
  | { kind: 'skipped' | 'failed'; reason: string };

async function measure(launch: Launch | null, sinkUrl: string, opts: Options): Promise<Outcome> {
  let router: Router | undefined;
  let rss: { stop(): number } | undefined;
  try {
    if (launch) router = await startRouter(launch, sinkUrl);
  } catch (error) {
    return { kind: 'skipped', reason: message(error) };
  }
  try {
    if (!router) return { kind: 'measured', runsMBps: await runUploads(`${sinkUrl}/_upload`, opts) };
    // Growth is counted from the idle router, before its first upload, so
    // memory kept between runs still counts.
    const idleRss = readRss(router.pid);
    rss = sampleRss(router.pid);
    const runsMBps = await runUploads(`${router.url}/_upload`, opts);
    return { kind: 'measured', runsMBps, idleRss, peakRssGrowth: Math.max(0, rss.stop() - idleRss) };
  } catch (error) {
    return { kind: 'failed', reason: message(error) };
  } finally {
    rss?.stop();
    await router?.stop();
  }
}

/** One untimed upload to the sink, so `direct`, measured first, does not pay the client's and sink's first-use costs. */
async function warmUp(sinkUrl: string, size: number): Promise<void> {
  await upload(`${sinkUrl}/_upload`, Math.min(size, WARM_UP_BYTES));
}

async function runUploads(url: string, { size, runs }: Options): Promise<number[]> {
  const results: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const mbps = size / MB / (await upload(url, size));
    results.push(mbps);
    process.stderr.write(`  run ${i}/${runs}: ${fmt(mbps)} MB/s\n`);
  }
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ---------------------------------------------------------------- report

function machineLine({ size, runs, quick }: Options): string {
  const date = new Date().toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
  const node = versionOf('node');
  const deno = /^deno (\S+)/.exec(versionOf(join(root, 'node_modules/.bin/deno')) ?? '')?.[1];
  const upload = `${size % MiB === 0 ? `${size / MiB} MiB` : `${size} bytes`} × ${runs} run${runs > 1 ? 's' : ''}`;
  return (
    `${date} · rxroute ${codeVersion()} · ${availableParallelism()} cores · node ${node ?? 'n/a'} · bun ${Bun.version} · deno ${deno ?? 'n/a'} · ` +
    `upload ${upload}${quick ? ' (--quick)' : ''} · MB = 10^6 bytes`
  );
}

/** The commit measured, marked when src/ has uncommitted changes (Deno runs src/ as it is on disk). */
function codeVersion(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown commit';
  const dirty = git('status', '--porcelain', '--', 'src').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' + uncommitted src/ changes' : ''}`;
}

function versionOf(file: string): string | undefined {
  const out = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

function renderReport(results: { name: string; outcome: Outcome }[], header: string): string {
  const direct = results.find((r) => r.name === 'direct')?.outcome;
  const base = direct?.kind === 'measured' ? median(direct.runsMBps) : undefined;
  const rows = results.map(({ name, outcome }) => {
    if (outcome.kind !== 'measured') return `| ${name} | ${outcome.kind} (${escapeCell(outcome.reason)}) | | | | |`;
    const mbps = median(outcome.runsMBps);
    const ratio = base ? `${(mbps / base).toFixed(2)}×` : 'n/a';
    const mb = (bytes: number | undefined) => (bytes === undefined ? '—' : fmt(bytes / MB));
    return `| ${name} | ${fmt(mbps)} | ${ratio} | ${mb(outcome.peakRssGrowth)} | ${mb(outcome.idleRss)} | ${outcome.runsMBps.map(fmt).join(', ')} |`;
  });
  return [
    '# rxroute upload benchmark',
    '',
    header,
    '',
    '| contender | MB/s (median) | vs direct | peak RSS growth (MB) | idle RSS (MB) | runs (MB/s) |',
    '|---|---:|---:|---:|---:|---|',
    ...rows,
    '',
    'One Content-Length POST to `/_upload` per run, streamed from generated 64 KiB chunks by Bun fetch',
    'and discarded by a Bun.serve sink on its own thread (one untimed warm-up upload to the sink first).',
    'Peak RSS growth: highest VmRSS of the router process, sampled every 50 ms during its runs, minus its',
    'idle VmRSS before the first run.',
    '',
  ].join('\n');
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------- main

function killRunning(): void {
  for (const child of running) child.kill('SIGTERM');
}

async function main(): Promise<void> {
  let opts: Options;
  try {
    opts = readOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: error: ${message(error)}`);
    process.exit(2);
  }
  // An interrupted or crashing bench must not leave routers behind.
  process.once('exit', killRunning);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killRunning();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  const header = machineLine(opts);
  process.stderr.write(`${header}\n`);
  const sink = await startSink();
  const results: { name: string; outcome: Outcome }[] = [];
  try {
    await warmUp(sink.url, opts.size);
    for (const { name, launch } of contenders) {
      process.stderr.write(`${name}\n`);
      const outcome = await measure(launch, sink.url, opts);
      if (outcome.kind !== 'measured') process.stderr.write(`  ${outcome.kind}: ${outcome.reason}\n`);
      results.push({ name, outcome });
    }
  } finally {
    await sink.stop();
  }
  const report = renderReport(results, header);
  console.log(`\n${report}`);
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, report);
  console.log(`written to ${resultsFile.slice(root.length)}`);
}

if (isMainThread) {
  await main();
  // Keep-alive sockets from fetch must not hold the process open.
  process.exit(0);
} else {
  parentPort!.postMessage(serveSink());
}
