import type { UpstreamStatus } from '../proxy/upstream-health.ts';
import type { RequestRecord } from './logger.ts';

// What the live status page shows: every request as it completes and every
// upstream going up or down. A tiny in-process bus; subscribers are the
// open /__rxroute/events streams.

export type RouterEvent =
  | ({ type: 'request'; time: string } & RequestRecord)
  | ({ type: 'health'; time: string } & UpstreamStatus);

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

/** An SSE response fed by the bus until the client goes away (`signal`). */
export function eventStream(bus: EventBus, signal: AbortSignal): Response {
  const encoder = new TextEncoder();
  let unsubscribe = () => {};
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    unsubscribe();
    clearInterval(keepAlive);
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop();
        }
      };
      send(': rxroute events\n\n');
      unsubscribe = bus.subscribe((event) => send(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
      // A comment every 15 s keeps intermediaries and idle timers from closing the stream.
      keepAlive = setInterval(() => send(': keep-alive\n\n'), 15_000);
      signal.addEventListener('abort', () => {
        stop();
        try {
          controller.close();
        } catch {
          // already closed
        }
      });
    },
    cancel: stop,
  });
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
  });
}
