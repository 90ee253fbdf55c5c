import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// The contenders: rxroute as each runtime runs it, as child processes the
// bench starts, measures and always ends.

export const root = fileURLToPath(new URL('../../', import.meta.url));

const START_TIMEOUT_MS = 30_000;

export interface Launch {
  file: string;
  args: string[];
}

/** `launch` null: the client talks to the upstream directly. */
export const contenders: { name: string; launch: Launch | null }[] = [
  { name: 'direct', launch: null },
  { name: 'rxroute binary', launch: { file: join(root, 'dist/rxroute'), args: [] } },
  {
    name: 'rxroute deno',
    // As `deno task start` runs it: a small young generation keeps streamed chunks
    // from piling up; request.signal aborts only when the client disconnects.
    launch: {
      file: join(root, 'node_modules/.bin/deno'),
      args: ['run', '-A', '--unstable-no-legacy-abort', '--v8-flags=--max-semi-space-size=1', join(root, 'src/main.ts')],
    },
  },
  // `node` from PATH: process.execPath is Bun here.
  { name: 'rxroute node', launch: { file: 'node', args: [join(root, 'dist/npm/rxroute.js')] } },
];

export interface Router {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export type Outcome<M> = ({ kind: 'measured' } & M) | { kind: 'skipped' | 'failed'; reason: string };

/**
 * Runs `measure` against the upstream itself (`launch` null) or through a
 * router started for it with every route pointing at `upstreamUrl`. A router
 * that cannot start is `skipped`; a measurement that throws is `failed`.
 * The router is stopped either way.
 */
export async function measureContender<M>(
  launch: Launch | null,
  upstreamUrl: string,
  measure: (url: string, router: Router | undefined) => Promise<M>,
): Promise<Outcome<M>> {
  let router: Router | undefined;
  try {
    if (launch) router = await startRouter(launch, upstreamUrl);
  } catch (error) {
    return { kind: 'skipped', reason: message(error) };
  }
  try {
    return { kind: 'measured', ...(await measure(router?.url ?? upstreamUrl, router)) };
  } catch (error) {
    return { kind: 'failed', reason: message(error) };
  } finally {
    await router?.stop();
  }
}

/** Children still running, so an interrupted bench can still end them. */
const running = new Set<ChildProcess>();

/** Ends every router still running, by its PID; for exit and signal handlers. */
export function killRunning(): void {
  for (const child of running) child.kill('SIGTERM');
}

// Settings from the environment would outrank the flags' profile defaults and
// skew the route; NO_COLOR keeps escape codes out of quoted startup errors.
function cleanEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (/^(RX_|RXROUTE_|REFLEX_)/.test(key)) delete env[key];
  return env;
}

/**
 * Spawns the executable itself (no shell, no npx) so the child's PID is the
 * router whose memory and CPU we sample; resolves at its JSON `listening` line.
 */
async function startRouter(launch: Launch, upstreamUrl: string): Promise<Router> {
  if (launch.file.includes('/') && !existsSync(launch.file)) throw new Error(`${launch.file} not found (run npm run build)`);
  const flags = ['--port', '0', '--host', '127.0.0.1', '--log', 'json', '-q', '--frontend', upstreamUrl, '--backend', upstreamUrl];
  const child = spawn(launch.file, [...launch.args, ...flags], { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const stop = () => stopChild(child, exited);
  try {
    const url = await listeningUrl(child, exited, () => stderr);
    if (child.pid === undefined) throw new Error('spawned without a PID');
    // The router keeps logging; drain stdout so a full pipe never blocks it.
    child.stdout!.resume();
    return { url, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The URL from the router's `listening` line; rejects if it cannot spawn, exits or stays silent. */
async function listeningUrl(child: ChildProcess, exited: Promise<void>, stderr: () => string): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no "listening" line within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      child.once('error', (error) => reject(new Error(`could not start: ${error.message}`)));
      // Give stderr a moment to arrive so the reason can quote it.
      void exited.then(() =>
        setTimeout(() => reject(new Error(`exited with ${child.signalCode ?? `code ${child.exitCode}`}${errorLine(stderr())}`)), 100),
      );
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const url = urlIfListening(line);
        if (url) resolve(url);
      });
    });
  } finally {
    clearTimeout(timer);
  }
}

function urlIfListening(line: string): string | undefined {
  try {
    const event = JSON.parse(line) as { event?: unknown; url?: unknown } | null;
    return event?.event === 'listening' && typeof event.url === 'string' ? event.url : undefined;
  } catch {
    return undefined;
  }
}

/** The stderr line that says what went wrong (rxroute, Node and Deno all print `error` in it), else the first. */
function errorLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /error/i.test(l)) ?? lines[0];
  return line ? `: ${line.slice(0, 200)}` : '';
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  }
  running.delete(child);
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
