import type { ProcessEvent } from '../dev/process-types.ts';
import type { UpstreamStatus } from '../proxy/upstream-health.ts';
import type { RequestRecord } from './logger.ts';

// What the live status page shows: every request as it completes, every
// upstream going up or down, and `rxroute dev`'s processes (state changes and
// output lines). A tiny in-process bus; subscribers are the open
// /__rxroute/events streams.

export type RouterEvent =
  | ({ type: 'request'; time: string } & RequestRecord)
  | ({ type: 'health'; time: string } & UpstreamStatus)
  | ({ type: 'process'; time: string } & ProcessEvent);

export class EventBus {
  private readonly listeners = new Set<(event: RouterEvent) => void>();

  publish(event: RouterEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: (event: RouterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }
}

export interface EventStreamLimits {
  /** Queued bytes past which a subscriber gets no more process output lines. */
  outputBytes: number;
  /** Queued bytes past which the stream is ended (the browser's EventSource reconnects and resyncs). */
  maxBytes: number;
}

/**
 * A child can print thousands of lines a second and a browser tab can stop
 * reading (backgrounded, paused in the debugger). Each stream's queue is
 * counted in bytes: past `outputBytes` output lines are dropped for that
 * subscriber only and counted (a `dropped` event tells the page how many
 * once it catches up, and the page reads the last lines again from
 * /__rxroute/health); requests, health and process state still go out.
 * Past `maxBytes` the stream is closed, so even a flood of requests cannot
 * grow memory without bound.
 */
export const EVENT_STREAM_LIMITS: EventStreamLimits = { outputBytes: 256 * 1024, maxBytes: 4 * 1024 * 1024 };

/** An SSE response fed by the bus until the client goes away (`signal`). */
export function eventStream(bus: EventBus, signal: AbortSignal, limits: EventStreamLimits = EVENT_STREAM_LIMITS): Response {
  const encoder = new TextEncoder();
  let unsubscribe = () => {};
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  let retryFlush: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    unsubscribe();
    clearInterval(keepAlive);
    clearInterval(retryFlush);
  };
  /** Output lines not sent to this subscriber, per process name, since it fell behind. */
  const dropped = new Map<string, number>();
  let flushDropped = () => {};
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const close = () => {
          stop();
          try {
            controller.close();
          } catch {
            // already closed
          }
        };
        const send = (text: string) => {
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            stop();
          }
        };
        /** Bytes queued and not yet taken by the client (desiredSize counts down from the high-water mark). */
        const queued = () => limits.outputBytes - (controller.desiredSize ?? 0);
        const sse = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
        flushDropped = () => {
          if (dropped.size === 0 || queued() >= limits.outputBytes) return;
          for (const [name, lines] of dropped) send(sse('dropped', { name, lines }));
          dropped.clear();
        };
        send(': rxroute events\n\n');
        unsubscribe = bus.subscribe((event) => {
          if (queued() > limits.maxBytes) return close();
          if (event.type === 'process' && event.kind === 'output' && queued() >= limits.outputBytes) {
            dropped.set(event.name, (dropped.get(event.name) ?? 0) + 1);
            // `pull` is not called reliably on every runtime once the client
            // catches up (Bun's response streams), and the flood may be
            // over by then: look again until the notice has gone out.
            retryFlush ??= setInterval(() => {
              flushDropped();
              if (dropped.size === 0) {
                clearInterval(retryFlush);
                retryFlush = undefined;
              }
            }, 200);
            return;
          }
          flushDropped();
          send(sse(event.type, event));
        });
        // A comment every 15 s keeps intermediaries and idle timers from closing the stream.
        keepAlive = setInterval(() => send(': keep-alive\n\n'), 15_000);
        signal.addEventListener('abort', close);
      },
      // The client took some of the queue: tell it what it missed, even if its process went quiet.
      pull: () => flushDropped(),
      cancel: stop,
    },
    // Counted in bytes, so desiredSize says how far behind the client is.
    { highWaterMark: limits.outputBytes, size: (chunk) => chunk?.byteLength ?? 0 },
  );
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
  });
}
