import { createHash } from 'node:crypto';
import { BodyChecker, chunksOf } from './content.ts';

// The soak's clients: HTTP workers of each kind and WebSockets echoing in
// order, all through rxroute on loopback. Every request carries a unique
// x-soak-id (the backend logs it) and ends in exactly one outcome.

export const KINDS = ['small', '64k', 'stream', 'upload', 'sse', 'long-poll'] as const;
export type Kind = (typeof KINDS)[number];

export const OUTCOMES = ['ok', '502', '504', 'aborted', 'ended abnormally', 'no response', 'other status', 'mismatch', 'truncated clean', 'stalled'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What a client aborts on purpose: 1 % of requests, mid-body. */
const ABORT_SHARE = 0.01;
/** A transfer without progress this long is abandoned and counted as stalled. */
const STALL_MS = 60_000;

export interface TrafficOptions {
  url: string;
  /** Largest upload; the biggest ones are rare. */
  maxUploadBytes: number;
  webSockets: number;
}

export class Tally {
  readonly counts = new Map<Kind, Map<Outcome, number>>(KINDS.map((k) => [k, new Map()]));
  readonly otherStatuses = new Map<number, number>();
  readonly problems: string[] = [];
  /** rxroute's 502/504 answers by kind and error (its URL left out), to tell a wait given up from a resend that failed. */
  readonly causes = new Map<string, number>();
  ws = { opened: 0, failedToOpen: 0, echoes: 0, mismatches: 0, closes: new Map<number, number>() };

  add(kind: Kind, outcome: Outcome, detail?: string): void {
    const row = this.counts.get(kind)!;
    row.set(outcome, (row.get(outcome) ?? 0) + 1);
    if (detail && this.problems.length < 50) this.problems.push(`${kind} ${outcome}: ${detail}`);
  }

  total(outcome: Outcome): number {
    let n = 0;
    for (const row of this.counts.values()) n += row.get(outcome) ?? 0;
    return n;
  }
}

/** The `error` of rxroute's JSON error body, or its first line. */
function errorOf(body: string): string {
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof error === 'string') return error;
  } catch {}
  return body.split('\n')[0]!.slice(0, 120);
}

const random = (min: number, max: number) => min + Math.random() * (max - min);
const randomInt = (min: number, max: number) => Math.floor(random(min, max + 1));
const MiB = 1024 * 1024;

export class Traffic {
  readonly tally = new Tally();
  private stopping = false;
  private ids = 0;
  private readonly prefix = Math.random().toString(36).slice(2, 8);
  private readonly sockets = new Set<WebSocket>();

  constructor(private readonly opts: TrafficOptions) {}

  /** Runs until stop(): resolves when every worker has finished its last request. */
  run(): Promise<unknown> {
    const loop = (n: number, think: () => number, one: () => Promise<void>) =>
      Array.from({ length: n }, async () => {
        while (!this.stopping) {
          await one();
          await sleep(think());
        }
      });
    return Promise.all([
      ...loop(6, () => random(10, 30), () => (Math.random() < 0.6 ? this.small() : this.large())),
      ...loop(2, () => random(100, 300), () => this.stream(randomInt(1, 32) * MiB + randomInt(0, 65_535))),
      ...loop(2, () => random(100, 300), () => this.upload(this.uploadSize())),
      ...loop(2, () => random(100, 500), () => this.sse(randomInt(10, 40))),
      ...loop(3, () => random(0, 200), () => this.longPoll(randomInt(500, 5_000))),
      ...Array.from({ length: this.opts.webSockets }, (_, i) => this.webSocket(i)),
    ]);
  }

  stop(): void {
    this.stopping = true;
    for (const ws of this.sockets) ws.close(1000, 'soak over');
  }

  private uploadSize(): number {
    const r = Math.random();
    const size = r < 0.8 ? randomInt(64 * 1024, 4 * MiB) : r < 0.95 ? randomInt(4 * MiB, 32 * MiB) : randomInt(64 * MiB, 256 * MiB);
    return Math.min(size, this.opts.maxUploadBytes);
  }

  private id(): string {
    return `${this.prefix}-${++this.ids}`;
  }

  /** One exchange with a stall watchdog; `read` consumes the body and returns the outcome. */
  private async exchange(
    kind: Kind,
    path: string,
    init: RequestInit,
    read: (res: Response, progress: () => void, abortSoon: boolean, abort: () => void) => Promise<Outcome | [Outcome, string]>,
    /** Called before the request starts, for a body that aborts or reports progress itself. */
    arm?: (abortSoon: boolean, abort: () => void, progress: () => void) => void,
  ): Promise<void> {
    const controller = new AbortController();
    let gotHead = false;
    let aborted = false;
    let last = performance.now();
    let stalled = false;
    const progress = () => (last = performance.now());
    const watchdog = setInterval(() => {
      if (performance.now() - last > STALL_MS) {
        stalled = true;
        controller.abort();
      }
    }, 1_000);
    const abort = () => {
      aborted = true;
      controller.abort();
    };
    const abortSoon = Math.random() < ABORT_SHARE;
    arm?.(abortSoon, abort, progress);
    try {
      const res = await fetch(this.opts.url + path, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), 'x-soak-id': this.id() },
        signal: controller.signal,
      });
      progress();
      gotHead = true;
      if (res.status !== 200) {
        const text = await res.text().catch(() => '');
        if (res.status === 502 || res.status === 504) {
          const cause = `${kind} ${res.status}: ${errorOf(text).replace(/^https?:\/\/\S+\s/, '')}`;
          this.tally.causes.set(cause, (this.tally.causes.get(cause) ?? 0) + 1);
          return this.tally.add(kind, String(res.status) as Outcome);
        }
        this.tally.otherStatuses.set(res.status, (this.tally.otherStatuses.get(res.status) ?? 0) + 1);
        return this.tally.add(kind, 'other status', `HTTP ${res.status} on ${path}`);
      }
      const outcome = await read(res, progress, abortSoon, abort);
      const [what, detail] = Array.isArray(outcome) ? outcome : [outcome, undefined];
      this.tally.add(kind, what, detail && `${detail} (${path})`);
    } catch (error) {
      if (stalled) return this.tally.add(kind, 'stalled', `no progress for ${STALL_MS / 1000} s on ${path}`);
      if (aborted) return this.tally.add(kind, 'aborted');
      // The head never came (rxroute closed the connection) or the body broke off.
      const message = error instanceof Error ? error.message : String(error);
      this.tally.add(kind, gotHead ? 'ended abnormally' : 'no response', gotHead ? undefined : `${message} on ${path}`);
    } finally {
      clearInterval(watchdog);
    }
  }

  private small(): Promise<void> {
    return this.exchange('small', '/ping', {}, async (res) => ((await res.text()) === 'pong\n' ? 'ok' : ['mismatch', 'body is not pong']));
  }

  private large(): Promise<void> {
    return this.exchange('64k', '/assets/64k.bin', {}, (res, progress, abortSoon, abort) => this.checkBody(res, 64 * 1024, 64, progress, abortSoon, abort));
  }

  private stream(size: number): Promise<void> {
    const seed = randomInt(1, 2 ** 31);
    return this.exchange('stream', `/stream/${size}?seed=${seed}`, {}, (res, progress, abortSoon, abort) => this.checkBody(res, size, seed, progress, abortSoon, abort));
  }

  /** Reads the body through a checker: every byte compared, a short clean end told apart from an abnormal one. */
  private async checkBody(res: Response, size: number, seed: number, progress: () => void, abortSoon: boolean, abort: () => void): Promise<Outcome | [Outcome, string]> {
    const checker = new BodyChecker(size, seed);
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      progress();
      checker.push(value);
      if (abortSoon && checker.received > 0) {
        abort();
        await reader.cancel().catch(() => undefined);
        return 'aborted';
      }
    }
    if (checker.mismatchAt !== undefined) return ['mismatch', `first differing byte at ${checker.mismatchAt} of ${size}`];
    if (checker.received < size) return ['truncated clean', `ended cleanly after ${checker.received} of ${size} bytes`];
    return 'ok';
  }

  private upload(size: number): Promise<void> {
    const seed = randomInt(1, 2 ** 31);
    const hash = createHash('sha256');
    const chunks = chunksOf(size, seed);
    let sent = 0;
    let abortAt = Infinity;
    let abortUpload = () => {};
    let progress = () => {};
    // Pull-based with no queue: bytes are made (and hashed) only as fast as rxroute takes them.
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          progress();
          if (sent >= abortAt) return abortUpload();
          const { done, value } = chunks.next();
          if (done) return controller.close();
          hash.update(value);
          sent += value.length;
          controller.enqueue(value);
        },
      },
      { highWaterMark: 0 },
    );
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      duplex: 'half',
    } as RequestInit;
    return this.exchange(
      'upload',
      '/_upload',
      init,
      async (res) => {
        const report = (await res.json()) as { bytes: number; sha256: string };
        if (report.bytes !== size) return ['mismatch', `backend received ${report.bytes} of ${size} bytes`];
        if (report.sha256 !== hash.digest('hex')) return ['mismatch', `SHA-256 differs for ${size} bytes`];
        return 'ok';
      },
      (abortSoon, abort, onProgress) => {
        progress = onProgress;
        if (abortSoon) {
          abortAt = Math.floor(size / 2);
          abortUpload = abort;
        }
      },
    );
  }

  private sse(n: number): Promise<void> {
    return this.exchange('sse', `/sse?n=${n}`, { headers: { accept: 'text/event-stream' } }, async (res, progress, abortSoon, abort) => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      let next = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        progress();
        text += value;
        let end: number;
        while ((end = text.indexOf('\n\n')) !== -1) {
          const event = text.slice(0, end);
          text = text.slice(end + 2);
          const data = /^data: (\d+)$/m.exec(event)?.[1];
          if (Number(data) !== next) return ['mismatch', `event ${data} where ${next} was due`];
          next++;
        }
        if (abortSoon && next > 0) {
          abort();
          await reader.cancel().catch(() => undefined);
          return 'aborted';
        }
      }
      if (next < n) return ['truncated clean', `ended cleanly after ${next} of ${n} events`];
      return text === '' ? 'ok' : ['mismatch', 'bytes after the last event'];
    });
  }

  private longPoll(ms: number): Promise<void> {
    return this.exchange('long-poll', `/slow?ms=${ms}&EIO=4&transport=polling`, {}, async (res) => ((await res.text()) === 'late\n' ? 'ok' : ['mismatch', 'body is not late']));
  }

  /** One WebSocket client for the whole run: echoes checked in order, reconnecting after every close. */
  private async webSocket(index: number): Promise<void> {
    const url = `${this.opts.url.replace(/^http/, 'ws')}/_event/?EIO=4&transport=websocket&client=${index}`;
    await sleep(random(0, 5_000));
    while (!this.stopping) {
      await new Promise<void>((done) => {
        const ws = new WebSocket(url, { headers: { 'x-soak-id': this.id() } } as unknown as string[]);
        this.sockets.add(ws);
        const pending: string[] = [];
        let seq = 0;
        let opened = false;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const sendNext = () => {
          if (ws.readyState !== WebSocket.OPEN || this.stopping) return;
          const message = `${index}:${seq++}:${'x'.repeat(randomInt(0, 512))}`;
          pending.push(message);
          ws.send(message);
          timer = setTimeout(sendNext, random(500, 1_500));
        };
        ws.onopen = () => {
          opened = true;
          this.tally.ws.opened++;
          sendNext();
        };
        ws.onmessage = (event) => {
          const expected = pending.shift();
          if (event.data === expected) this.tally.ws.echoes++;
          else {
            this.tally.ws.mismatches++;
            if (this.tally.problems.length < 50) this.tally.problems.push(`ws ${index}: got ${String(event.data).slice(0, 40)} where ${expected?.slice(0, 40)} was due`);
          }
        };
        ws.onclose = (event) => {
          clearTimeout(timer);
          this.sockets.delete(ws);
          if (!opened) this.tally.ws.failedToOpen++;
          else this.tally.ws.closes.set(event.code, (this.tally.ws.closes.get(event.code) ?? 0) + 1);
          done();
        };
      });
      if (!this.stopping) await sleep(random(200, 1_000));
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
