import type { ChildHandle, Runtime } from '../runtime.ts';
import type { OutputLine, ProcessEvent, ProcessInfo, ProcessRegistry, ProcessSpec, ProcessState } from './process-types.ts';

// Runs `rxroute dev`'s children (DESIGN §10): each in its own process group,
// output line by line, restarted with backoff when it exits on its own, and
// stopped as a group (SIGTERM, then SIGKILL after the grace period). The
// supervisor is portable; spawning and signals come from the Runtime.

export const BACKOFF_START_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;
/** A run that lasted this long was healthy: the next restart waits BACKOFF_START_MS again. */
export const HEALTHY_RUN_MS = 30_000;
export const STOP_GRACE_MS = 5000;
const KEEP_LINES = 50;

export interface ExitReport {
  process: ProcessInfo;
  /** Milliseconds until it starts again; null when it will not (stopping, or --no-restart). */
  restartInMs: number | null;
  /** How long the run lasted. */
  ranMs: number;
  /** The run's own last output lines (at most 50), oldest first. */
  runLines: OutputLine[];
}

export interface SupervisorOptions {
  specs: ProcessSpec[];
  spawn: Runtime['spawn'];
  /** rxroute's own environment; each child gets it plus the plan's and its spec's env. */
  baseEnv: Record<string, string | undefined>;
  /** false: --no-restart, a child that exits on its own ends the session (`onGiveUp`). */
  restart: boolean;
  onOutput(name: string, line: OutputLine): void;
  onStart(process: ProcessInfo): void;
  onExit(report: ExitReport): void;
  /** --no-restart: `name` exited on its own with `code`. */
  onGiveUp?(name: string, code: number): void;
  now?: () => number;
}

interface Slot {
  spec: ProcessSpec;
  info: ProcessInfo;
  child?: ChildHandle;
  startedAtMs: number;
  delayMs: number;
  /** This run's last lines; `info.lines` spans runs, like the status page shows them. */
  runLines: OutputLine[];
  /** The last OutputLine.seq given out. */
  lineSeq: number;
  timer?: ReturnType<typeof setTimeout>;
}

export class Supervisor implements ProcessRegistry {
  private readonly slots: Slot[];
  private readonly listeners = new Set<(event: ProcessEvent) => void>();
  private stopping = false;
  private readonly now: () => number;

  constructor(private readonly options: SupervisorOptions) {
    this.now = options.now ?? (() => Date.now());
    this.slots = options.specs.map((spec) => ({
      spec,
      startedAtMs: 0,
      delayMs: BACKOFF_START_MS,
      runLines: [],
      lineSeq: 0,
      info: {
        name: spec.name,
        command: spec.display,
        pid: null,
        state: 'starting',
        startedAt: null,
        restarts: 0,
        exitCode: null,
        exitSignal: null,
        lines: [],
      },
    }));
  }

  /** Starts every child. A child that cannot be executed throws (RuntimeFailure) before any other starts. */
  start(): void {
    for (const slot of this.slots) this.launch(slot);
  }

  list(): ProcessInfo[] {
    return this.slots.map((s) => ({ ...s.info, lines: [...s.info.lines] }));
  }

  subscribe(listener: (event: ProcessEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** SIGTERM to every group, SIGKILL to what is left after `graceMs`; resolves when all have exited. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.stopping = true;
    const running: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      if (slot.child) {
        this.setState(slot, 'stopping');
        slot.child.kill('SIGTERM');
        running.push(slot.child.exited);
      } else if (slot.info.state !== 'stopped') this.setState(slot, 'stopped');
    }
    if (running.length === 0) return;
    let force: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      force = setTimeout(() => {
        for (const slot of this.slots) slot.child?.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([Promise.all(running), killed]);
    // After SIGKILL the exits follow at once; wait for them so no pid is left.
    await Promise.all(running);
    clearTimeout(force);
  }

  private launch(slot: Slot): void {
    const { spec } = slot;
    const env = { ...this.options.baseEnv, ...spec.env };
    const child = this.options.spawn({ argv: spec.argv, cwd: spec.cwd, env }, (stream, text) => {
      const line: OutputLine = { stream, text, time: new Date().toISOString(), seq: ++slot.lineSeq };
      for (const lines of [slot.info.lines, slot.runLines]) {
        lines.push(line);
        if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
      }
      this.options.onOutput(spec.name, line);
      this.emit({ kind: 'output', name: spec.name, ...line });
    });
    slot.child = child;
    slot.runLines = [];
    slot.startedAtMs = this.now();
    // exitCode/exitSignal keep how the previous run ended, for the status page.
    Object.assign(slot.info, { pid: child.pid, startedAt: new Date(slot.startedAtMs).toISOString() });
    this.setState(slot, 'running');
    this.options.onStart(this.snapshot(slot));
    void child.exited.then(({ code, signal }) => this.exited(slot, child, code, signal));
  }

  private exited(slot: Slot, child: ChildHandle, code: number | null, signal: string | null): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    const ranMs = this.now() - slot.startedAtMs;
    Object.assign(slot.info, { exitCode: code, exitSignal: signal });
    if (this.stopping) {
      this.setState(slot, 'stopped');
      this.options.onExit({ process: this.snapshot(slot), restartInMs: null, ranMs, runLines: slot.runLines });
      return;
    }
    if (!this.options.restart) {
      this.setState(slot, 'exited');
      this.options.onExit({ process: this.snapshot(slot), restartInMs: null, ranMs, runLines: slot.runLines });
      this.options.onGiveUp?.(slot.spec.name, exitStatus(code, signal));
      return;
    }
    // 1 s doubling to 30 s; a run that stayed up a while starts over at 1 s.
    if (ranMs >= HEALTHY_RUN_MS) slot.delayMs = BACKOFF_START_MS;
    const delay = slot.delayMs;
    slot.delayMs = Math.min(slot.delayMs * 2, BACKOFF_MAX_MS);
    this.setState(slot, 'backoff');
    this.options.onExit({ process: this.snapshot(slot), restartInMs: delay, ranMs, runLines: slot.runLines });
    slot.timer = setTimeout(() => {
      if (this.stopping) return;
      slot.info.restarts++;
      try {
        this.launch(slot);
      } catch {
        // The executable vanished between runs (a venv rebuilt): try again later.
        this.exited(slot, child, 127, null);
      }
    }, delay);
  }

  private setState(slot: Slot, state: ProcessState): void {
    slot.info.state = state;
    if (state === 'backoff' || state === 'exited' || state === 'stopped') slot.info.pid = null;
    this.emit({ kind: 'state', process: this.snapshot(slot, false) });
  }

  private snapshot(slot: Slot): ProcessInfo;
  private snapshot(slot: Slot, withLines: false): Omit<ProcessInfo, 'lines'>;
  private snapshot(slot: Slot, withLines = true): ProcessInfo | Omit<ProcessInfo, 'lines'> {
    const { lines, ...rest } = slot.info;
    return withLines ? { ...rest, lines: [...lines] } : rest;
  }

  private emit(event: ProcessEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };

/** A shell's view of how a child ended: its code, or 128 + the signal's number. */
export function exitStatus(code: number | null, signal: string | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (SIGNALS[signal] ?? 0) : 0) || 1;
}
