import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export type Runtime = 'binary' | 'deno' | 'node';

/** The name the router reports in its `listening` line for each way of launching it. */
export const reportedRuntime: Record<Runtime, string> = { binary: 'bun', deno: 'deno', node: 'node' };

export interface RouterProcess {
  /** `http://127.0.0.1:PORT`, from the `listening` line. */
  url: string;
  port: number;
  pid: number;
  /** What the process said it runs on (`bun`, `deno`, `node`). */
  runtime: string;
  /** Every stdout line so far; with `--log json` each is one JSON object. */
  stdout: string[];
  stderr(): string;
  /** Resident set size of the router process itself, from /proc/PID/status. */
  rssBytes(): number;
  /** The exit code once the process has exited, else undefined. */
  exitCode(): number | null | undefined;
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

// Each launcher runs the router as the spawned process itself (no npx, no shell),
// so the child's PID is the one whose memory we measure.
/**
 * As `deno task start` runs it (README): `gc` exposed so a streamed body can
 * have its dead chunks collected (adapters/deno.ts), and request.signal
 * aborts only when the client disconnects, not after every response.
 */
const DENO_FLAGS = ['--unstable-no-legacy-abort', '--v8-flags=--expose-gc'];

/** Node itself; under Bun (scripts/bench.ts shares these launchers) process.execPath is Bun, so Node comes from PATH. */
const NODE = 'Bun' in globalThis ? 'node' : process.execPath;

export function command(runtime: Runtime): { file: string; args: string[] } {
  switch (runtime) {
    case 'binary':
      return { file: `${root}dist/rxroute`, args: [] };
    case 'deno':
      return { file: `${root}node_modules/.bin/deno`, args: ['run', '-A', ...DENO_FLAGS, `${root}src/main.ts`] };
    case 'node':
      return { file: NODE, args: [`${root}dist/npm/rxroute.js`] };
  }
}

// Settings from the environment would outrank the profile defaults; the tests
// configure the router through flags only.
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) {
    if (/^(RX_|RXROUTE_|REFLEX_)/.test(key)) delete env[key];
  }
  return env;
}

export function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS in /proc/${pid}/status (has the process exited?)`);
  return Number(kb) * 1024;
}

/**
 * Spawns rxroute with `args` and resolves once it prints its `listening` line.
 * Rejects with the process's output if it exits first or stays silent past `timeoutMs`.
 */
export async function startRouter(
  runtime: Runtime,
  args: string[],
  options: {
    timeoutMs?: number;
    /** Variables set on top of cleanEnv() (RXROUTE_DATA_DIR for --https tests). */
    env?: Record<string, string>;
    /** For pretty output: the line that means ready; the URL is read from the `Open:` line. */
    readyPattern?: RegExp;
  } = {},
): Promise<RouterProcess> {
  const { file, args: launch } = command(runtime);
  return startRouterCommand(file, [...launch, ...args], { ...options, env: { ...cleanEnv(), ...options.env }, label: runtime });
}

/**
 * The same for any command that runs rxroute: a release executable, `npx
 * rxroute`, `bunx rxroute`. `runtime` in the result is what the process said.
 */
export async function startRouterCommand(
  file: string,
  args: string[],
  {
    timeoutMs = 20_000,
    readyPattern,
    cwd = root,
    env = cleanEnv(),
    label = file,
    processGroup = false,
  }: {
    timeoutMs?: number;
    readyPattern?: RegExp;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    label?: string;
    /** For launchers that run rxroute as their child (npx, bunx): signals go to the whole group. */
    processGroup?: boolean;
  } = {},
): Promise<RouterProcess> {
  const child = spawn(file, args, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: processGroup,
  });
  const signal = (name: NodeJS.Signals) => {
    if (!processGroup || child.pid === undefined) return child.kill(name);
    try {
      process.kill(-child.pid, name);
    } catch {
      // the group is gone already
    }
  };
  const stdout: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A worker that dies without running afterAll must not leave a router behind.
  const killOnExit = () => signal('SIGKILL');
  process.once('exit', killOnExit);

  const describeFailure = (why: string) =>
    new Error(
      `rxroute (${label}: ${file} ${args.join(' ')}) ${why}\n` +
        `--- stderr ---\n${stderr.trim()}\n--- stdout ---\n${stdout.join('\n')}`,
    );

  const listening = await new Promise<{ url: string; runtime: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal('SIGKILL');
      reject(describeFailure(`printed no "listening" line within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(describeFailure(`could not be started: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Let the last stderr bytes arrive before quoting them.
      setTimeout(() => reject(describeFailure(`exited before listening (code ${code}, signal ${signal})`)), 50);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout.push(line);
      const opened = readyPattern?.test(line) && stdout.map((l) => /Open: (http\S+?)\/?$/.exec(l)?.[1]).find(Boolean);
      if (opened) {
        clearTimeout(timer);
        resolve({ url: opened, runtime: 'unknown' });
        return;
      }
      const event = parseJson(line);
      if (event?.event === 'listening' && typeof event.url === 'string') {
        clearTimeout(timer);
        resolve({ url: event.url, runtime: String(event.runtime) });
      }
    });
  });

  const pid = child.pid;
  if (pid === undefined) throw describeFailure('has no PID');
  return {
    url: listening.url,
    port: Number(new URL(listening.url).port),
    pid,
    runtime: listening.runtime,
    stdout,
    stderr: () => stderr,
    rssBytes: () => readRss(pid),
    exitCode: () => (child.exitCode === null && child.signalCode === null ? undefined : child.exitCode),
    async stop() {
      process.off('exit', killOnExit);
      await stopChild(child, exited, signal);
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>, signal: (name: NodeJS.Signals) => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface RssReport {
  baselineBytes: number;
  peakBytes: number;
  growthBytes: number;
}

/**
 * Samples a process's RSS every `intervalMs` from now on; the baseline is the
 * reading taken at the call. `stop()` takes a last sample and reports.
 */
export function watchRss(read: () => number, intervalMs = 100): { stop(): RssReport } {
  const baselineBytes = read();
  let peakBytes = baselineBytes;
  const sample = () => {
    peakBytes = Math.max(peakBytes, read());
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { baselineBytes, peakBytes, growthBytes: peakBytes - baselineBytes };
    },
  };
}

/** Router args with one upstream behind both frontend and backend, failing fast. */
export function singleUpstreamArgs(upstreamUrl: string, ...extra: string[]): string[] {
  return ['--port', '0', '--host', '127.0.0.1', '--log', 'json', '--frontend', upstreamUrl, '--backend', upstreamUrl, '--wait', '0', ...extra];
}
