import { describe, expect, it } from 'vitest';
import { UpstreamHealth, type Probe } from '../../src/proxy/upstream-health.ts';

const ORIGIN = 'http://127.0.0.1:8000';

/** A probe the test switches between down and up, counting its calls. */
function switchableProbe() {
  const state = { up: false, calls: 0 };
  const probe: Probe = async () => {
    state.calls++;
    if (!state.up) throw new Error(`${ORIGIN} refused the connection`);
    return 0.4;
  };
  return { state, probe };
}

describe('UpstreamHealth', () => {
  it('lets many waiters share one probe loop, and releases them all when the upstream is back', async () => {
    const { state, probe } = switchableProbe();
    const health = new UpstreamHealth([{ name: 'backend', origin: ORIGIN }], probe);
    const waits = Array.from({ length: 50 }, () => health.waitForUp(ORIGIN, 5_000));
    await new Promise((r) => setTimeout(r, 400));
    const callsWhileDown = state.calls;
    state.up = true;
    expect(await Promise.all(waits)).toEqual(Array(50).fill(true));
    // 50 waiters for ~400 ms with 50 ms → 500 ms backoff: a handful of probes, not 50 × that.
    expect(callsWhileDown).toBeGreaterThan(1);
    expect(callsWhileDown).toBeLessThan(10);
    expect(health.list()[0]).toMatchObject({ name: 'backend', up: true, latencyMs: 0.4, error: null });
  });

  it('gives up at the timeout and when the request is aborted', async () => {
    const { probe } = switchableProbe();
    const health = new UpstreamHealth([{ name: 'backend', origin: ORIGIN }], probe);
    expect(await health.waitForUp(ORIGIN, 150)).toBe(false);
    const aborted = new AbortController();
    const wait = health.waitForUp(ORIGIN, 10_000, aborted.signal);
    aborted.abort();
    expect(await wait).toBe(false);
    expect(health.list()[0]).toMatchObject({ up: false, error: `${ORIGIN} refused the connection` });
  });

  it('reports changes between up and down once each, with the time of the change', async () => {
    let now = Date.parse('2026-11-24T10:00:00Z');
    const health = new UpstreamHealth(
      [
        { name: 'backend', origin: ORIGIN },
        { name: 'django', origin: ORIGIN },
      ],
      async () => 1,
      () => now,
    );
    const changes: Array<[boolean | null, string | null]> = [];
    health.subscribe((s) => changes.push([s.up, s.since]));
    health.markDown(ORIGIN, 'refused');
    health.markDown(ORIGIN, 'refused');
    now += 5_000;
    health.markUp(ORIGIN);
    expect(changes).toEqual([
      [false, '2026-11-24T10:00:00.000Z'],
      [true, '2026-11-24T10:00:05.000Z'],
    ]);
    expect(health.list()).toHaveLength(1);
    expect(health.list()[0]!.name).toBe('backend, django');
  });
});
