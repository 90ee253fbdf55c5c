import { type Config, servesHttps } from '../config/schema.ts';
import { planDev, portOf } from '../dev/plan.ts';
import type { ProcessSpec } from '../dev/process-types.ts';
import { type ExitReport, Supervisor } from '../dev/supervisor.ts';
import { ConfigError, RuntimeFailure } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Runtime } from '../runtime.ts';
import type { ParsedArgs } from './args.ts';
import { printNotes } from './load-cli-config.ts';
import { loadDevConfig } from './load-dev-config.ts';
import { onStopSignal, openUrl, routerLogger, serveRouter } from './serve-command.ts';

// `rxroute dev` (DESIGN §10): the router plus the app's own processes, from
// one command and a stock rxconfig.py. Planning is pure (src/dev/plan.ts);
// this file checks the plan against the machine (ports, executables), binds
// the router, starts the supervisor and prints what happens.

const READY_POLL_MS = 250;
const SLOW_READY_MS = 60_000;
const LAST_LINES = 10;
const COLORS = [36, 35, 33, 32, 34, 91, 96, 95];

export async function devCommand(args: ParsedArgs, runtime: Runtime): Promise<number | 'serving'> {
  if (args.positionals.length > 0) {
    throw new ConfigError(
      [`dev takes no arguments before -- (got "${args.positionals.join(' ')}")`],
      'put the command after --: rxroute dev -- CMD ARGS…',
    );
  }
  const loaded = loadDevConfig(args, runtime);
  printNotes(loaded.notes);
  const frontendPort = loaded.frontendExplicit ? portOf(loaded.config.frontend) : await freePortAbove(loaded.config, runtime);
  const config: Config = loaded.frontendExplicit ? loaded.config : { ...loaded.config, frontend: `http://127.0.0.1:${frontendPort}` };
  const cwd = runtime.cwd();
  const venvBin = runtime.fileExists(`${cwd}/.venv`) ? `${cwd}/${runtime.platform === 'win32' ? '.venv/Scripts' : '.venv/bin'}` : undefined;
  const pathKey = runtime.platform === 'win32' ? (Object.keys(runtime.env).find((k) => k.toUpperCase() === 'PATH') ?? 'Path') : 'PATH';
  const childPath = [venvBin, runtime.env[pathKey]].filter(Boolean).join(runtime.platform === 'win32' ? ';' : ':');
  const plan = planDev({
    config,
    frontendPort,
    rest: args.rest,
    hasRxconfig: loaded.hasRxconfig,
    hasManagePy: runtime.fileExists(`${cwd}/manage.py`),
    // The scheme the router serves: over --https, REFLEX_API_URL must be https:// or the browser blocks mixed content.
    routerUrl: openUrl(`${servesHttps(config) ? 'https' : 'http'}://${config.host}:${config.port}`, { ...config, frontend_path: '' }).replace(/\/$/, ''),
    python: loaded.python,
    cwd,
    platform: runtime.platform,
  });
  if (plan.problem) throw new ConfigError([plan.problem.message], plan.problem.hint);
  const specs = plan.processes.map((spec) => resolveExecutable(spec, childPath, runtime, args));

  const logger = routerLogger(config, runtime);
  const print = processPrinter(logger, specs, runtime.isTTY && config.log === 'pretty');
  const baseEnv = { ...runtime.env, [pathKey]: childPath, ...plan.env };
  let finish: ((code: number) => void) | undefined;
  const supervisor = new Supervisor({
    specs,
    spawn: runtime.spawn,
    baseEnv,
    restart: !args.noRestart,
    onOutput: (name, line) => print.output(name, line.stream, line.text),
    onStart: (p) => print.start(p.name, p.pid, p.command, p.restarts),
    onExit: (report) => print.exit(report),
    onGiveUp: (name, code) => {
      logger.info('process.giveup', `rxroute: ${name} exited (code ${code}) and --no-restart is set: stopping everything`, { name, code });
      finish?.(code);
    },
  });

  const serving = await serveRouter(config, runtime, {
    logger,
    origin: loaded.frontendExplicit ? loaded.origin : new Map([...loaded.origin, ['frontend', 'free port chosen by rxroute dev']]),
    processes: supervisor,
    bannerExtra: logger.format === 'pretty' ? processesBanner(specs, plan.env) : undefined,
  });
  const started = performance.now();
  supervisor.start();
  const stopReady = watchReady(serving.app.health.list().map((u) => ({ name: u.name, origin: new URL(u.target).origin })), specs, runtime, logger, started);

  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    stopReady();
    await Promise.all([supervisor.stop(), serving.shutdown()]);
  };
  finish = (code) => void stopAll().finally(() => runtime.exit(code));
  onStopSignal(runtime, stopAll);
  return 'serving';
}

/** Vite's port: the first free one above the router's, skipping the backend's. */
async function freePortAbove(config: Config, runtime: Runtime): Promise<number> {
  const taken = new Set([config.port, portOf(config.backend), ...(config.proxy.server ? [portOf(config.proxy.server)] : [])]);
  for (let port = (config.port || 3000) + 1; port < 65536; port++) {
    if (taken.has(port)) continue;
    if (await runtime.portFree('127.0.0.1', port)) return port;
  }
  throw new RuntimeFailure('no free port above the router port for Vite', 'EADDRINUSE', 'pass --frontend http://127.0.0.1:PORT with a free port');
}

/**
 * Fails before anything starts when a program is missing, naming it and
 * the fix: a Reflex project's usual mistake is a virtualenv not activated.
 */
function resolveExecutable(spec: ProcessSpec, path: string, runtime: Runtime, args: ParsedArgs): ProcessSpec {
  const shell = spec.argv[0] === 'sh' || spec.argv[0] === 'cmd.exe';
  const program = shell ? firstWord(spec.display) : spec.argv[0];
  if (program === undefined) return spec;
  const found = runtime.which(program, path);
  if (found !== undefined) return shell ? spec : { ...spec, argv: [found, ...spec.argv.slice(1)] };
  if (spec.name === 'reflex' && args.rest === undefined) {
    throw new ConfigError(
      ['reflex not found on PATH (nor in ./.venv): rxroute dev starts `reflex run` for this project'],
      "activate the project's virtualenv (source .venv/bin/activate) or install Reflex (pip install reflex); or give the command: rxroute dev -- CMD",
    );
  }
  if (spec.name === 'django' && args.rest === undefined) {
    throw new ConfigError(
      [`${program} not found: rxroute dev starts Django's runserver with the project's Python`],
      'create the virtualenv (.venv) or install python3; or set dev.processes in rxroute.json',
    );
  }
  const where = args.rest !== undefined ? 'the command after --' : `dev.processes.${spec.name} in rxroute.json`;
  throw new ConfigError([`${program} not found on PATH (${where})`], `check the spelling, or install ${program} / activate the environment that has it`);
}

/** The program a simple shell command runs; undefined for builtins, assignments and anything fancier. */
function firstWord(command: string): string | undefined {
  const word = command.trim().split(/\s+/)[0] ?? '';
  if (!/^[\w./-]+$/.test(word) || /=/.test(word)) return undefined;
  const builtins = new Set(['cd', 'exec', 'export', 'set', 'source', '.', 'env', 'true', 'false', 'echo', 'test', 'exit', 'trap', 'ulimit', 'umask', 'wait', 'eval']);
  return builtins.has(word) ? undefined : word;
}

function processesBanner(specs: ProcessSpec[], env: Record<string, string>): string {
  const width = Math.max(...specs.map((s) => s.name.length));
  const rows = specs.map((s) => `  ${s.name.padEnd(width)}  ${s.display}`);
  return `\n  processes (REFLEX_API_URL=${env.REFLEX_API_URL})\n${rows.join('\n')}\n`;
}

/** Prefixed, line-buffered child output and process events, pretty or JSON (DESIGN §10). */
function processPrinter(logger: Logger, specs: ProcessSpec[], color: boolean) {
  const width = Math.max(6, ...specs.map((s) => s.name.length));
  const colorOf = new Map(specs.map((s, i) => [s.name, COLORS[i % COLORS.length]!]));
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const prefix = (name: string) => paint(colorOf.get(name) ?? 0, name.padEnd(width));
  const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
  return {
    output(name: string, stream: 'stdout' | 'stderr', line: string) {
      if (logger.format === 'json') logger.info('process.output', line, { name, stream, line });
      else logger.info('process.output', `${prefix(name)} │ ${line}`);
    },
    start(name: string, pid: number | null, command: string, restarts: number) {
      const again = restarts > 0 ? ` (restart ${restarts})` : '';
      if (logger.format === 'json') logger.info('process.start', `started ${name}`, { name, pid, command, restarts });
      else logger.info('process.start', `${prefix(name)} │ ${paint(90, `▶ started${again}, pid ${pid}: ${command}`)}`);
    },
    exit({ process: p, restartInMs, ranMs, runLines }: ExitReport) {
      const how = p.exitSignal ? `was killed by ${p.exitSignal}` : `exited with code ${p.exitCode}`;
      const stopped = p.state === 'stopped';
      if (logger.format === 'json') {
        logger.info('process.exit', `${p.name} ${how}`, {
          name: p.name,
          code: p.exitCode,
          signal: p.exitSignal,
          ranMs: Math.round(ranMs),
          restartInMs,
          stopped,
          last: stopped ? [] : runLines.slice(-LAST_LINES).map((l) => l.text),
        });
        return;
      }
      if (stopped) {
        logger.info('process.exit', `${prefix(p.name)} │ ${paint(90, `■ stopped (${how})`)}`);
        return;
      }
      const next = restartInMs === null ? '' : `; restarting in ${seconds(restartInMs)}`;
      const last = runLines.slice(-LAST_LINES).map((l) => `${prefix(p.name)} │   ${paint(90, l.text)}`);
      logger.info(
        'process.exit',
        [`${prefix(p.name)} │ ${paint(31, `✖ ${how} after ${seconds(ranMs)}${next}`)}`, ...(last.length ? [`${prefix(p.name)} │ ${paint(90, 'last lines:')}`, ...last] : [])].join('\n'),
      );
    },
  };
}

/**
 * Prints `ready` once every upstream (and every `ready` port of
 * dev.processes) accepts connections, with the time since the children
 * started; names what is still missing if that takes over a minute.
 */
function watchReady(
  upstreams: { name: string; origin: string }[],
  specs: ProcessSpec[],
  runtime: Runtime,
  logger: Logger,
  started: number,
): () => void {
  const targets = [
    ...upstreams,
    ...specs.flatMap((s) => (s.readyPort === undefined ? [] : [{ name: s.name, origin: `http://127.0.0.1:${s.readyPort}` }])),
  ];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let warned = false;
  let done = false;
  const check = async () => {
    const results = await Promise.all(targets.map((t) => runtime.probe(t.origin).then(() => true, () => false)));
    if (done) return;
    const waiting = targets.filter((_, i) => !results[i]);
    const ms = Math.round(performance.now() - started);
    if (waiting.length === 0) {
      done = true;
      const names = targets.map((t) => t.name).join(', ');
      if (logger.format === 'json') logger.info('ready', `ready in ${ms} ms`, { ms, upstreams: targets });
      else logger.info('ready', `\n  ➜  ready in ${(ms / 1000).toFixed(1)} s: ${names || 'nothing to wait for'} accept connections\n`);
      return;
    }
    if (!warned && ms > SLOW_READY_MS) {
      warned = true;
      logger.warn('slow-start', `still waiting after ${Math.round(ms / 1000)} s for ${waiting.map((t) => `${t.name} (${t.origin})`).join(', ')}: is the process listening on that port?`);
    }
    timer = setTimeout(check, READY_POLL_MS);
  };
  void check();
  return () => {
    done = true;
    clearTimeout(timer);
  };
}
