// Upstream liveness (DESIGN §6): what /__rxroute/health reports, and the wait
// that lets a request ride out a backend restart. All requests waiting on one
// upstream share one probe loop, so a page load during a restart does not
// become a thundering herd of connection attempts.

/** Opens a TCP connection to the origin; resolves with the connect time in ms. */
export type Probe = (origin: string) => Promise<number>;

export interface UpstreamStatus {
  /** Owner name(s) using this origin, e.g. `backend, django`. */
  name: string;
  target: string;
  /** null until the first request or probe says either way. */
  up: boolean | null;
  /** ISO time of the last change between up and down. */
  since: string | null;
  latencyMs: number | null;
  error: string | null;
}

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 500;
const BACKOFF = 1.6;

interface Waiters {
  count: number;
  up: Promise<void>;
  resolve: () => void;
}

export class UpstreamHealth {
  private readonly states = new Map<string, UpstreamStatus>();
  private readonly waiters = new Map<string, Waiters>();
  private readonly listeners = new Set<(status: UpstreamStatus) => void>();

  constructor(
    upstreams: ReadonlyArray<{ name: string; origin: string }>,
    private readonly probe: Probe,
    private readonly now: () => number = Date.now,
  ) {
    for (const { name, origin } of upstreams) {
      const known = this.states.get(origin);
      if (known) {
        if (!known.name.split(', ').includes(name)) known.name += `, ${name}`;
        continue;
      }
      this.states.set(origin, { name, target: origin, up: null, since: null, latencyMs: null, error: null });
    }
  }

  list(): UpstreamStatus[] {
    return [...this.states.values()].map((s) => ({ ...s }));
  }

  /** Called with every change between up and down. */
  subscribe(listener: (status: UpstreamStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  markUp(origin: string, latencyMs: number | null = null): void {
    this.set(origin, true, latencyMs, null);
  }

  markDown(origin: string, error: string): void {
    this.set(origin, false, null, error);
  }

  /** Probes every upstream once, for the health endpoint and `doctor`. */
  async refresh(): Promise<UpstreamStatus[]> {
    await Promise.all([...this.states.keys()].map((origin) => this.probeOnce(origin)));
    return this.list();
  }

  /**
   * Resolves true as soon as a probe reaches the upstream, false when
   * `timeoutMs` passes or `signal` aborts first.
   */
  waitForUp(origin: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    let w = this.waiters.get(origin);
    if (!w) {
      let resolve!: () => void;
      const up = new Promise<void>((r) => (resolve = r));
      w = { count: 0, up, resolve };
      this.waiters.set(origin, w);
      void this.loop(origin, w);
    }
    const waiters = w;
    waiters.count++;
    return new Promise<boolean>((resolve) => {
      let finished = false;
      const done = (ok: boolean) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiters.count--;
        resolve(ok);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      void waiters.up.then(() => done(true));
    });
  }

  private async loop(origin: string, w: Waiters): Promise<void> {
    let delay = FIRST_DELAY_MS;
    for (;;) {
      if (await this.probeOnce(origin)) {
        w.resolve();
        break;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * BACKOFF, MAX_DELAY_MS);
      if (w.count === 0) break;
    }
    this.waiters.delete(origin);
  }

  private async probeOnce(origin: string): Promise<boolean> {
    try {
      this.markUp(origin, await this.probe(origin));
      return true;
    } catch (error) {
      this.markDown(origin, error instanceof Error ? error.message : String(error));
      return false;
    }
  }

  private set(origin: string, up: boolean, latencyMs: number | null, error: string | null): void {
    const state = this.states.get(origin);
    if (!state) return;
    const changed = state.up !== up;
    if (changed) state.since = new Date(this.now()).toISOString();
    state.up = up;
    if (latencyMs !== null) state.latencyMs = Math.round(latencyMs * 10) / 10;
    state.error = error;
    if (changed) for (const listener of this.listeners) listener({ ...state });
  }
}
