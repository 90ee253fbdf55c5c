// Soak and chaos run (DESIGN §3, §5, §6): mixed traffic through rxroute for
// a long while, on loopback only, while a chaos loop kills the backend with
// SIGKILL or SIGTERM every 20–60 s and starts it again. Checks every byte,
// counts outcomes and requests delivered twice (the backend logs each
// request's id), samples rxroute's RSS, fds and upstream connections, and
// fails on a mismatch, a clean-but-short response, a bodied request
// delivered twice or RSS/fd growth over the last two thirds of the run.
// Usage: bun scripts/soak.ts [--minutes 30] [--runtime binary|node|deno] [--quick]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRouter, type RouterProcess, type Runtime } from '../test/_helpers/router-process.ts';
import { freePort } from './bench/launch.ts';
import { median } from './bench/numbers.ts';
import { readRss } from './bench/process-stats.ts';
import { BackendProcess } from './soak/backend-process.ts';
import { connectionsTo, openFds } from './soak/proc-stats.ts';
import { KINDS, OUTCOMES, sleep, Traffic } from './soak/traffic.ts';

const MiB = 1024 * 1024;
/** How often rxroute's process is sampled; the report lists one sample a minute. */
const SAMPLE_MS = 10_000;
/**
 * Allowed growth over the last two thirds of the run: the median of that
 * window's last third minus the median of its first third (medians, so the
 * dips right after a kill, when 200 WebSockets reconnect, do not count).
 */
const RSS_GROWTH_BOUND = 64 * MiB;
const FD_GROWTH_BOUND = 40;
const CHAOS_MIN_S = 20;
const CHAOS_MAX_S = 60;
/** How long workers get to finish their last request once the run is over. */
const DRAIN_MS = 90_000;

const USAGE = `Usage: npm run soak -- [--minutes N] [--runtime binary|node|deno] [--quick] [--out FILE]

  --minutes N   how long the traffic runs (default 30, --quick 3)
  --runtime R   binary, node or deno (default binary)
  --quick       uploads up to 64 MiB instead of 256 MiB, 3 minutes unless --minutes
  --out FILE    the report (default bench/results/soak-<runtime>.md for a full
                run of 10 minutes or more, else .tmp/soak/<runtime>.md)
`;

interface Sample {
  seconds: number;
  rss: number;
  fds: number;
  upstream: number;
}

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      minutes: { type: 'string' },
      runtime: { type: 'string', default: 'binary' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const runtime = values.runtime as Runtime;
  if (!['binary', 'node', 'deno'].includes(runtime)) throw new Error(`--runtime must be binary, node or deno (got "${values.runtime}")`);
  const minutes = Number(values.minutes ?? (values.quick ? 3 : 30));
  if (!(minutes > 0 && minutes <= 240)) throw new Error(`--minutes must be 0–240 (got "${values.minutes}")`);
  const full = !values.quick && minutes >= 10;
  return {
    runtime,
    minutes,
    quick: values.quick,
    maxUploadBytes: values.quick ? 64 * MiB : 256 * MiB,
    out: values.out ?? (full ? `bench/results/soak-${runtime}.md` : `.tmp/soak/${runtime}.md`),
  };
}

async function main(): Promise<number> {
  const opts = options();
  const scratch = mkdtempSync(join(tmpdir(), 'rxroute-soak-'));
  const arrivals = join(scratch, 'arrivals.tsv');
  writeFileSync(arrivals, '');
  const backend = new BackendProcess(await freePort(), arrivals);
  await backend.start();
  let router: RouterProcess | undefined;
  let stopping = false;
  const onSignal = () => {
    stopping = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    router = await startRouter(opts.runtime, ['--port', '0', '--host', '127.0.0.1', '--log', 'json', '--quiet', '--backend', backend.url, '--frontend', backend.url, '--wait', '10000']);
    const rxroute = router;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const endAt = opts.minutes * 60;
    log(`soak: ${opts.runtime} rxroute (pid ${rxroute.pid}) → backend ${backend.url} for ${opts.minutes} min${opts.quick ? ' (quick)' : ''}`);

    const samples: Sample[] = [];
    const sample = () => {
      const s = { seconds: seconds(), rss: readRss(rxroute.pid), fds: openFds(rxroute.pid), upstream: connectionsTo(rxroute.pid, backend.port) };
      samples.push(s);
      return s;
    };
    sample();
    const sampler = setInterval(() => {
      if (rxroute.exitCode() !== undefined) return;
      const s = sample();
      if (s.seconds % 60 < SAMPLE_MS / 1000) {
        log(`  ${fmtMin(s.seconds)}  rss ${mib(s.rss)}  fds ${s.fds}  upstream conns ${s.upstream}  ok ${traffic.tally.total('ok')}  502 ${traffic.tally.total('502')}  kills ${backend.kills.SIGKILL + backend.kills.SIGTERM}`);
      }
    }, SAMPLE_MS);

    const traffic = new Traffic({ url: rxroute.url, maxUploadBytes: opts.maxUploadBytes, webSockets: 200 });
    const running = traffic.run();
    const chaos = (async () => {
      while (!stopping && seconds() < endAt) {
        const wait = (CHAOS_MIN_S + Math.random() * (CHAOS_MAX_S - CHAOS_MIN_S)) * 1000;
        const until = performance.now() + wait;
        while (!stopping && performance.now() < until && seconds() < endAt) await sleep(250);
        if (stopping || seconds() >= endAt) break;
        const signal = Math.random() < 0.5 ? 'SIGKILL' : 'SIGTERM';
        await backend.kill(signal);
        await sleep(200 + Math.random() * 2_800);
        await backend.start();
      }
    })();

    while (!stopping && seconds() < endAt && rxroute.exitCode() === undefined) await sleep(250);
    await chaos;
    // Samples are of rxroute under load; once the clients stop, fds and RSS fall.
    clearInterval(sampler);
    traffic.stop();
    const drained = await Promise.race([running.then(() => true), sleep(DRAIN_MS).then(() => false)]);
    const routerDied = rxroute.exitCode() !== undefined;
    const report = buildReport(opts, traffic, samples, backend, readFileSync(arrivals, 'utf8'), { drained, routerDied, stderr: rxroute.stderr() });
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, report.text);
    console.log(report.text);
    log(`soak: report written to ${opts.out}`);
    return report.failures.length === 0 ? 0 : 1;
  } finally {
    await router?.stop();
    await backend.kill('SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
  }
}

function buildReport(
  opts: ReturnType<typeof options>,
  traffic: Traffic,
  samples: Sample[],
  backend: BackendProcess,
  arrivals: string,
  end: { drained: boolean; routerDied: boolean; stderr: string },
): { text: string; failures: string[] } {
  const t = traffic.tally;
  const lines: string[] = [];
  const failures: string[] = [];
  lines.push(`# Soak: rxroute ${opts.runtime}, ${opts.minutes} min${opts.quick ? ' (--quick)' : ''}`, '');
  lines.push(`${new Date().toISOString()}; backend killed ${backend.kills.SIGKILL}× with SIGKILL and ${backend.kills.SIGTERM}× with SIGTERM (every ${CHAOS_MIN_S}–${CHAOS_MAX_S} s), started ${backend.starts}×.`, '');

  lines.push('## Requests by outcome', '');
  const shown = OUTCOMES.filter((o) => KINDS.some((k) => (t.counts.get(k)!.get(o) ?? 0) > 0) || ['ok', '502', '504', 'aborted', 'mismatch', 'truncated clean'].includes(o));
  lines.push(`| kind | ${shown.join(' | ')} |`, `|---|${shown.map(() => '---:').join('|')}|`);
  for (const kind of KINDS) lines.push(`| ${kind} | ${shown.map((o) => t.counts.get(kind)!.get(o) ?? 0).join(' | ')} |`);
  lines.push(`| **all** | ${shown.map((o) => t.total(o)).join(' | ')} |`, '');
  const closes = [...t.ws.closes].map(([code, n]) => `${n}×${code}`).join(', ') || 'none';
  lines.push(`WebSockets (200 clients, reconnecting): ${t.ws.opened} opened, ${t.ws.failedToOpen} failed to open, ${t.ws.echoes} echoes in order, ${t.ws.mismatches} out of order or wrong; closes: ${closes}.`, '');
  if (t.otherStatuses.size) lines.push(`Other statuses: ${[...t.otherStatuses].map(([s, n]) => `${n}×${s}`).join(', ')}.`, '');
  if (t.causes.size) {
    lines.push("502 and 504 by cause (rxroute's error, its URL left out):", '', '| kind, status: error | count |', '|---|---:|');
    for (const [cause, n] of [...t.causes].sort((a, b) => b[1] - a[1])) lines.push(`| ${cause.replace(/\|/g, '\\|')} | ${n} |`);
    lines.push('');
  }

  // Copies per request id, as the backend logged them across every restart.
  const copies = new Map<string, { n: number; method: string; path: string }>();
  for (const line of arrivals.split('\n')) {
    const [id, method = '', path = ''] = line.split('\t');
    if (!id || id === '-') continue;
    const seen = copies.get(id);
    if (seen) seen.n++;
    else copies.set(id, { n: 1, method, path });
  }
  const twice = [...copies.values()].filter((c) => c.n > 1);
  const bodied = twice.filter((c) => c.method === 'POST');
  const bodyless = twice.filter((c) => c.method !== 'POST');
  const byPath = new Map<string, number>();
  for (const c of bodyless) byPath.set(c.path, (byPath.get(c.path) ?? 0) + 1);

  const mismatches = t.total('mismatch') + t.ws.mismatches;
  lines.push('## Checks', '');
  lines.push('| check | count | must be |', '|---|---:|---|');
  lines.push(`| byte mismatches (HTTP bodies, upload SHA-256, SSE order, WebSocket echo order) | ${mismatches} | 0 |`);
  lines.push(`| truncated but clean responses | ${t.total('truncated clean')} | 0 |`);
  lines.push(`| requests with a body delivered twice | ${bodied.length} | 0 |`);
  lines.push(`| body-less requests delivered twice | ${bodyless.length} | reported${byPath.size ? ` (${[...byPath].map(([p, n]) => `${p}: ${n}`).join(', ')})` : ''} |`);
  lines.push(`| stalled exchanges (no progress for 60 s) | ${t.total('stalled')} | reported |`, '');
  if (mismatches) failures.push(`${mismatches} byte mismatches`);
  if (t.total('truncated clean')) failures.push(`${t.total('truncated clean')} truncated-but-clean responses`);
  if (bodied.length) failures.push(`${bodied.length} requests with a body delivered twice`);

  lines.push('## rxroute process, once a minute', '');
  lines.push('| minute | RSS | open fds | upstream connections |', '|---:|---:|---:|---:|');
  const last = samples.at(-1)?.seconds ?? 0;
  for (let minute = 0; minute <= Math.ceil(last / 60); minute++) {
    const s = samples.reduce((best, x) => (Math.abs(x.seconds - minute * 60) < Math.abs(best.seconds - minute * 60) ? x : best));
    if (Math.abs(s.seconds - minute * 60) > SAMPLE_MS / 1000) continue;
    lines.push(`| ${fmtMin(s.seconds)} | ${mib(s.rss)} | ${s.fds} | ${s.upstream} |`);
  }
  lines.push('');
  const window = samples.filter((s) => s.seconds >= (opts.minutes * 60) / 3);
  const rssGrowth = growth(window, (s) => s.rss);
  const fdGrowth = growth(window, (s) => s.fds);
  lines.push(
    `Growth over the last two thirds (${window.length} samples, ${SAMPLE_MS / 1000} s apart; median of its last third minus median of its first third): RSS ${signedMib(rssGrowth)} (bound ${mib(RSS_GROWTH_BOUND)}), fds ${fdGrowth >= 0 ? '+' : ''}${fdGrowth.toFixed(1)} (bound ${FD_GROWTH_BOUND}).`,
    '',
  );
  if (window.length < 3) failures.push(`only ${window.length} samples in the last two thirds: run longer`);
  if (rssGrowth > RSS_GROWTH_BOUND) failures.push(`RSS grew ${signedMib(rssGrowth)} over the last two thirds (bound ${mib(RSS_GROWTH_BOUND)})`);
  if (fdGrowth > FD_GROWTH_BOUND) failures.push(`open fds grew ${fdGrowth.toFixed(1)} over the last two thirds (bound ${FD_GROWTH_BOUND})`);
  if (end.routerDied) failures.push(`rxroute exited during the run: ${end.stderr.slice(-500)}`);
  if (!end.drained) failures.push(`workers still busy ${DRAIN_MS / 1000} s after the run ended`);

  if (t.problems.length) lines.push('## First problems seen', '', ...t.problems.slice(0, 20).map((p) => `- ${p}`), '');
  lines.push(failures.length ? `**FAILED**: ${failures.join('; ')}.` : '**PASSED**: no mismatch, no clean truncation, no bodied request delivered twice, RSS and fds within bounds.');
  return { text: lines.join('\n') + '\n', failures };
}

/** Median of the window's last third minus the median of its first third. */
function growth(samples: Sample[], value: (s: Sample) => number): number {
  if (samples.length < 3) return 0;
  const third = Math.max(1, Math.floor(samples.length / 3));
  return median(samples.slice(-third).map(value)) - median(samples.slice(0, third).map(value));
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

function signedMib(bytes: number): string {
  return `${bytes >= 0 ? '+' : ''}${mib(bytes)}`;
}

function fmtMin(seconds: number): string {
  return (seconds / 60).toFixed(1);
}

process.exit(await main());
