import { spawn as nodeSpawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { RuntimeFailure } from '../errors.ts';
import type { CaptureResult, ChildHandle, ConsoleOut, Runtime, SpawnRequest } from '../runtime.ts';
import { HIGH_WATER } from './console-out.ts';

// Child processes for `rxroute dev`, on node:child_process, which Bun, Deno
// and Node all implement the same way (detached → setsid, kill(-pid) → the
// whole group). The one runtime-specific part of supervision.

const WINDOWS = process.platform === 'win32';
/** A line longer than this is cut: a child printing without newlines must not grow memory. */
const MAX_LINE = 64 * 1024;

export function spawnChild(
  request: SpawnRequest,
  onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  out?: ConsoleOut,
): ChildHandle {
  const [file, ...args] = request.argv;
  if (!file) throw new RuntimeFailure('empty command', 'ENOENT', 'give the command to run after --');
  const child = nodeSpawn(file, args, {
    cwd: request.cwd,
    env: request.env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so one signal reaches everything it starts
    // (reflex run → Vite, uvicorn and its reloader). Windows has no groups:
    // taskkill /T stops the tree instead.
    detached: !WINDOWS,
    windowsHide: true,
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    let done = false;
    const finish = (code: number | null, signal: string | null) => {
      if (!done) resolve({ code, signal });
      done = true;
    };
    child.once('error', () => finish(127, null));
    // 'close' waits for the pipes to drain, so no output line is lost.
    child.once('close', (code, signal) => finish(code, signal));
  });
  lines(child.stdout, (line) => onLine('stdout', line), out);
  lines(child.stderr, (line) => onLine('stderr', line), out);
  const pid = child.pid ?? -1;
  return {
    pid,
    exited,
    kill(signal) {
      if (pid <= 0 || child.exitCode !== null) return;
      try {
        if (WINDOWS) {
          spawnSync('taskkill', ['/pid', String(pid), '/T', ...(signal === 'SIGKILL' ? ['/F'] : [])], { windowsHide: true });
        } else process.kill(-pid, signal);
      } catch {
        // The group is already gone.
      }
    },
  };
}

/**
 * Splits a child's output into lines. When rxroute's own stdout is backed
 * up (a child flooding output into a slow terminal or pipe), the child's
 * pipe is paused until it drains, so the flood waits in the child instead
 * of in rxroute's memory, and no line is lost.
 */
function lines(stream: Readable | null, emit: (line: string) => void, out: ConsoleOut | undefined): void {
  if (!stream) return;
  stream.setEncoding('utf8');
  let partial = '';
  stream.on('data', (chunk: string) => {
    let text = partial + chunk;
    let at: number;
    while ((at = text.indexOf('\n')) !== -1) {
      emit(text.slice(0, at).replace(/\r$/, ''));
      text = text.slice(at + 1);
    }
    while (text.length > MAX_LINE) {
      emit(text.slice(0, MAX_LINE));
      text = text.slice(MAX_LINE);
    }
    partial = text;
    if (out && out.queued > HIGH_WATER && !stream.isPaused()) {
      stream.pause();
      out.whenDrained(() => stream.resume());
    }
  });
  stream.on('end', () => {
    if (partial) emit(partial.replace(/\r$/, ''));
    partial = '';
  });
}

export function which(name: string, pathEnv: string | undefined): string | undefined {
  const exts = WINDOWS ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  const candidates = isAbsolute(name) || name.includes('/') || (WINDOWS && name.includes('\\'))
    ? [name]
    : (pathEnv ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const base of candidates) {
    for (const ext of WINDOWS && !/\.[a-z]+$/i.test(base) ? ['', ...exts] : ['']) {
      const file = base + ext;
      try {
        if (!statSync(file).isFile()) continue;
        if (!WINDOWS) accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export function runSync(argv: string[], options: { cwd: string; input?: string; timeoutMs: number }): CaptureResult | undefined {
  const [file, ...args] = argv;
  if (!file) return undefined;
  const result = spawnSync(file, args, {
    cwd: options.cwd,
    input: options.input,
    timeout: options.timeoutMs,
    encoding: 'utf8',
    windowsHide: true,
    maxBuffer: 4 * 1024 * 1024,
  });
  if (result.error && (result.error as { code?: string }).code === 'ENOENT') return undefined;
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
}

export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The part of Runtime every adapter implements the same way; children pause while `out` is backed up. */
export const processCapabilities = (out: ConsoleOut): Pick<Runtime, 'platform' | 'spawn' | 'which' | 'runSync' | 'portFree' | 'fileExists'> => ({
  platform: process.platform,
  spawn: (request, onLine) => spawnChild(request, onLine, out),
  which,
  runSync,
  portFree,
  fileExists: (path) => existsSync(path),
});
