import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { cleanEnv, command, readRss, type Runtime } from '../_helpers/router-process.ts';
import { freePort } from '../e2e/_stack.ts';

export { freePort };

// `rxroute dev` as a user runs it: in a project directory, to the end or until
// Ctrl+C. Every process a test starts carries a marker variable in its
// environment, which children inherit, so a test can find (and finally kill
// by PID) everything rxroute started, however it was parented.

/** The variable every test process carries, with a value unique to the run. */
export const MARKER = 'RXROUTE_DEV_TEST_RUN';

export interface DevEvent {
  event: string;
  [key: string]: unknown;
}

export interface Seen<T> {
  value: T;
  /** performance.now() when the line arrived. */
  at: number;
}

export interface DevRun {
  pid: number;
  marker: string;
  /** performance.now() at spawn. */
  spawnedAt: number;
  /** stdout lines as they came (the first `keep`, then only the last `keep`). */
  lines(): string[];
  /** Every stdout line that parsed as a JSON event, with its arrival time (process.output: only the last `keep`). */
  events(): Array<Seen<DevEvent>>;
  /** How many process.output events arrived, per child name. */
  outputCount(name: string): number;
  stderr(): string;
  /** stdout and stderr, for failure messages. */
  transcript(): string;
  rssBytes(): number;
  /** Resolves with the first line (past or future) `pick` returns a value for. */
  waitForLine<T>(pick: (line: string) => T | undefined | null | false, what: string, ms?: number): Promise<Seen<T>>;
  /** Resolves with the first JSON event (past or future) `pick` returns a value for. */
  waitForEvent<T>(pick: (event: DevEvent) => T | undefined | null | false, what: string, ms?: number): Promise<Seen<T>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether the process has exited. */
  done(): boolean;
  signal(signal: NodeJS.Signals): void;
  /** Stops reading rxroute's stdout (a terminal that stalls: the pipe fills up) until resumeStdout(). */
  pauseStdout(): void;
  resumeStdout(): void;
  /** SIGTERM, SIGKILL after 10 s, then SIGKILL to anything left with this run's marker. */
  stop(): Promise<void>;
}

export interface DevOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** How many lines and output events to keep in memory. */
  keep?: number;
}

/** Spawns `rxroute dev …args` (or any rxroute command, when args does not start with `dev`) in `cwd`. */
export function startDev(runtime: Runtime, args: string[], { cwd, env = {}, keep = 5000 }: DevOptions): DevRun {
  const marker = randomUUID();
  const { file, args: launch } = command(runtime);
  const spawnedAt = performance.now();
  // rxroute is the one to set these for its children: a test must not get them from its own environment.
  const base = cleanEnv();
  delete base.PYTHONUNBUFFERED;
  delete base.VIRTUAL_ENV;
  const child = spawn(file, [...launch, ...args], {
    cwd,
    env: { ...base, ...env, [MARKER]: marker },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  const pid = child.pid;
  const killOnExit = () => {
    child.kill('SIGKILL');
    killMarked(marker);
  };
  process.once('exit', killOnExit);

  const lines: string[] = [];
  const events: Array<Seen<DevEvent>> = [];
  const counts = new Map<string, number>();
  let stderr = '';
  type Waiter = (line: string, event: DevEvent | undefined, at: number) => void;
  const waiters = new Set<Waiter>();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let isDone = false;
  void exited.then(() => {
    isDone = true;
  });

  const keepLast = <T>(list: T[], item: T) => {
    list.push(item);
    if (list.length > keep * 2) list.splice(0, list.length - keep);
  };

  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-200_000);
  });
  const reader = createInterface({ input: child.stdout, crlfDelay: Infinity });
  reader.on('line', (line) => {
    const at = performance.now();
    const event = parseEvent(line);
    if (event?.event === 'process.output') {
      const name = String(event.name);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    keepLast(lines, line);
    if (event) keepLast(events, { value: event, at });
    for (const waiter of waiters) waiter(line, event, at);
  });

  const transcript = () => `--- stdout (last lines) ---\n${lines.slice(-80).join('\n')}\n--- stderr ---\n${stderr.slice(-6000)}`;

  function wait<T>(fromPast: () => Seen<T> | undefined, match: (line: string, event: DevEvent | undefined) => T | undefined | null | false, what: string, ms: number): Promise<Seen<T>> {
    const past = fromPast();
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`rxroute ${args.join(' ')} (${runtime}): no ${what} within ${ms} ms\n${transcript()}`));
      }, ms);
      const waiter: Waiter = (line, event, at) => {
        const value = match(line, event);
        if (value !== undefined && value !== null && value !== false) {
          finish();
          resolve({ value, at });
        }
      };
      waiters.add(waiter);
      void exited.then(({ code, signal }) =>
        // Let the last lines through the waiters before giving up.
        setTimeout(() => {
          if (!waiters.has(waiter)) return;
          finish();
          reject(new Error(`rxroute ${args.join(' ')} (${runtime}) exited (code ${code}, signal ${signal}) before ${what}\n${transcript()}`));
        }, 100),
      );
    });
  }

  return {
    pid,
    marker,
    spawnedAt,
    lines: () => lines,
    events: () => events,
    outputCount: (name) => counts.get(name) ?? 0,
    stderr: () => stderr,
    transcript,
    rssBytes: () => readRss(pid),
    waitForLine(pick, what, ms = 20_000) {
      return wait(
        () => {
          for (const line of lines) {
            const value = pick(line);
            if (value !== undefined && value !== null && value !== false) return { value, at: performance.now() };
          }
          return undefined;
        },
        (line) => pick(line),
        what,
        ms,
      );
    },
    waitForEvent(pick, what, ms = 20_000) {
      return wait(
        () => {
          for (const seen of events) {
            const value = pick(seen.value);
            if (value !== undefined && value !== null && value !== false) return { value, at: seen.at };
          }
          return undefined;
        },
        (_line, event) => (event ? pick(event) : undefined),
        what,
        ms,
      );
    },
    exited,
    done: () => isDone,
    signal(signal) {
      if (!isDone) child.kill(signal);
    },
    pauseStdout() {
      reader.pause();
      child.stdout.pause();
    },
    resumeStdout() {
      child.stdout.resume();
      reader.resume();
    },
    async stop() {
      if (!isDone) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      killMarked(marker);
    },
  };
}

/** The pretty ready line: `ready in 840 ms` or `ready in 0.8 s`. */
export const READY = /\bready in (\d+(?:\.\d+)?) (ms|s)\b/;

/** The time a pretty ready line gives, in ms; undefined for any other line. */
export function readyMs(line: string): number | undefined {
  const match = READY.exec(line);
  return match ? Number(match[1]) * (match[2] === 's' ? 1000 : 1) : undefined;
}

function parseEvent(line: string): DevEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && typeof (value as DevEvent).event === 'string' ? (value as DevEvent) : undefined;
  } catch {
    return undefined;
  }
}

/** Live (non-zombie) processes whose environment carries `marker`: what a run left behind. */
export function markedProcesses(marker: string): Array<{ pid: number; cmdline: string }> {
  const needle = `${MARKER}=${marker}\0`;
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').includes(needle)) continue;
      if (!isRunning(pid)) continue;
      found.push({ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** SIGKILL to every live process carrying `marker`. */
export function killMarked(marker: string): void {
  for (const { pid } of markedProcesses(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Whether `pid` is a live process (a zombie has exited: it only waits to be reaped). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may itself contain ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The PIDs of `pid`'s descendants right now, from /proc's parent links. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** A free port whose next `count` ports are free too (rxroute puts Vite on the first free one above its own). */
export async function freePortWithRoom(count = 3): Promise<number> {
  const seen: string[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freePort();
    if (port + count > 65535) continue;
    const taken = await Promise.all(Array.from({ length: count }, (_, i) => bindError(port + 1 + i)));
    if (taken.every((error) => error === undefined)) return port;
    if (seen.length < 5) seen.push(`${port}: ${taken.map((error) => error ?? 'free').join(', ')}`);
  }
  throw new Error(`no free port with ${count} free ports above it in 100 tries (${seen.join('; ')})`);
}

/** Why `port` cannot be bound on 127.0.0.1 right now (EADDRINUSE…), or undefined when it can. */
function bindError(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(undefined)));
  });
}
