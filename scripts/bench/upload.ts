import type { Proxy } from './launch.ts';
import type { Options } from './options.ts';
import { sampleRss, treeRss } from './process-stats.ts';
import { fmt } from './numbers.ts';
import { UPLOAD_PATH, type SinkReport } from './upstream.ts';

// Upload benchmark: one large Content-Length upload streamed to the sink,
// straight or through a proxy. It watches what DESIGN §3 promises for uploads
// (streamed, Content-Length kept, memory flat whatever the body size) and
// what the proxy costs in throughput.

const MB = 1e6;
const MiB = 2 ** 20;
const CHUNK_BYTES = 64 * 1024;
const WARM_UP_BYTES = 256 * MiB;
/** A transfer that makes no progress this long is aborted, so the bench always ends. */
const STALL_MS = 30_000;

export interface UploadResult {
  runsMBps: number[];
  /** The proxy's RSS (all its processes) before the first upload, and the highest while they ran. */
  idleRss?: number;
  peakRss?: number;
}

/** `url` is the sink's or the proxy's; with a proxy, its memory is watched too. */
export async function measureUploads(url: string, proxy: Proxy | undefined, opts: Options): Promise<UploadResult> {
  if (!proxy) return { runsMBps: await runUploads(url + UPLOAD_PATH, opts) };
  // Growth is counted from the idle proxy, before its first upload, so
  // memory kept between runs still counts.
  const idleRss = treeRss(proxy.pids);
  const rss = sampleRss(proxy.pids);
  try {
    const runsMBps = await runUploads(url + UPLOAD_PATH, opts);
    return { runsMBps, idleRss, peakRss: Math.max(idleRss, rss.stop()) };
  } finally {
    rss.stop();
  }
}

/** One untimed upload to the sink, so `direct`, measured first, does not pay the client's and sink's first-use costs. */
export async function warmUpUploads(sinkUrl: string, size: number): Promise<void> {
  await upload(sinkUrl + UPLOAD_PATH, Math.min(size, WARM_UP_BYTES));
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
