import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, type Contender } from './contenders.ts';
import { processTree } from './process-stats.ts';
import { SMALL_BODY, SMALL_PATH } from './upstream.ts';

// Starting and ending a contender. Every launch is also a cold-start sample:
// the clock runs from spawn() to the first 200 proxied through it, so the
// same polling that says "ready" measures it.

const START_TIMEOUT_MS = 30_000;
/** How often a starting proxy is asked; also the resolution of a cold-start sample. */
const POLL_MS = 2;
const STOP_TIMEOUT_MS = 5_000;

export interface Proxy {
  url: string;
  /** The process the bench spawned. */
  pid: number;
  /** It and its children (nginx: master and worker), read once it answered. */
  pids: number[];
  /** From spawn() to the first proxied 200, in ms. */
  coldStartMs: number;
  stop(): Promise<void>;
}

/** Children still running, so an interrupted bench can still end them. */
const running = new Set<ChildProcess>();

/** Ends every contender still running, by its PID; for exit and signal handlers. */
export function killRunning(): void {
  for (const child of running) child.kill('SIGTERM');
}

/**
 * Starts `contender` in front of `upstream` on a free loopback port and waits
 * until a GET of SMALL_PATH through it answers 200 with the upstream's body.
 * Rejects, with the reason the process gave, if it exits or never answers.
 */
export async function launch(contender: Contender, upstream: URL): Promise<Proxy> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `rxroute-bench-${contender.id}-`));
  // nginx's worker drops to an unprivileged user and must still reach the directory.
  chmodSync(dir, 0o755);
  const { file, args, env } = contender.prepare!(upstream, port, dir);
  const started = performance.now();
  const child = spawn(file, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  // Read both pipes to the end, so a chatty proxy never blocks on a full one.
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8').on('data', (text: string) => (output = (output + text).slice(-16_384)));
  }
  const stop = async () => {
    await stopChild(child, exited);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = `http://127.0.0.1:${port}`;
    await firstProxied200(url, child, () => output);
    const coldStartMs = performance.now() - started;
    return { url, pid: child.pid!, pids: processTree(child.pid!), coldStartMs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function firstProxied200(url: string, child: ChildProcess, output: () => string): Promise<void> {
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const deadline = performance.now() + START_TIMEOUT_MS;
  let last = 'no answer';
  for (;;) {
    if (spawnError) throw new Error(`could not start: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      // Give the last output a moment to arrive so the reason can quote it.
      await sleep(100);
      throw new Error(`exited with ${child.signalCode ?? `code ${child.exitCode}`}${errorLine(output())}`);
    }
    try {
      const res = await fetch(`${url}${SMALL_PATH}`, { keepalive: false, signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status === 200 && body === SMALL_BODY) return;
      last = `HTTP ${res.status} ${JSON.stringify(body.slice(0, 100))}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (performance.now() > deadline) throw new Error(`no proxied 200 within ${START_TIMEOUT_MS / 1000} s (last: ${last})${errorLine(output())}`);
    await sleep(POLL_MS);
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(force);
  }
  running.delete(child);
}

/** A port nothing listens on right now; the proxy binds it itself (nginx and Caddy cannot report a port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The output line that says what went wrong (rxroute, Node, Deno, nginx and Caddy all print `error` in it), else the last. */
function errorLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /error|emerg/i.test(l)) ?? lines.at(-1);
  return line ? `: ${line.slice(0, 200)}` : '';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
