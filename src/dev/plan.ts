import type { Config, DevProcess } from '../config/schema.ts';
import type { ProcessSpec } from './process-types.ts';

// `rxroute dev`'s plan (DESIGN §10), pure: which children to start, with
// which argv and environment, from the config and what the project holds.
// Spawning, ports and PATH lookups happen in dev-command; this is the part
// a unit test can check without starting anything.

export interface DevPlanInput {
  config: Config;
  /** The port Vite gets: the frontend upstream's port. */
  frontendPort: number;
  /** Arguments after `--`, which replace every other process. */
  rest?: string[];
  /** ./rxconfig.py exists: the project is a Reflex app, so `reflex run` is the default. */
  hasRxconfig: boolean;
  /** ./manage.py exists: split_dev can start Django's runserver. */
  hasManagePy: boolean;
  /** The URL the browser opens, e.g. `http://localhost:3000` (REFLEX_API_URL). */
  routerUrl: string;
  /** The project's Python (`.venv/bin/python`, `$VIRTUAL_ENV/bin/python`, `python3`). */
  python: string;
  cwd: string;
  platform: string;
}

export interface DevPlan {
  processes: ProcessSpec[];
  /** Environment every child gets on top of rxroute's own. */
  env: Record<string, string>;
  frontendPort: number;
  backendPort: number;
  /** Why no process could be planned; the caller reports it as a usage error. */
  problem?: { message: string; hint: string };
}

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export function planDev(input: DevPlanInput): DevPlan {
  const { config } = input;
  const backendPort = portOf(config.backend);
  const env: Record<string, string> = {
    RXROUTE_URL: input.routerUrl,
    // Reflex 0.8 reads only REFLEX_-prefixed variables; env.json then points
    // the browser's /_event and /_upload at rxroute instead of the backend.
    REFLEX_API_URL: input.routerUrl,
    REFLEX_FRONTEND_PORT: String(input.frontendPort),
    REFLEX_BACKEND_PORT: String(backendPort),
    // Python buffers a pipe's output; the prefixed log should be live.
    PYTHONUNBUFFERED: '1',
  };
  const base = { frontendPort: input.frontendPort, backendPort, env };

  if (input.rest !== undefined) {
    const [file, ...args] = input.rest;
    if (!file) return { ...base, processes: [], problem: { message: 'nothing after --', hint: 'give the command to run: rxroute dev -- CMD ARGS…' } };
    return { ...base, processes: [{ name: commandName(file), argv: [file, ...args], display: displayArgv(input.rest), cwd: input.cwd, env: {} }] };
  }

  const configured = config.dev.processes;
  if (configured && Object.keys(configured).length > 0) {
    return { ...base, processes: Object.entries(configured).map(([name, entry]) => fromConfig(name, entry, input)) };
  }

  if (!input.hasRxconfig) {
    return {
      ...base,
      processes: [],
      problem: {
        message: 'no rxconfig.py in this directory, no dev.processes in rxroute.json and no command after --: nothing to start',
        hint: 'run rxroute dev in your Reflex project (where rxconfig.py is), or give the command: rxroute dev -- CMD ARGS…',
      },
    };
  }

  // Explicit ports: `reflex run` then neither auto-increments nor asks.
  const reflexArgs = ['run', '--frontend-port', String(input.frontendPort), '--backend-port', String(backendPort)];
  const processes: ProcessSpec[] = [
    { name: 'reflex', argv: ['reflex', ...reflexArgs], display: `reflex ${reflexArgs.join(' ')}`, cwd: input.cwd, env: {} },
  ];
  const django = config.profile === 'split_dev' ? config.proxy.server : undefined;
  if (django && input.hasManagePy) {
    const url = new URL(django);
    if (LOOPBACK_HOST.test(url.hostname)) {
      const address = `${url.hostname.replace(/^\[|\]$/g, '')}:${portOf(django)}`;
      processes.push({
        name: 'django',
        argv: [input.python, 'manage.py', 'runserver', address],
        display: `python manage.py runserver ${address}`,
        cwd: input.cwd,
        env: {},
      });
    }
  }
  return { ...base, processes };
}

function fromConfig(name: string, entry: DevProcess, input: DevPlanInput): ProcessSpec {
  const spec = typeof entry === 'string' ? { cmd: entry, env: {} as Record<string, string>, cwd: undefined, ready: undefined } : entry;
  return {
    name,
    argv: shellArgv(spec.cmd, input.platform),
    display: spec.cmd,
    cwd: spec.cwd === undefined ? input.cwd : joinPath(input.cwd, spec.cwd),
    env: spec.env ?? {},
    readyPort: spec.ready,
  };
}

/** A command string runs through the platform's shell, like a Procfile line. */
export function shellArgv(command: string, platform: string): string[] {
  return platform === 'win32' ? ['cmd.exe', '/d', '/s', '/c', command] : ['sh', '-c', command];
}

/** `/usr/bin/node` → `node`, `server.py` → `server`, `C:\x\y.exe` → `y`. */
export function commandName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.(exe|cmd|bat|py|js|mjs|ts|sh)$/i, '') || 'cmd';
}

function displayArgv(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function portOf(url: string): number {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

function joinPath(cwd: string, path: string): string {
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) return path;
  return `${cwd.replace(/[\\/]$/, '')}/${path}`;
}
