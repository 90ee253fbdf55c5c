import type { Dispatcher } from 'undici';

// An upstream response body as undici's dispatch handler receives it, for
// two readers: the web stream in the Response (what the core and
// @hono/node-server read when nothing better applies), or the Node adapter,
// which takes the body while nobody has read it and writes it straight into
// the client's response.

/** Bytes held for a reader (queued here, or in the web stream) before the upstream socket is paused. */
const HIGH_WATER = 64 * 1024;

/** Where a taken body goes. `write` returning false holds the upstream until `resume()`. */
export interface BodySink {
  write(chunk: Buffer): boolean;
  end(): void;
  /** The upstream broke off mid-body: the client must not see a clean end. */
  fail(error: Error): void;
}

export class UpstreamBody {
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: Error | undefined;
  private sink: BodySink | undefined;
  /** Inside undici's parser (push): undici's resume must not be called from there. */
  private pushing = false;

  constructor(private readonly controller: Dispatcher.DispatchController) {}

  /** A chunk from undici; pauses the upstream while the reader is full. */
  push(chunk: Buffer): void {
    this.pushing = true;
    try {
      if (this.sink) {
        if (!this.sink.write(chunk)) this.controller.pause();
        return;
      }
      this.queued.push(chunk);
      this.queuedBytes += chunk.byteLength;
      if (this.queuedBytes >= HIGH_WATER) this.controller.pause();
    } finally {
      this.pushing = false;
    }
  }

  end(): void {
    this.ended = true;
    this.sink?.end();
  }

  fail(error: Error): void {
    if (this.ended || this.failure) return;
    this.failure = error;
    this.sink?.fail(error);
  }

  /** Whether the whole body has arrived and nobody has it yet: `whole()` then gives it in one piece. */
  get complete(): boolean {
    return this.ended && !this.sink;
  }

  /** Bytes that arrived before anyone took the body. */
  get buffered(): number {
    return this.queuedBytes;
  }

  /** The whole body (complete only), handed out once. */
  whole(): Buffer | undefined {
    this.sink = { write: () => true, end: () => {}, fail: () => {} };
    const chunks = this.queued;
    this.queued = [];
    return chunks.length === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  /** Hands the body to `sink`: what has arrived at once, the rest as it comes. */
  pipe(sink: BodySink): void {
    this.sink = sink;
    const chunks = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    let room = true;
    for (const chunk of chunks) room = sink.write(chunk);
    if (this.ended) sink.end();
    else if (this.failure) sink.fail(this.failure);
    else if (room) this.resume();
  }

  /** The sink has room again. */
  resume(): void {
    if (!this.controller.paused) return;
    if (this.pushing) queueMicrotask(() => this.controller.resume());
    else this.controller.resume();
  }

  /** The reader went away: end the upstream exchange (a no-op once it is complete). */
  cancel(reason?: unknown): void {
    this.controller.abort(reason instanceof Error ? reason : new Error('the client went away', { cause: reason }));
  }

  /**
   * The body as a web stream that holds the upstream when the reader is
   * slower, and errors (never closes cleanly) when the upstream breaks off.
   * Nothing is handed to it until the first read: until then the body can
   * still be taken (takeUnreadBody).
   */
  stream(): ReadableStream<Uint8Array> {
    let started = false;
    const stream: ReadableStream<Uint8Array> = new ReadableStream<Uint8Array>(
      {
        pull: (c) => {
          if (started) return this.resume();
          started = true;
          if (!unread.delete(stream)) return c.error(new Error('the upstream body was taken by the server adapter'));
          this.pipe({
            write(chunk) {
              c.enqueue(chunk);
              return (c.desiredSize ?? 0) > -HIGH_WATER;
            },
            end: () => c.close(),
            fail: (error) => c.error(error),
          });
        },
        cancel: (reason) => {
          unread.delete(stream);
          this.cancel(reason);
        },
      },
      // High-water mark 0: pull() (and with it the flow into the stream)
      // starts only when someone reads.
      { highWaterMark: 0, size: (chunk) => chunk?.byteLength ?? 0 },
    );
    unread.set(stream, this);
    return stream;
  }
}

/** Bodies nobody has read yet, by the web stream that carries them. */
const unread = new WeakMap<ReadableStream<Uint8Array>, UpstreamBody>();

/**
 * The upstream body behind `body` if `body` is one of this client's streams
 * and nothing has read from it yet; the stream is then spent and the caller
 * owns the body (whole() when complete, else pipe()).
 */
export function takeUnreadBody(body: ReadableStream<Uint8Array> | null | undefined): UpstreamBody | undefined {
  const taken = body ? unread.get(body) : undefined;
  if (!taken || body!.locked) return undefined;
  unread.delete(body!);
  return taken;
}
