import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { createServer as createViteServer, type ViteDevServer } from 'vite';
import { cleanEnv, startRouter, type RouterProcess } from '../_helpers/router-process.ts';
import { acceptsConnections } from '../_helpers/tcp.ts';

/**
 * The end-to-end stack, all on 127.0.0.1 and all started and stopped here:
 * Debian's Django (a small project in test/e2e/django), a Reflex-shaped ASGI
 * backend on Debian's python-socketio and uvicorn (test/e2e/backend/app.py),
 * a real Vite dev server on a copy of test/e2e/frontend, and dist/rxroute in
 * front of them. Every process is stopped by its own PID.
 */

export type Profile = 'integrated' | 'split_dev';

const root = fileURLToPath(new URL('../../', import.meta.url));
const e2eDir = `${root}test/e2e/`;
/** Debian's interpreter: `python3` on PATH may be a pyenv shim without Django or python-socketio. */
export const PYTHON = '/usr/bin/python3';
/** Debian's Chromium, driven by playwright-core; never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const ADMIN = { username: 'admin', password: 'rxroute-e2e-password' };

/** test-artifacts/e2e/<profile>/, emptied so screenshots and logs are this run's only. */
function freshArtifactsDir(profile: Profile): string {
  const dir = `${root}test-artifacts/e2e/${profile}/`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A port the OS just handed out and that nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/** A child process whose output goes to a log file under test-artifacts and a tail kept for error messages. */
export class ManagedProcess {
  private tail = '';
  private closed = false;
  private readonly log: WriteStream;
  readonly exited: Promise<void>;
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.log.write(`\n===== ${new Date().toISOString()} ${name} pid ${child.pid}\n`);
    const take = (chunk: Buffer) => {
      this.log.write(chunk);
      this.tail = (this.tail + chunk.toString('utf8')).slice(-6000);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    child.once('error', (error) => take(Buffer.from(`${name} could not be started: ${error.message}\n`)));
    // 'close' comes after 'exit' once stdout and stderr have delivered their last bytes.
    this.exited = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        this.closed = true;
        this.log.end(`===== ${name} pid ${child.pid} exited (code ${code}, signal ${signal})\n`);
        resolve();
      }),
    );
    // A worker that dies without running afterAll must not leave the process behind.
    process.once('exit', this.killOnExit);
  }

  static spawn(name: string, file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): ManagedProcess {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new ManagedProcess(name, child, options.logFile);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no PID`);
    return this.child.pid;
  }

  get running(): boolean {
    return !this.closed && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.tail;
  }

  /** Resolves once `port` accepts connections; rejects with the output if the process exits first or `timeoutMs` passes. */
  async waitForPort(port: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}) before listening on ${port}:\n${this.tail}`);
      if (await acceptsConnections(port)) return;
      await sleep(100);
    }
    throw new Error(`${this.name} did not listen on ${port} within ${timeoutMs} ms:\n${this.tail}`);
  }

  /** SIGKILL, like a crash; resolves once the process is gone. */
  async kill(): Promise<void> {
    process.off('exit', this.killOnExit);
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    process.off('exit', this.killOnExit);
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

function pythonEnv(dbPath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    RXROUTE_E2E_DB: dbPath,
    DJANGO_SETTINGS_MODULE: 'e2eproject.settings',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    PYTHONNOUSERSITE: '1',
  };
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  return env;
}

function checkPrerequisites(): void {
  const missing: string[] = [];
  const probe = spawnSync(PYTHON, ['-c', 'import django, socketio, engineio, uvicorn, websockets'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) missing.push(`${PYTHON} cannot import django, socketio, uvicorn, websockets (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)})`);
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} is missing`);
  if (missing.length) throw new Error(`${missing.join('; ')}: run bash scripts/e2e-setup.sh (Debian packages python3-django python3-socketio python3-uvicorn python3-websockets chromium)`);
}

function manage(args: string[], env: NodeJS.ProcessEnv): void {
  const result = spawnSync(PYTHON, ['manage.py', ...args], { cwd: `${e2eDir}django`, env, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`manage.py ${args.join(' ')} failed (${result.status ?? result.error?.message}):\n${result.stdout}\n${result.stderr}`);
}

export interface ViteFrontend {
  url: string;
  server: ViteDevServer;
  /** Rewrites a file in the served copy of test/e2e/frontend (the repository's file never changes). */
  edit(file: string, change: (source: string) => string): void;
  close(): Promise<void>;
}

async function startVite(): Promise<ViteFrontend> {
  // Under the repository (.tmp/ is gitignored) so `socket.io-client` resolves from its node_modules.
  mkdirSync(`${root}.tmp`, { recursive: true });
  const dir = mkdtempSync(`${root}.tmp/e2e-frontend-`);
  cpSync(`${e2eDir}frontend`, dir, { recursive: true });
  try {
    const server = await createViteServer({
      root: dir,
      configFile: false,
      envDir: false,
      logLevel: 'warn',
      clearScreen: false,
      cacheDir: join(dir, '.vite'),
      // Pre-bundled at startup so no dependency discovery reloads the page later.
      optimizeDeps: { noDiscovery: true, include: ['socket.io-client'] },
      // The router keeps the browser's Host (localhost:ROUTER_PORT), which Vite allows.
      server: { host: '127.0.0.1', port: 0, strictPort: true },
    });
    await server.listen();
    const { port } = server.httpServer?.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      server,
      edit(file, change) {
        const path = join(dir, file);
        writeFileSync(path, change(readFileSync(path, 'utf8')));
      },
      async close() {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface Stack {
  profile: Profile;
  /** `http://localhost:ROUTER_PORT`: the origin the browser uses (Host `localhost:PORT`). */
  origin: string;
  router: RouterProcess;
  vite: ViteFrontend;
  backendPort: number;
  backend: ManagedProcess;
  /** `manage.py runserver` in split_dev; undefined in integrated (Django lives in the backend). */
  django: ManagedProcess | undefined;
  artifacts: string;
  /** SIGKILLs the backend and waits until it is gone. */
  killBackend(): Promise<void>;
  /** Starts the backend again on the same port and waits until it accepts connections. */
  startBackend(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the whole stack for `profile`; on failure stops what it had started and rethrows. */
export async function startStack(profile: Profile): Promise<Stack> {
  checkPrerequisites();
  const artifacts = freshArtifactsDir(profile);
  const dataDir = mkdtempSync(join(tmpdir(), `rxroute-e2e-${profile}-`));
  const env = pythonEnv(join(dataDir, 'db.sqlite3'));
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(dataDir, { recursive: true, force: true })];
  const close = async () => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length) throw new AggregateError(errors, `stopping the ${profile} stack failed`);
  };

  try {
    manage(['migrate', '--noinput'], env);
    manage(['createsuperuser', '--noinput', '--username', ADMIN.username, '--email', 'admin@example.com'], { ...env, DJANGO_SUPERUSER_PASSWORD: ADMIN.password });

    const backendPort = await freePort();
    let backend: ManagedProcess | undefined;
    const startBackend = async () => {
      const started = ManagedProcess.spawn('backend', PYTHON, [`${e2eDir}backend/app.py`, '--port', String(backendPort), '--profile', profile], {
        cwd: `${e2eDir}backend`,
        env,
        logFile: `${artifacts}backend.log`,
      });
      backend = started;
      await started.waitForPort(backendPort);
    };
    cleanups.push(async () => backend?.stop());
    const killBackend = async () => {
      await backend?.kill();
    };

    let django: ManagedProcess | undefined;
    let djangoUrl: string | undefined;
    let djangoPort = 0;
    if (profile === 'split_dev') {
      djangoPort = await freePort();
      djangoUrl = `http://127.0.0.1:${djangoPort}`;
      django = ManagedProcess.spawn('django runserver', PYTHON, ['manage.py', 'runserver', `127.0.0.1:${djangoPort}`, '--noreload'], {
        cwd: `${e2eDir}django`,
        env,
        logFile: `${artifacts}django.log`,
      });
      const started = django;
      cleanups.push(async () => started.stop());
    }

    const vitePromise = startVite();
    cleanups.push(async () => (await vitePromise.catch(() => undefined))?.close());
    await Promise.all([startBackend(), django?.waitForPort(djangoPort), vitePromise]);
    const vite = await vitePromise;

    const router = await startRouter('binary', [
      '--port', '0',
      '--host', '127.0.0.1',
      '--log', 'json',
      '--verbose',
      '--profile', profile,
      '--frontend', vite.url,
      '--backend', `http://127.0.0.1:${backendPort}`,
      ...(djangoUrl ? ['--django', djangoUrl] : []),
      // Generous: the backend restart scenario relies on requests waiting for it.
      '--wait', '30000',
    ]);
    cleanups.push(async () => {
      await router.stop();
      writeFileSync(`${artifacts}router.log`, `${router.stdout.join('\n')}\n--- stderr ---\n${router.stderr()}`);
    });

    return {
      profile,
      origin: `http://localhost:${router.port}`,
      router,
      vite,
      backendPort,
      get backend() {
        if (!backend) throw new Error('backend not started');
        return backend;
      },
      django,
      artifacts,
      killBackend,
      startBackend,
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
