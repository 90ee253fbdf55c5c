import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Proxy } from './launch.ts';
import type { Options } from './options.ts';
import { fmt, fmtMs } from './numbers.ts';
import { MACHINE_STAT, processStats, sampleCpu } from './process-stats.ts';
import type { WorkerServer } from './worker-server.ts';

// HTTP benchmark: Debian's wrk, a closed-loop load generator written in C,
// holding CONNECTIONS keep-alive connections busy against one path, straight
// to the upstream or through a proxy. One wrk thread: the machine's two
// cores are shared by wrk, the proxy and the upstream, and a second wrk
// thread would take CPU from the proxy it measures.

export const CONNECTIONS = 32;
export const WRK_THREADS = 1;
const REPORT_SCRIPT = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));

export interface WrkErrors {
  connect: number;
  read: number;
  write: number;
  /** Responses with a status ≥ 400. */
  status: number;
  timeout: number;
}

export interface HttpResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Response bytes per request, head included. */
  bytesPerRequest: number;
  errors: WrkErrors;
  /** Busy share of one core during the timed window; `machine` is all cores together. */
  cpu: { proxy: number | undefined; upstream: number | undefined; machine: number | undefined };
}

interface WrkReport {
  requests: number;
  durationUs: number;
  bytes: number;
  p50Us: number;
  p99Us: number;
  errors: WrkErrors;
}

/**
 * Untimed warm-up, then the timed window, against `url` + `path`. A response
 * shorter than `minBytes` means the body did not arrive, and fails the measurement.
 */
export async function measureHttp(
  wrk: string,
  url: string,
  path: string,
  minBytes: number,
  proxy: Proxy | undefined,
  upstream: WorkerServer,
  opts: Options,
): Promise<HttpResult> {
  if (opts.warmUpSeconds > 0) await runWrk(wrk, url + path, opts.warmUpSeconds);
  const cpu = sampleCpu([proxy ? processStats(proxy.pids) : [], [`/proc/self/task/${upstream.tid}/stat`], [MACHINE_STAT]]);
  const report = await runWrk(wrk, url + path, opts.seconds);
  const [proxyCpu, upstreamCpu, machine] = cpu.stop();
  if (report.requests === 0) throw new Error(`no request completed in ${opts.seconds} s${describeErrors(report.errors)}`);
  const bytesPerRequest = report.bytes / report.requests;
  if (bytesPerRequest < minBytes) throw new Error(`responses averaged ${fmt(bytesPerRequest)} bytes, expected ≥ ${minBytes}${describeErrors(report.errors)}`);
  const result: HttpResult = {
    requestsPerSecond: report.requests / (report.durationUs / 1e6),
    p50Ms: report.p50Us / 1000,
    p99Ms: report.p99Us / 1000,
    requests: report.requests,
    bytesPerRequest,
    errors: report.errors,
    cpu: { proxy: proxyCpu, upstream: upstreamCpu, machine },
  };
  process.stderr.write(`  ${path}: ${progressLine(result)}\n`);
  return result;
}

export function errorCount(errors: WrkErrors): number {
  return errors.connect + errors.read + errors.write + errors.status + errors.timeout;
}

/** `, 3 non-2xx/3xx, 1 read error`, or nothing when all went well. */
export function describeErrors(errors: WrkErrors): string {
  const parts = [
    errors.status && `${errors.status} status ≥ 400`,
    errors.connect && `${errors.connect} connect`,
    errors.read && `${errors.read} read`,
    errors.write && `${errors.write} write`,
    errors.timeout && `${errors.timeout} timeout`,
  ].filter(Boolean);
  return parts.length ? `; errors: ${parts.join(', ')}` : '';
}

function runWrk(wrk: string, target: string, seconds: number): Promise<WrkReport> {
  const args = [`-t${WRK_THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', REPORT_SCRIPT, target];
  return new Promise((resolve, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.once('error', (error) => reject(new Error(`could not run ${wrk}: ${error.message}`)));
    child.once('close', (code) => {
      const line = /^WRK_REPORT (.*)$/m.exec(out)?.[1];
      if (code !== 0 || !line) return reject(new Error(`wrk ${args.join(' ')} exited with ${code}: ${out.trim().slice(-300)}`));
      resolve(JSON.parse(line) as WrkReport);
    });
  });
}

function progressLine(r: HttpResult): string {
  const pct = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '—' : `${n.toFixed(0)}%`);
  return (
    `${fmt(r.requestsPerSecond)} requests/s, p50 ${fmtMs(r.p50Ms)} ms, p99 ${fmtMs(r.p99Ms)} ms${describeErrors(r.errors)}; ` +
    `CPU proxy ${pct(r.cpu.proxy)}, upstream ${pct(r.cpu.upstream)}, whole machine ${pct(r.cpu.machine)}`
  );
}
