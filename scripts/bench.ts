// Benchmarks rxroute on each runtime against talking to the upstream directly:
// a large streamed upload (throughput, router memory) and WebSocket echo round
// trips (rate, latency, every message intact). Modules in scripts/bench/.
// Usage: bun scripts/bench.ts [--size 1GiB] [--runs 3] [--ws-seconds 10] [--quick]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readOptions, type Options } from './bench/options.ts';
import { machineLine, renderReport, type Results } from './bench/report.ts';
import { contenders, killRunning, measureContender, message, root, type Outcome } from './bench/routers.ts';
import { measureUploads, warmUpUploads } from './bench/upload.ts';
import { startWorkerServer } from './bench/worker-server.ts';
import { measureEcho } from './bench/ws-echo.ts';

const resultsFile = join(root, 'bench/results/latest.md');

async function benchUploads(opts: Options): Promise<Results['upload']> {
  const sink = await startWorkerServer(new URL('./bench/upload-sink.ts', import.meta.url));
  try {
    await warmUpUploads(sink.url, opts.size);
    return await eachContender('upload', sink.url, (url, router) => measureUploads(url, router, opts));
  } finally {
    await sink.stop();
  }
}

async function benchEcho(opts: Options): Promise<Results['echo']> {
  const echo = await startWorkerServer(new URL('./bench/echo-upstream.ts', import.meta.url));
  try {
    return await eachContender('WebSocket', echo.url, (url, router) => measureEcho(url, router, echo, opts));
  } finally {
    await echo.stop();
  }
}

/** Measures the contenders one after another, so each has the cores to itself and the client. */
async function eachContender<M>(
  title: string,
  upstreamUrl: string,
  measure: Parameters<typeof measureContender<M>>[2],
): Promise<{ name: string; outcome: Outcome<M> }[]> {
  const results: { name: string; outcome: Outcome<M> }[] = [];
  for (const { name, launch } of contenders) {
    process.stderr.write(`${title}: ${name}\n`);
    const outcome = await measureContender(launch, upstreamUrl, measure);
    if (outcome.kind !== 'measured') process.stderr.write(`  ${outcome.kind}: ${outcome.reason}\n`);
    results.push({ name, outcome });
  }
  return results;
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
  const results: Results = { upload: await benchUploads(opts), echo: await benchEcho(opts) };
  const report = renderReport(results, header);
  console.log(`\n${report}`);
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, report);
  console.log(`written to ${resultsFile.slice(root.length)}`);
}

await main();
// Keep-alive sockets from fetch must not hold the process open.
process.exit(0);
