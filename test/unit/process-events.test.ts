import { describe, expect, it } from 'vitest';
import { createRouter } from '../../src/app.ts';
import { EventBus, eventStream, type RouterEvent } from '../../src/log/events.ts';
import { ManualRegistry } from '../status-page/_registry.ts';

// `rxroute dev`'s processes as /__rxroute/health and /__rxroute/events show
// them (DESIGN §10 "Visible"), and the event stream's memory bound when a
// child floods output toward a browser that does not read.

const HOST = { host: 'localhost:3000' };

async function health(app: ReturnType<typeof createRouter>): Promise<Record<string, unknown>> {
  const res = await app.fetch(new Request('http://localhost:3000/__rxroute/health', { headers: HOST }));
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

interface SseMessage {
  event: string;
  data: Record<string, unknown>;
}

/** Reads SSE messages (comments skipped) from a stream, `count` of them or until it ends. */
class SseReader {
  bytes = 0;
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  async next(): Promise<SseMessage | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) return { event, data: JSON.parse(data) as Record<string, unknown> };
        continue;
      }
      const { done, value } = await this.reader.read();
      if (done) return undefined;
      this.bytes += value.byteLength;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  async take(count: number): Promise<SseMessage[]> {
    const out: SseMessage[] = [];
    while (out.length < count) {
      const message = await this.next();
      if (!message) break;
      out.push(message);
    }
    return out;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

describe('/__rxroute/health processes', () => {
  it('is an empty list without a process registry', async () => {
    const body = await health(createRouter({ backend: 'http://127.0.0.1:9' }));
    expect(body.processes).toEqual([]);
    expect(Object.keys(body)).toEqual(['ok', 'version', 'runtime', 'profile', 'upstreams', 'processes']);
  });

  it("lists the registry's processes with every ProcessInfo field and the last 50 lines", async () => {
    const registry = new ManualRegistry();
    registry.add('reflex', 'reflex run --frontend-port 3001 --backend-port 8000');
    registry.run('reflex', 4242, '2026-12-01T10:00:00.000Z');
    for (let i = 1; i <= 60; i++) registry.print('reflex', `line ${i}`, i % 2 ? 'stdout' : 'stderr');
    registry.add('django', 'python manage.py runserver 127.0.0.1:8001');
    registry.run('django', 4343, '2026-12-01T10:00:01.000Z');
    registry.exit('django', 1);
    const body = await health(createRouter({}, { processes: registry }));
    const processes = body.processes as Array<Record<string, unknown>>;
    expect(processes.map((p) => ({ ...p, lines: (p.lines as unknown[]).length }))).toEqual([
      {
        name: 'reflex',
        command: 'reflex run --frontend-port 3001 --backend-port 8000',
        pid: 4242,
        state: 'running',
        startedAt: '2026-12-01T10:00:00.000Z',
        restarts: 0,
        exitCode: null,
        exitSignal: null,
        lines: 50,
      },
      {
        name: 'django',
        command: 'python manage.py runserver 127.0.0.1:8001',
        pid: null,
        state: 'backoff',
        startedAt: '2026-12-01T10:00:01.000Z',
        restarts: 0,
        exitCode: 1,
        exitSignal: null,
        lines: 0,
      },
    ]);
    const lines = processes[0]?.lines as Array<{ stream: string; text: string; time: string }>;
    expect(lines[0]).toMatchObject({ stream: 'stdout', text: 'line 11' });
    expect(lines.at(-1)).toMatchObject({ stream: 'stderr', text: 'line 60' });
  });
});

describe('/__rxroute/events process events', () => {
  it('streams state changes and output lines in the order they happen', async () => {
    const registry = new ManualRegistry();
    const app = createRouter({}, { processes: registry });
    const abort = new AbortController();
    const res = await app.fetch(new Request('http://localhost:3000/__rxroute/events', { headers: HOST, signal: abort.signal }));
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const sse = new SseReader(res.body!);
    registry.add('node', 'node server.js');
    registry.run('node', 99);
    registry.print('node', 'hello <b>');
    registry.print('node', 'oops', 'stderr');
    registry.exit('node', null, 'SIGKILL');
    const messages = await sse.take(5);
    expect(messages.map((m) => m.event)).toEqual(['process', 'process', 'process', 'process', 'process']);
    expect(messages.map((m) => m.data.kind)).toEqual(['state', 'state', 'output', 'output', 'state']);
    expect(messages[1]?.data.process).toMatchObject({ name: 'node', command: 'node server.js', pid: 99, state: 'running', restarts: 0 });
    expect(messages[1]?.data.process).not.toHaveProperty('lines');
    expect(messages[2]?.data).toMatchObject({ type: 'process', kind: 'output', name: 'node', stream: 'stdout', text: 'hello <b>' });
    expect(messages[3]?.data).toMatchObject({ name: 'node', stream: 'stderr', text: 'oops' });
    // The output line keeps the time the supervisor stamped on it.
    expect(messages[2]?.data.time).toBe(registry.list()[0]?.lines[0]?.time);
    expect(messages[4]?.data.process).toMatchObject({ state: 'backoff', exitCode: null, exitSignal: 'SIGKILL' });
    abort.abort();
    await sse.cancel();
  });
});

describe('eventStream memory bound', () => {
  const limits = { outputBytes: 16 * 1024, maxBytes: 128 * 1024 };
  const output = (i: number): RouterEvent => ({
    type: 'process',
    kind: 'output',
    name: 'flood',
    stream: 'stdout',
    text: `line ${i} ${'x'.repeat(180)}`,
    time: new Date().toISOString(),
    seq: i,
  });
  const state = (restarts: number): RouterEvent => ({
    type: 'process',
    time: new Date().toISOString(),
    kind: 'state',
    process: { name: 'flood', command: 'yes', pid: 1, state: 'running', startedAt: null, restarts, exitCode: null, exitSignal: null },
  });

  it('drops output lines for a reader that fell behind, keeps every state event, then says how many it dropped', async () => {
    const bus = new EventBus();
    const abort = new AbortController();
    const sse = new SseReader(eventStream(bus, abort.signal, limits).body!);
    // 20 000 lines of ~250 bytes (5 MB) with a state change every 1 000, none read yet.
    for (let i = 0; i < 20_000; i++) {
      bus.publish(output(i));
      if (i % 1000 === 999) bus.publish(state(i));
    }
    const messages: SseMessage[] = [];
    for (;;) {
      const m = await sse.next();
      if (!m) throw new Error('stream ended');
      messages.push(m);
      if (m.event === 'dropped') break;
    }
    // What was queued for the reader stayed near the limit, not 5 MB.
    // State events still go out past the limit: 20 of them, ~300 bytes each.
    expect(sse.bytes).toBeLessThan(limits.outputBytes + 8 * 1024);
    const outputs = messages.filter((m) => m.data.kind === 'output');
    const states = messages.filter((m) => m.data.kind === 'state');
    expect(states.map((m) => (m.data.process as { restarts: number }).restarts)).toEqual(
      Array.from({ length: 20 }, (_, k) => k * 1000 + 999),
    );
    expect(outputs.length).toBeGreaterThan(10);
    // The lines that did go out are the first ones, in order.
    expect(outputs.map((m) => m.data.text as string).slice(0, 3).map((t) => t.split(' ')[1])).toEqual(['0', '1', '2']);
    expect(messages.at(-1)?.data).toEqual({ name: 'flood', lines: 20_000 - outputs.length });
    // Caught up: lines flow again.
    bus.publish(output(20_000));
    expect((await sse.next())?.data).toMatchObject({ kind: 'output', text: expect.stringMatching(/^line 20000 /) });
    abort.abort();
    await sse.cancel();
  });

  it('ends the stream of a reader that stopped reading once even state and request events pass maxBytes', async () => {
    const bus = new EventBus();
    const sse = new SseReader(eventStream(bus, new AbortController().signal, limits).body!);
    for (let i = 0; i < 5_000; i++) bus.publish(state(i));
    expect(bus.size).toBe(0);
    const messages = await sse.take(Infinity);
    expect(sse.bytes).toBeLessThan(limits.maxBytes + 1024);
    expect(sse.bytes).toBeGreaterThan(limits.maxBytes);
    // Everything up to the cut arrived, in order.
    expect(messages.map((m) => (m.data.process as { restarts: number }).restarts)).toEqual(
      Array.from({ length: messages.length }, (_, k) => k),
    );
  });
});
