import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptsConnections } from '../_helpers/tcp.ts';
import { freePortWithRoom, isRunning, killMarked, markedProcesses, readyMs, startDev, type DevRun } from '../dev/_dev-process.ts';
import { addVenv, makeProject, pathWith, REFLEX_FIXTURE_BIN, rxconfig, splitDevRxconfig, type Project } from '../dev/_project.ts';
import { ADMIN, CHROMIUM, freePort, PYTHON, type Profile } from './_stack.ts';

/**
 * `rxroute dev` (dist/rxroute) in a throwaway Reflex-shaped project, as a user
 * runs it with no edits: a stock rxconfig.py (frontend_port and backend_port
 * set to free ports, so the suite never fights over 3000/8000), `reflex`
 * being test/dev/fixtures/bin/reflex (the e2e suite's real Vite and its
 * Socket.IO backend under uvicorn's reloader) and, in split_dev, the e2e
 * Django project's manage.py beside rxconfig.py, run from the project's .venv.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const e2eDir = `${root}test/e2e/`;

export interface DevStack {
  profile: Profile;
  project: Project;
  /** rxroute's port: rxconfig.py's frontend_port. */
  port: number;
  /** Where the browser goes: `http://localhost:PORT`. */
  origin: string;
  backendPort: number;
  djangoPort: number | undefined;
  run: DevRun;
  /** From spawning `rxroute dev` to its ready line, measured here. */
  spawnToReadyMs: number;
  /** The time the pretty ready line gives, in ms. */
  reportedReadyMs: number;
  artifacts: string;
  close(): Promise<void>;
}

function checkPrerequisites(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import django, socketio, engineio, uvicorn, websockets'], { encoding: 'utf8' });
  const missing: string[] = [];
  if (probe.error || probe.status !== 0) missing.push(`${PYTHON} cannot import django, socketio, uvicorn, websockets`);
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} is missing`);
  if (missing.length) throw new Error(`${missing.join('; ')}: run bash scripts/e2e-setup.sh`);
}

function manage(cwd: string, args: string[], env: NodeJS.ProcessEnv): void {
  const result = spawnSync(PYTHON, ['manage.py', ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`manage.py ${args.join(' ')} failed (${result.status ?? result.error?.message}):\n${result.stdout}\n${result.stderr}`);
}

/** The app module a Reflex project has; the backend restart scenario edits it. */
const APP_MODULE = `"""The app module \`reflex init\` would have written (never imported here: the fixture's backend is the e2e one)."""
import reflex as rx


def index() -> rx.Component:
    return rx.text("rxroute dev e2e")


app = rx.App()
app.add_page(index)
`;

export async function startDevStack(profile: Profile): Promise<DevStack> {
  checkPrerequisites();
  const artifacts = `${root}test-artifacts/e2e/dev-${profile}/`;
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });

  const port = await freePortWithRoom(3);
  const backendPort = await freePort();
  const djangoPort = profile === 'split_dev' ? await freePort() : undefined;
  const keywords = [`frontend_port=${port}`, `backend_port=${backendPort}`];
  const project = makeProject({
    'rxconfig.py': djangoPort === undefined ? rxconfig(...keywords) : splitDevRxconfig(djangoPort, ...keywords),
    'myapp/__init__.py': '',
    'myapp/myapp.py': APP_MODULE,
  });
  let run: DevRun | undefined;
  const close = async () => {
    if (run) {
      await run.stop();
      writeFileSync(`${artifacts}rxroute-dev.log`, `${run.lines().join('\n')}\n--- stderr ---\n${run.stderr()}\n`);
      killMarked(run.marker);
    }
    project.remove();
  };

  try {
    const env: NodeJS.ProcessEnv = {
      RXROUTE_E2E_DB: join(project.dir, 'db.sqlite3'),
      RXROUTE_FIXTURE_PROFILE: profile,
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONNOUSERSITE: '1',
      PYTHONPATH: undefined,
      PYTHONHOME: undefined,
    };
    if (profile === 'split_dev') {
      // reflex-django's layout: manage.py beside rxconfig.py, both run from the project's virtualenv.
      cpSync(`${e2eDir}django`, project.dir, { recursive: true });
      const venvBin = addVenv(project, PYTHON);
      symlinkSync(join(REFLEX_FIXTURE_BIN, 'reflex'), join(venvBin, 'reflex'));
      manage(project.dir, ['migrate', '--noinput'], env);
      manage(project.dir, ['createsuperuser', '--noinput', '--username', ADMIN.username, '--email', 'admin@example.com'], { ...env, DJANGO_SUPERUSER_PASSWORD: ADMIN.password });
    } else {
      // `reflex` on PATH, as after `pip install reflex` into an activated environment.
      env.PATH = pathWith(REFLEX_FIXTURE_BIN);
      manage(`${e2eDir}django`, ['migrate', '--noinput'], env);
    }

    const started = startDev('binary', ['dev'], { cwd: project.dir, env });
    run = started;
    const ready = await started.waitForLine(readyMs, 'a "ready in …" line', 120_000);
    const spawnToReadyMs = Math.round(ready.at - started.spawnedAt);
    const reportedReadyMs = ready.value;
    console.log(`rxroute dev (${profile}): spawn → "ready" line ${spawnToReadyMs} ms (rxroute reported ready in ${reportedReadyMs} ms)`);
    return {
      profile,
      project,
      port,
      origin: `http://localhost:${port}`,
      backendPort,
      djangoPort,
      run: started,
      spawnToReadyMs,
      reportedReadyMs,
      artifacts,
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** Everything the run started, with its command line (rxroute itself left out). */
export function startedProcesses(stack: DevStack): Array<{ pid: number; cmdline: string }> {
  return markedProcesses(stack.run.marker).filter((p) => p.pid !== stack.run.pid);
}

/** Appends a line to a file in the project, as an editor saving it would. */
export function editProjectFile(stack: DevStack, file: string, line: string): void {
  const path = join(stack.project.dir, file);
  writeFileSync(path, `${readFileSync(path, 'utf8')}${line}\n`);
}

export interface CtrlCResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What ran before: every process the run had started. */
  before: Array<{ pid: number; cmdline: string }>;
  /** Of those, what still runs afterwards, and anything else carrying the run's marker. */
  left: Array<{ pid: number; cmdline: string }>;
  portsChecked: number[];
  openPorts: number[];
  tookMs: number;
}

/** SIGINT to rxroute (what Ctrl+C in its terminal delivers), then what is left. */
export async function ctrlC(stack: DevStack): Promise<CtrlCResult> {
  const before = startedProcesses(stack);
  const sentAt = performance.now();
  stack.run.signal('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const { code, signal } = await Promise.race([
    stack.run.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`rxroute dev did not exit within 20 s of SIGINT\n${stack.run.transcript()}`)), 20_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const tookMs = Math.round(performance.now() - sentAt);
  // A process signalled a moment ago may take a few ms to be gone.
  const stillThere = () => [...before.filter((p) => isRunning(p.pid)), ...markedProcesses(stack.run.marker).filter((p) => !before.some((b) => b.pid === p.pid))];
  for (let i = 0; i < 20 && stillThere().length; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  const portsChecked = [stack.port, stack.port + 1, stack.backendPort, ...(stack.djangoPort ? [stack.djangoPort] : [])];
  const openPorts: number[] = [];
  for (const port of portsChecked) if (await acceptsConnections(port)) openPorts.push(port);
  return { code, signal, before, left: stillThere(), portsChecked, openPorts, tookMs };
}
