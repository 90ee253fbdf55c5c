import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { CONTENDERS, findExecutable, root, type Contender } from './contenders.ts';
import { fmt, fmtMs, median } from './numbers.ts';
import type { Options } from './options.ts';
import type { UploadResult } from './upload.ts';
import { LARGE_BYTES, LARGE_PATH, SMALL_BODY, SMALL_PATH, UPLOAD_PATH } from './upstream.ts';
import { CONNECTIONS as HTTP_CONNECTIONS, errorCount, WRK_THREADS, type HttpResult, type WrkErrors } from './wrk.ts';
import { CONNECTIONS as WS_CONNECTIONS, EVENT_PATH, MESSAGE_BYTES, type EchoResult } from './ws-echo.ts';

// The printed report and bench/results/latest.md: a header line that says
// what was measured where, then a table per measurement with absolute
// figures and, for throughput, ratios against nginx and against direct.

const MB = 1e6;
const MiB = 2 ** 20;

export type Outcome<M> = ({ kind: 'measured' } & M) | { kind: 'skipped' | 'failed'; reason: string };
export interface Row<M> {
  contender: Contender;
  outcome: Outcome<M>;
}

export interface ColdStart {
  samplesMs: number[];
}

/** One list of rows per measurement that ran. */
export interface Results {
  httpSmall?: Row<HttpResult>[];
  httpLarge?: Row<HttpResult>[];
  echo?: Row<EchoResult>[];
  upload?: Row<UploadResult>[];
  coldStart?: Row<ColdStart>[];
}

export function headerLine(opts: Options): string {
  const date = new Date().toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
  const cores = availableParallelism();
  const cpu = /^model name\s*:\s*(.+)$/m.exec(safeRead('/proc/cpuinfo'))?.[1]?.trim();
  const versions = [
    `node ${firstMatch(run('node', '--version'), /v?(\S+)/) ?? 'n/a'}`,
    `bun ${Bun.version}`,
    `deno ${firstMatch(run(join(root, 'node_modules/.bin/deno'), '--version'), /^deno (\S+)/) ?? 'n/a'}`,
    `nginx ${firstMatch(run(findExecutable('nginx') ?? 'nginx', '-v'), /nginx\/(\S+)/) ?? 'n/a'}`,
    `caddy ${firstMatch(run('caddy', 'version'), /^v?(\d\S*)/) ?? 'n/a'}`,
    `http-proxy-3 ${packageVersion('http-proxy-3') ?? 'n/a'}`,
    `wrk ${firstMatch(run('wrk', '-v'), /^wrk (\S+)/) ?? 'n/a'}`,
  ];
  const upload = `${opts.size % MiB === 0 ? `${opts.size / MiB} MiB` : `${opts.size} bytes`} × ${opts.runs}`;
  return [
    date,
    `rxroute ${codeVersion()}`,
    `${cpu ? `${cpu}, ` : ''}${cores} core${cores > 1 ? 's' : ''} shared by load generator, proxy and upstream`,
    ...versions,
    `${opts.seconds} s windows after ${opts.warmUpSeconds} s warm-up, upload ${upload}, ${opts.launches} launches${opts.quick ? ' (--quick)' : ''}`,
  ].join(' · ');
}

/** The commit measured, marked when src/ has uncommitted changes (Deno runs src/ as it is on disk). */
function codeVersion(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown commit';
  const dirty = git('status', '--porcelain', '--', 'src').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' + uncommitted src/ changes' : ''}`;
}

export function renderReport(results: Results, header: string, opts: Options): string {
  const sections = [
    results.httpSmall && httpSection(`HTTP: small GET (\`${SMALL_PATH}\`, ${SMALL_BODY.length}-byte body)`, results.httpSmall),
    results.httpLarge && httpSection(`HTTP: 64 KiB GET (\`${LARGE_PATH}\`, ${LARGE_BYTES}-byte body)`, results.httpLarge),
    results.httpSmall || results.httpLarge ? httpNotes() : undefined,
    results.echo && echoSection(results.echo),
    results.upload && uploadSection(results.upload, opts),
    results.coldStart && coldStartSection(results.coldStart),
    contendersSection(opts),
  ];
  return ['# rxroute benchmark', '', header, '', ...sections.flatMap((s) => s ?? [])].join('\n');
}

function httpSection(title: string, rows: Row<HttpResult>[]): string[] {
  return [
    `## ${title}`,
    '',
    ...table(rows, (r) => r.requestsPerSecond, {
      head: ['requests/s', 'vs nginx', 'vs direct', 'p50 ms', 'p99 ms', 'errors', 'CPU %: proxy / upstream / machine'],
      flag: (r) => errorCount(r.errors) > 0,
      cells: (r, ratios) => [fmt(r.requestsPerSecond), ...ratios, fmtMs(r.p50Ms), fmtMs(r.p99Ms), errorsCell(r.errors), cpuCell(r.cpu.proxy, r.cpu.upstream, r.cpu.machine)],
    }),
    '',
  ];
}

function httpNotes(): string[] {
  return [
    `wrk (\`-t${WRK_THREADS} -c${HTTP_CONNECTIONS}\`): ${HTTP_CONNECTIONS} keep-alive connections, each sending its next GET as soon as`,
    'the last answer arrived; an untimed warm-up run, then the timed window. Latency: wrk’s p50/p99 of every',
    'request in the window. Errors: connect/read/write/timeout socket errors and statuses ≥ 400, summed; a',
    'contender with any is marked ⚠. CPU: busy share during the timed window of the proxy’s processes, the',
    'upstream’s thread and all cores together (100 = one core); wrk has most of what the machine has beyond the other two.',
    '',
  ];
}

function echoSection(rows: Row<EchoResult>[]): string[] {
  return [
    '## WebSocket round trips',
    '',
    ...table(rows, (r) => r.roundTripsPerSecond, {
      head: ['round trips/s', 'vs nginx', 'vs direct', 'p50 ms', 'p99 ms', 'CPU %: client / proxy / echo / machine'],
      cells: (r, ratios) => [fmt(r.roundTripsPerSecond), ...ratios, fmtMs(r.p50Ms), fmtMs(r.p99Ms), cpuCell(r.cpu.client, r.cpu.proxy, r.cpu.echo, r.cpu.machine)],
    }),
    '',
    `${WS_CONNECTIONS} connections to \`${EVENT_PATH}\`, each in a closed loop: send a ${MESSAGE_BYTES}-byte text`,
    'message, wait for its echo, check it equals what was sent, repeat; a warm-up, then every round trip in the',
    'window timed. Client: Bun’s built-in WebSocket on the bench’s main thread; upstream: the Bun.serve echo on',
    'its own thread. CPU: busy share of the client thread, the proxy’s processes, the echo thread and all cores.',
    '',
  ];
}

function uploadSection(rows: Row<UploadResult>[], opts: Options): string[] {
  const mb = (bytes: number | undefined) => (bytes === undefined ? '—' : fmt(bytes / MB));
  const size = opts.size % MiB === 0 ? `${opts.size / MiB} MiB` : `${opts.size} bytes`;
  return [
    `## Upload (${size} streamed)`,
    '',
    ...table(rows, (r) => median(r.runsMBps), {
      head: ['MB/s (median)', 'vs nginx', 'vs direct', 'peak RSS (MB)', 'RSS growth (MB)', 'runs (MB/s)'],
      cells: (r, ratios) => [
        fmt(median(r.runsMBps)),
        ...ratios,
        mb(r.peakRss),
        r.peakRss === undefined || r.idleRss === undefined ? '—' : fmt((r.peakRss - r.idleRss) / MB),
        r.runsMBps.map(fmt).join(', '),
      ],
    }),
    '',
    `One Content-Length POST to \`${UPLOAD_PATH}\` per run, streamed from generated 64 KiB chunks by Bun fetch and`,
    'counted by the upstream’s sink, which checks every byte and the Content-Length arrived (one untimed warm-up',
    'upload to the sink first); each contender freshly started for its uploads. Peak RSS: highest VmRSS of the',
    'proxy, sampled every 50 ms during its runs; growth: that minus its idle VmRSS before the first run. nginx',
    'counts master and worker together (the worker carries the bytes; the master stays at its startup size).',
    'MB = 10^6 bytes.',
    '',
  ];
}

function coldStartSection(rows: Row<ColdStart>[]): string[] {
  return [
    '## Cold start',
    '',
    ...table(rows, undefined, {
      head: ['ms (median)', 'launches (ms)'],
      cells: (r) => [fmtMs(median(r.samplesMs)), r.samplesMs.map(fmtMs).join(', ')],
    }),
    '',
    `From spawn() to the first 200 for \`GET ${SMALL_PATH}\` proxied to the running upstream, asked every 2 ms. Every`,
    'launch of the contender counts, the ones that then served the other measurements included.',
    '',
  ];
}

function contendersSection(opts: Options): string[] {
  const measured = CONTENDERS.filter((c) => opts.contenders.includes(c.id));
  return ['## Contenders', '', ...measured.map((c) => `- **${c.name}**: ${c.setup}`), ''];
}

interface TableSpec<M> {
  head: string[];
  /** Marks the contender's name with ⚠. */
  flag?: (m: M) => boolean;
  /** The row's cells after the name; `ratios` holds the "vs nginx" and "vs direct" cells. */
  cells: (m: M, ratios: [string, string]) => string[];
}

/** Ratios use `value` (higher is better) against the nginx and direct rows, when those were measured. */
function table<M>(rows: Row<M>[], value: ((m: M) => number) | undefined, spec: TableSpec<M>): string[] {
  const base = (id: string) => {
    const outcome = rows.find((r) => r.contender.id === id)?.outcome;
    return outcome?.kind === 'measured' && value ? value(outcome) : undefined;
  };
  const nginx = base('nginx');
  const direct = base('direct');
  const lines = rows.map(({ contender, outcome }) => {
    if (outcome.kind !== 'measured') {
      return `| ${contender.name} | ${outcome.kind} (${escapeCell(outcome.reason)}) |${' |'.repeat(spec.head.length - 1)}`;
    }
    const v = value?.(outcome);
    const ratios: [string, string] = [ratio(v, nginx), ratio(v, direct)];
    const name = spec.flag?.(outcome) ? `${contender.name} ⚠` : contender.name;
    return `| ${[name, ...spec.cells(outcome, ratios)].join(' | ')} |`;
  });
  const align = spec.head.map((h) => (/^(runs|launches)/.test(h) ? '---' : '---:'));
  return [`| contender | ${spec.head.join(' | ')} |`, `|---|${align.join('|')}|`, ...lines];
}

function ratio(value: number | undefined, base: number | undefined): string {
  return value !== undefined && base ? `${(value / base).toFixed(2)}×` : 'n/a';
}

function errorsCell(errors: WrkErrors): string {
  const total = errorCount(errors);
  if (total === 0) return '0';
  const parts = Object.entries(errors).filter(([, n]) => n > 0).map(([kind, n]) => `${n} ${kind === 'status' ? 'status ≥ 400' : kind}`);
  return `**${total}** (${parts.join(', ')})`;
}

function cpuCell(...values: (number | undefined)[]): string {
  return values.map((n) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(0))).join(' / ');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
}

/** stdout and stderr together (nginx -v writes to stderr); empty when it cannot run. */
function run(file: string, ...args: string[]): string {
  const out = spawnSync(file, args, { encoding: 'utf8', timeout: 10_000 });
  return `${out.stdout ?? ''}${out.stderr ?? ''}`.trim();
}

function firstMatch(text: string, pattern: RegExp): string | undefined {
  return pattern.exec(text)?.[1];
}

function packageVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
