import type { Proxy } from './launch.ts';
import type { Options } from './options.ts';
import { MACHINE_STAT, processStats, sampleCpu } from './process-stats.ts';
import { fmt, fmtMs, percentile } from './numbers.ts';
import { threadId, type WorkerServer } from './worker-server.ts';

// WebSocket benchmark: closed-loop echo round trips over many connections,
// straight to the echo upstream or through a proxy's relay (DESIGN §5). It
// watches what the relay costs in round trips per second and latency, and
// that every message comes back as sent: same text, still text, none lost.

export const CONNECTIONS = 32;
export const MESSAGE_BYTES = 64;
/** The Socket.IO endpoint rxroute routes to the backend, as Reflex's client opens it. */
export const EVENT_PATH = '/_event/?EIO=4&transport=websocket';
const OPEN_TIMEOUT_MS = 10_000;
/** After the measured window, how long a last echo may take before its connection counts as stalled. */
const DRAIN_MS = 5_000;
const CLOSE_TIMEOUT_MS = 2_000;

export interface EchoResult {
  roundTripsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Echoes checked, warm-up included; all equal to what was sent, or the measurement fails. */
  echoes: number;
  /** Busy share of one core during the measured window, in percent; `machine` is all cores together. */
  cpu: { client: number | undefined; proxy: number | undefined; echo: number | undefined; machine: number | undefined };
}

/** What every connection's loop shares. Echoes count only inside [recordFrom, recordUntil]. */
interface Run {
  recordFrom: number;
  recordUntil: number;
  stopping: boolean;
  latenciesMs: number[];
  echoes: number;
  mismatches: number;
  firstMismatch: string | undefined;
}

/** `url` is the upstream's or the proxy's http URL. */
export async function measureEcho(url: string, proxy: Proxy | undefined, echo: WorkerServer, opts: Options): Promise<EchoResult> {
  const sockets = await openAll(url.replace(/^http/, 'ws') + EVENT_PATH, CONNECTIONS);
  const run: Run = {
    recordFrom: Infinity,
    recordUntil: Infinity,
    stopping: false,
    latenciesMs: [],
    echoes: 0,
    mismatches: 0,
    firstMismatch: undefined,
  };
  try {
    let idle = 0;
    const loops = Promise.all(sockets.map((ws, id) => echoLoop(ws, id, run).then(() => void idle++)));
    await Promise.race([sleep(opts.warmUpSeconds * 1000), loops]);
    const cpu = sampleCpu([
      [`/proc/self/task/${threadId()}/stat`],
      proxy ? processStats(proxy.pids) : [],
      [`/proc/self/task/${echo.tid}/stat`],
      [MACHINE_STAT],
    ]);
    run.recordFrom = performance.now();
    await Promise.race([sleep(opts.seconds * 1000), loops]);
    run.recordUntil = performance.now();
    run.stopping = true;
    const [client, proxyCpu, echoCpu, machine] = cpu.stop();
    const drained = await Promise.race([loops.then(() => true), sleep(DRAIN_MS).then(() => false)]);
    if (!drained) throw new Error(`${CONNECTIONS - idle} of ${CONNECTIONS} connections got no echo within ${DRAIN_MS / 1000} s of the end`);
    if (run.mismatches > 0) throw new Error(`${run.mismatches} of ${run.echoes} echoes differed from what was sent (first: ${run.firstMismatch})`);
    const sorted = Float64Array.from(run.latenciesMs).sort();
    const result: EchoResult = {
      roundTripsPerSecond: sorted.length / ((run.recordUntil - run.recordFrom) / 1000),
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      echoes: run.echoes,
      cpu: { client, proxy: proxyCpu, echo: echoCpu, machine },
    };
    process.stderr.write(`  ${progressLine(result)}\n`);
    return result;
  } finally {
    await closeAll(sockets);
  }
}

/**
 * One connection's closed loop: send a message, wait for its echo, check it,
 * send the next. With one message in flight a lost echo stalls the loop
 * (caught at the end) and any other frame shows up as a mismatch.
 */
function echoLoop(ws: WebSocket, id: number, run: Run): Promise<void> {
  let seq = 0;
  let expected = '';
  let sentAt = 0;
  const send = () => {
    expected = payload(id, seq++);
    sentAt = performance.now();
    ws.send(expected);
  };
  return new Promise((resolve, reject) => {
    ws.onmessage = (event: MessageEvent) => {
      const now = performance.now();
      run.echoes++;
      if (event.data !== expected) {
        if (run.mismatches++ === 0) run.firstMismatch = `sent ${JSON.stringify(expected)}, got ${describe(event.data)}`;
      } else if (now >= run.recordFrom && now <= run.recordUntil) {
        run.latenciesMs.push(now - sentAt);
      }
      if (run.stopping) resolve();
      else send();
    };
    ws.onclose = (event) => reject(new Error(`connection ${id} closed mid-run (code ${event.code}${event.reason ? `, "${event.reason}"` : ''})`));
    send();
  });
}

/** `<connection>:<sequence>:` padded to MESSAGE_BYTES of ASCII, so each echo names the message it answers. */
function payload(id: number, seq: number): string {
  return `${id}:${seq}:`.padEnd(MESSAGE_BYTES, '.');
}

function describe(data: unknown): string {
  if (typeof data === 'string') return JSON.stringify(data.length > 80 ? `${data.slice(0, 80)}…` : data);
  const bytes = data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? data.byteLength : undefined;
  return `a binary frame${bytes === undefined ? '' : ` of ${bytes} bytes`}`;
}

async function openAll(url: string, count: number): Promise<WebSocket[]> {
  const opened = await Promise.allSettled(Array.from({ length: count }, () => open(url)));
  const sockets = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failure = opened.find((o) => o.status === 'rejected');
  if (failure) {
    await closeAll(sockets);
    throw new Error(`${count - sockets.length} of ${count} connections to ${url} failed: ${failure.reason instanceof Error ? failure.reason.message : String(failure.reason)}`);
  }
  return sockets;
}

/** Bun's built-in WebSocket: native framing, so the client costs as little as it can per round trip. */
function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let error = '';
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`not open within ${OPEN_TIMEOUT_MS / 1000} s`));
    }, OPEN_TIMEOUT_MS);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.onerror = (event) => {
      error = (event as ErrorEvent).message ?? '';
    };
    ws.onclose = (event) => {
      clearTimeout(timer);
      reject(new Error(`handshake failed (close ${event.code}${error ? `: ${error}` : ''})`));
    };
  });
}

/** Closes cleanly so the proxy ends its relays before it is stopped; gives up after CLOSE_TIMEOUT_MS. */
async function closeAll(sockets: WebSocket[]): Promise<void> {
  const closed = sockets.map((ws) => {
    if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    const done = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve()));
    ws.close(1000, 'bench done');
    return done;
  });
  await Promise.race([Promise.all(closed), sleep(CLOSE_TIMEOUT_MS)]);
}

function progressLine({ roundTripsPerSecond, p50Ms, p99Ms, echoes, cpu }: EchoResult): string {
  const pct = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '—' : `${n.toFixed(0)}%`);
  return (
    `${fmt(roundTripsPerSecond)} round trips/s, p50 ${fmtMs(p50Ms)} ms, p99 ${fmtMs(p99Ms)} ms, ${echoes} echoes all as sent; ` +
    `CPU client ${pct(cpu.client)}, proxy ${pct(cpu.proxy)}, echo ${pct(cpu.echo)}, whole machine ${pct(cpu.machine)}`
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
