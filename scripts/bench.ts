// Benchmarks rxroute on each runtime against the upstream itself (the limit),
// nginx, Caddy and http-proxy-3 (Vite's proxy), all in front of one fast
// upstream in the same run: HTTP requests/s and latency (wrk), WebSocket
// round trips, a large streamed upload (throughput, proxy memory) and cold
// start. Modules in scripts/bench/.
// Usage: bun scripts/bench.ts [--quick] [--only ids] [--skip ids] [--measure …] (--help for all)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CONTENDERS, findExecutable, type Contender } from './bench/contenders.ts';
import { killRunning, launch, message, type Proxy } from './bench/launch.ts';
import { readOptions, UsageRequest, type Measurement, type Options } from './bench/options.ts';
import { headerLine, renderReport, type ColdStart, type Outcome, type Results, type Row } from './bench/report.ts';
import { measureUploads, warmUpUploads } from './bench/upload.ts';
import { LARGE_BYTES, LARGE_PATH, SMALL_BODY, SMALL_PATH } from './bench/upstream.ts';
import { startWorkerServer, type WorkerServer } from './bench/worker-server.ts';
import { measureHttp } from './bench/wrk.ts';
import { measureEcho } from './bench/ws-echo.ts';
import { measurePageLoad, renderPageLoad } from './bench/page-load.ts';

/** Everything one contender was measured for; a section not run stays undefined. */
type ContenderResults = { [K in keyof Results]?: NonNullable<Results[K]>[number]['outcome'] };

/**
 * One contender, start to end, before the next starts, so each has the cores
 * to itself: one launch serves HTTP and WebSocket, a fresh one the uploads
 * (so its memory starts from idle), and further launches only time the cold
 * start until `opts.launches` samples are in.
 */
async function benchContender(contender: Contender, upstream: WorkerServer, opts: Options): Promise<ContenderResults> {
  const wants = (m: Measurement) => opts.measurements.includes(m);
  const out: ContenderResults = {};
  const missing = contender.missing();
  if (missing) {
    const skipped = { kind: 'skipped', reason: missing } as const;
    return {
      httpSmall: wants('http') ? skipped : undefined,
      httpLarge: wants('http') ? skipped : undefined,
      echo: wants('ws') ? skipped : undefined,
      upload: wants('upload') ? skipped : undefined,
      coldStart: wants('cold-start') ? skipped : undefined,
    };
  }
  const coldStarts: number[] = [];
  const wrk = findExecutable('wrk');
  if (wants('http') || wants('ws')) {
    const failed = await withProxy(contender, upstream, coldStarts, async (url, proxy) => {
      if (wants('http')) {
        const http = (path: string, minBytes: number) =>
          wrk ? attempt(() => measureHttp(wrk, url, path, minBytes, proxy, upstream, opts)) : skip('wrk not installed');
        out.httpSmall = await http(SMALL_PATH, SMALL_BODY.length);
        out.httpLarge = await http(LARGE_PATH, LARGE_BYTES);
      }
      if (wants('ws')) out.echo = await attempt(() => measureEcho(url, proxy, upstream, opts));
    });
    if (failed) {
      if (wants('http')) out.httpSmall = out.httpLarge = failed;
      if (wants('ws')) out.echo = failed;
    }
  }
  if (wants('upload')) {
    const failed = await withProxy(contender, upstream, coldStarts, async (url, proxy) => {
      out.upload = await attempt(() => measureUploads(url, proxy, opts));
    });
    if (failed) out.upload = failed;
  }
  if (wants('cold-start')) {
    out.coldStart = contender.prepare ? await coldStart(contender, upstream, coldStarts, opts) : skip('the upstream itself, already running');
  }
  return out;
}

/**
 * Runs `measure` against the upstream itself (`direct`) or through the
 * contender, launched for it and always stopped after; returns the failure
 * if it could not start.
 */
async function withProxy(
  contender: Contender,
  upstream: WorkerServer,
  coldStarts: number[],
  measure: (url: string, proxy: Proxy | undefined) => Promise<void>,
): Promise<Outcome<never> | undefined> {
  if (!contender.prepare) {
    await measure(upstream.url, undefined);
    return undefined;
  }
  let proxy: Proxy;
  try {
    proxy = await launch(contender, new URL(upstream.url));
  } catch (error) {
    process.stderr.write(`  could not start: ${message(error)}\n`);
    return { kind: 'failed', reason: `could not start: ${message(error)}` };
  }
  coldStarts.push(proxy.coldStartMs);
  try {
    await measure(proxy.url, proxy);
  } finally {
    await proxy.stop();
  }
  return undefined;
}

async function coldStart(contender: Contender, upstream: WorkerServer, samples: number[], opts: Options): Promise<Outcome<ColdStart>> {
  try {
    while (samples.length < opts.launches) {
      const proxy = await launch(contender, new URL(upstream.url));
      samples.push(proxy.coldStartMs);
      await proxy.stop();
    }
  } catch (error) {
    process.stderr.write(`  could not start: ${message(error)}\n`);
    if (samples.length === 0) return { kind: 'failed', reason: message(error) };
  }
  process.stderr.write(`  cold start: ${samples.map((ms) => ms.toFixed(1)).join(', ')} ms\n`);
  return { kind: 'measured', samplesMs: samples };
}

/** A measurement that throws is `failed` with its reason; the others still run. */
async function attempt<M>(measure: () => Promise<M>): Promise<Outcome<M>> {
  try {
    return { kind: 'measured', ...(await measure()) };
  } catch (error) {
    process.stderr.write(`  failed: ${message(error)}\n`);
    return { kind: 'failed', reason: message(error) };
  }
}

function skip(reason: string): Outcome<never> {
  return { kind: 'skipped', reason };
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = readOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageRequest) {
      console.log(error.message);
      return 0;
    }
    console.error(`bench: error: ${message(error)}`);
    return 2;
  }
  // An interrupted or crashing bench must not leave proxies behind.
  process.once('exit', killRunning);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killRunning();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  const started = performance.now();
  const header = headerLine(opts);
  process.stderr.write(`${header}\n`);
  const upstream = await startWorkerServer(new URL('./bench/upstream.ts', import.meta.url));
  const results: Results = {};
  try {
    if (opts.measurements.includes('upload')) await warmUpUploads(upstream.url, opts.size);
    for (const contender of CONTENDERS.filter((c) => opts.contenders.includes(c.id))) {
      process.stderr.write(`${contender.name}\n`);
      const measured = await benchContender(contender, upstream, opts);
      for (const key of Object.keys(measured) as (keyof Results)[]) {
        const outcome = measured[key];
        if (outcome) ((results[key] ??= []) as Row<unknown>[]).push({ contender, outcome } as Row<unknown>);
      }
    }
  } finally {
    await upstream.stop();
  }
  const onlyPageLoad = opts.measurements.every((m) => m === 'page-load');
  if (!onlyPageLoad) {
    const report = renderReport(results, header, opts);
    console.log(`\n${report}`);
    write(opts.out, report);
    console.log(`written to ${opts.out} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  let pageLoadBroken = false;
  if (opts.measurements.includes('page-load')) {
    process.stderr.write('page load (Chromium, Vite dev app)\n');
    const pageLoad = await measurePageLoad(opts.contenders, opts.rounds, (line) => process.stderr.write(`${line}\n`)).catch((error: unknown) => {
      process.stderr.write(`  failed: ${message(error)}\n`);
      pageLoadBroken = true;
      return undefined;
    });
    if (pageLoad) {
      const report = renderPageLoad(pageLoad, header);
      console.log(`\n${report}`);
      write(opts.pageLoadOut, report);
      console.log(`written to ${opts.pageLoadOut}`);
    }
  }
  return harnessBroken(results) || pageLoadBroken ? 1 : 0;
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/**
 * Numbers never fail the bench; the upstream failing on its own (`direct`)
 * does, since then the harness itself is broken.
 */
function harnessBroken(results: Results): boolean {
  const broken = Object.values(results).flatMap((rows: Row<unknown>[]) =>
    rows.filter((r) => r.contender.id === 'direct' && r.outcome.kind === 'failed').map((r) => r.outcome),
  );
  for (const outcome of broken) console.error(`bench: error: direct failed, so the harness is broken: ${'reason' in outcome ? outcome.reason : ''}`);
  return broken.length > 0;
}

// Keep-alive sockets from fetch must not hold the process open.
process.exit(await main());
