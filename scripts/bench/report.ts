import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Options } from './options.ts';
import { fmt, fmtMs, median } from './numbers.ts';
import { root, type Outcome } from './routers.ts';
import type { UploadResult } from './upload.ts';
import { CONNECTIONS, MESSAGE_BYTES, WARM_UP_MS, type EchoResult } from './ws-echo.ts';

// The printed report and bench/results/latest.md: one header line that says
// what was measured where, then a table per benchmark.

const MB = 1e6;
const MiB = 2 ** 20;

export interface Results {
  upload: { name: string; outcome: Outcome<UploadResult> }[];
  echo: { name: string; outcome: Outcome<EchoResult> }[];
}

export function machineLine({ size, runs, wsSeconds, quick }: Options): string {
  const date = new Date().toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
  const node = versionOf('node');
  const deno = /^deno (\S+)/.exec(versionOf(join(root, 'node_modules/.bin/deno')) ?? '')?.[1];
  const cores = availableParallelism();
  const upload = `${size % MiB === 0 ? `${size / MiB} MiB` : `${size} bytes`} × ${runs} run${runs > 1 ? 's' : ''}`;
  return (
    `${date} · rxroute ${codeVersion()} · ${cores} core${cores > 1 ? 's' : ''}, shared by client, router and upstream · ` +
    `node ${node ?? 'n/a'} · bun ${Bun.version} · deno ${deno ?? 'n/a'} · ` +
    `upload ${upload} · WebSocket ${CONNECTIONS} connections × ${wsSeconds} s${quick ? ' (--quick)' : ''} · MB = 10^6 bytes`
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

export function renderReport(results: Results, header: string): string {
  return ['# rxroute benchmark', '', header, '', ...uploadSection(results.upload), ...echoSection(results.echo)].join('\n');
}

function uploadSection(results: Results['upload']): string[] {
  const direct = results.find((r) => r.name === 'direct')?.outcome;
  const base = direct?.kind === 'measured' ? median(direct.runsMBps) : undefined;
  const rows = results.map(({ name, outcome }) => {
    if (outcome.kind !== 'measured') return `| ${name} | ${outcome.kind} (${escapeCell(outcome.reason)}) | | | | |`;
    const mbps = median(outcome.runsMBps);
    const mb = (bytes: number | undefined) => (bytes === undefined ? '—' : fmt(bytes / MB));
    return `| ${name} | ${fmt(mbps)} | ${ratio(mbps, base)} | ${mb(outcome.peakRssGrowth)} | ${mb(outcome.idleRss)} | ${outcome.runsMBps.map(fmt).join(', ')} |`;
  });
  return [
    '## Upload',
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
  ];
}

function echoSection(results: Results['echo']): string[] {
  const direct = results.find((r) => r.name === 'direct')?.outcome;
  const base = direct?.kind === 'measured' ? direct.roundTripsPerSecond : undefined;
  const rows = results.map(({ name, outcome }) => {
    if (outcome.kind !== 'measured') return `| ${name} | ${outcome.kind} (${escapeCell(outcome.reason)}) | | | | |`;
    const { roundTripsPerSecond: rate, p50Ms, p99Ms, cpu } = outcome;
    const pct = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(0));
    const cpuCell = `${pct(cpu.client)} / ${pct(cpu.router)} / ${pct(cpu.echo)} / ${pct(cpu.machine)}`;
    return `| ${name} | ${fmt(rate)} | ${ratio(rate, base)} | ${fmtMs(p50Ms)} | ${fmtMs(p99Ms)} | ${cpuCell} |`;
  });
  return [
    '## WebSocket round trips',
    '',
    '| contender | round trips/s | vs direct | p50 ms | p99 ms | CPU %: client / router / echo / machine |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `${CONNECTIONS} connections to \`/_event/?EIO=4&transport=websocket\`, each in a closed loop: send a ${MESSAGE_BYTES}-byte text`,
    `message, wait for its echo, check it equals what was sent, repeat; ${WARM_UP_MS / 1000} s warm-up, then every round trip`,
    'timed. Client: Bun’s built-in WebSocket on the bench’s main thread; upstream: a Bun.serve echo server on its own',
    'thread. CPU: busy share during the timed window of the client thread, the whole router process, the echo thread',
    'and all cores together (100 = one core; the machine’s total tops out at 100 × cores, and what it has beyond the',
    'other three is the bench’s other threads, the kernel and anything else running).',
    '',
  ];
}

function ratio(value: number, base: number | undefined): string {
  return base ? `${(value / base).toFixed(2)}×` : 'n/a';
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
}
