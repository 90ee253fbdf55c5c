import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchRss, type Runtime } from '../_helpers/router-process.ts';
import { acceptsConnections } from '../_helpers/tcp.ts';
import { within } from '../_helpers/async.ts';
import { freePort, freePortWithRoom, isRunning, markedProcesses, READY, readyMs, startDev, type DevEvent, type DevOptions, type DevRun } from './_dev-process.ts';
import { addVenv, makeProject, NODE, pathWith, rxconfig, splitDevRxconfig, UPSTREAM, type Project } from './_project.ts';

/**
 * `rxroute dev` (DESIGN §10) as a user meets it, per runtime, with small real
 * children: upstream.mjs serves the frontend and backend upstreams itself, so
 * the ready line, the proxying and the process tree are all real.
 */

/** What upstream.mjs answers every request with. */
interface FixtureReply {
  role: string;
  side: 'frontend' | 'backend';
  pid: number;
  ppid: number;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  url: string;
  host: string | null;
}

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ANSI = /\u001b\[/;

async function get(url: string): Promise<{ status: number; text: string; json<T = FixtureReply>(): T }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  return { status: response.status, text, json: <T>() => JSON.parse(text) as T };
}

/** RSS reads that outlive the process (a failed test) must not throw from a timer. */
const rssOrZero = (run: DevRun) => () => {
  try {
    return run.rssBytes();
  } catch {
    return 0;
  }
};

const isEvent = (name: string) => (event: DevEvent) => (event.event === name ? event : undefined);
const output = (name: string, pattern: RegExp) => (event: DevEvent) =>
  event.event === 'process.output' && event.name === name && typeof event.line === 'string' && pattern.exec(event.line);
/** The pid in an upstream.mjs `fixture-listening SIDE PORT pid PID` line. */
const listeningPid = (name: string, side: string) => (event: DevEvent) => {
  const match = output(name, new RegExp(`^fixture-listening ${side} \\d+ pid (\\d+)$`))(event);
  return match ? Number(match[1]) : undefined;
};

export function addDevTests(runtime: Runtime): void {
  describe(`rxroute dev (${runtime})`, () => {
    const runs: DevRun[] = [];
    const projects: Project[] = [];
    afterEach(async () => {
      await Promise.all(runs.splice(0).map((run) => run.stop()));
      for (const project of projects.splice(0)) project.remove();
    });

    const project = (files?: Record<string, string>) => {
      const made = makeProject(files);
      projects.push(made);
      return made;
    };
    const dev = (args: string[], options: DevOptions) => {
      const run = startDev(runtime, ['dev', ...args], options);
      runs.push(run);
      return run;
    };
    /** Runs rxroute dev to its end (it is expected to exit by itself). */
    const devToEnd = async (args: string[], options: DevOptions) => {
      const run = dev(args, options);
      const { code } = await within(run.exited, 30_000, `rxroute dev ${args.join(' ')} did not exit`);
      return { run, code, stderr: run.stderr(), stdout: run.lines().join('\n') };
    };
    const listeningPort = async (run: DevRun) => {
      const { value } = await run.waitForEvent((event) => event.event === 'listening' && typeof event.url === 'string' && event.url, 'listening event');
      return Number(new URL(value).port);
    };
    /** Once rxroute has exited: none of `pids` runs, no process carries the run's marker, none of `ports` accepts connections. */
    const expectNothingLeft = async (run: DevRun, pids: number[], ports: number[]) => {
      expect(run.done()).toBe(true);
      // A process signalled a moment ago may take a few ms to go; never seconds.
      for (let i = 0; i < 20 && (pids.some(isRunning) || markedProcesses(run.marker).length); i++) await sleep(100);
      expect(pids.filter(isRunning), 'pids still running').toEqual([]);
      expect(markedProcesses(run.marker), 'processes left with the run marker').toEqual([]);
      const open = [];
      for (const port of ports) if (await acceptsConnections(port)) open.push(port);
      expect(open, 'ports still accepting connections').toEqual([]);
    };

    it('-- CMD: runs the command, proxies to the server it starts, and gives it the ports and URLs', async () => {
      const port = await freePortWithRoom();
      const backendPort = await freePort();
      const run = dev(['--port', String(port), '--backend', `http://127.0.0.1:${backendPort}`, '--log', 'json', '--', NODE, UPSTREAM], { cwd: project().dir });
      expect(await listeningPort(run)).toBe(port);
      const start = await run.waitForEvent(isEvent('process.start'), 'process.start event');
      expect(start.value).toMatchObject({ name: 'node', pid: expect.any(Number), command: expect.stringContaining(UPSTREAM) });
      const ready = await run.waitForEvent(isEvent('ready'), 'ready event');
      expect(ready.value.ms).toEqual(expect.any(Number));

      const page = await get(`http://127.0.0.1:${port}/some/page?x=1`);
      expect(page.status).toBe(200);
      const reply = page.json();
      expect(reply).toMatchObject({ side: 'frontend', url: '/some/page?x=1', pid: start.value.pid });
      // Vite moves to the first free port above rxroute's; the backend stays where it was configured.
      expect(reply.env).toEqual({
        RXROUTE_URL: `http://localhost:${port}`,
        REFLEX_API_URL: `http://localhost:${port}`,
        REFLEX_FRONTEND_PORT: String(port + 1),
        REFLEX_BACKEND_PORT: String(backendPort),
        PYTHONUNBUFFERED: '1',
      });
      const ping = await get(`http://127.0.0.1:${port}/ping`);
      expect(ping.json()).toMatchObject({ side: 'backend', url: '/ping' });

      await run.waitForEvent(output('node', /^fixture-start /), 'the child\'s first line as process.output');
      const line = run.events().find((seen) => seen.value.event === 'process.output' && String(seen.value.line).startsWith('fixture-start'));
      expect(line?.value).toMatchObject({ name: 'node', stream: 'stdout', time: expect.any(String) });
    });

    it('--https: the children get https:// URLs (REFLEX_API_URL, RXROUTE_URL) for the scheme rxroute serves', async () => {
      const port = await freePortWithRoom();
      const proj = project();
      const printEnv = 'console.log("env " + JSON.stringify({ api: process.env.REFLEX_API_URL, url: process.env.RXROUTE_URL })); setInterval(() => {}, 1000)';
      const run = dev(['--https', '--port', String(port), '--log', 'json', '--', NODE, '-e', printEnv], {
        cwd: proj.dir,
        env: { RXROUTE_DATA_DIR: join(proj.dir, '.rxroute-data') },
      });
      const { value: url } = await run.waitForEvent((event) => event.event === 'listening' && typeof event.url === 'string' && event.url, 'listening event');
      expect(url).toMatch(/^https:\/\//);
      const { value: match } = await run.waitForEvent(output('node', /^env (.*)$/), 'the child printing its env');
      const env = JSON.parse(match[1] ?? '{}') as { api?: string; url?: string };
      expect(env).toEqual({ api: `https://localhost:${port}`, url: `https://localhost:${port}` });
    });

    it('pretty output: each child line prefixed with its name, a ready line, no colors off a terminal', async () => {
      const port = await freePortWithRoom();
      const backendPort = await freePort();
      const run = dev(['--port', String(port), '--backend', `http://127.0.0.1:${backendPort}`, '--', NODE, UPSTREAM], { cwd: project().dir });
      await run.waitForLine((line) => /^node\s+│ fixture-start \{/.exec(line), 'a "node │ fixture-start" line');
      await run.waitForLine((line) => /^node\s+│ fixture-listening backend \d+ pid \d+$/.exec(line), 'a "node │ fixture-listening backend" line');
      const ready = await run.waitForLine(readyMs, 'a "ready in …" line');
      expect(ready.value).toBeGreaterThan(0);
      expect((await get(`http://127.0.0.1:${port}/`)).status).toBe(200);
      expect(run.lines().filter((line) => ANSI.test(line))).toEqual([]);
      expect(run.lines().filter((line) => READY.test(line))).toHaveLength(1);
    });

    it('--frontend names where the frontend runs: rxroute leaves it there and tells the child', async () => {
      const port = await freePortWithRoom();
      const frontendPort = await freePort();
      const backendPort = await freePort();
      const run = dev(['--port', String(port), '--frontend', `http://127.0.0.1:${frontendPort}`, '--backend', `http://127.0.0.1:${backendPort}`, '--log', 'json', '--', NODE, UPSTREAM], { cwd: project().dir });
      await run.waitForEvent(isEvent('ready'), 'ready event');
      const page = (await get(`http://127.0.0.1:${port}/`)).json();
      expect(page.env).toMatchObject({ REFLEX_FRONTEND_PORT: String(frontendPort), REFLEX_BACKEND_PORT: String(backendPort) });
    });

    it('dev.processes in rxroute.json replaces the detected set: names, cwd, env, ready port, /__rxroute/health', async () => {
      const port = await freePort();
      const frontendPort = await freePort();
      const backendPort = await freePort();
      const proj = project({
        // Detection would run `reflex`, which is not on PATH: dev.processes must win.
        'rxconfig.py': rxconfig(),
        'services/api/.keep': '',
        'rxroute.json': JSON.stringify({
          port,
          frontend: `http://127.0.0.1:${frontendPort}`,
          backend: `http://127.0.0.1:${backendPort}`,
          dev: {
            processes: {
              web: `${NODE} ${UPSTREAM} --frontend-port ${frontendPort} --backend-port 0`,
              api: { cmd: `${NODE} ${UPSTREAM} --frontend-port 0 --backend-port ${backendPort}`, cwd: 'services/api', env: { FIXTURE_GREETING: 'hello from rxroute.json' }, ready: backendPort },
            },
          },
        }),
      });
      const run = dev(['--log', 'json'], { cwd: proj.dir });
      expect(await listeningPort(run)).toBe(port);
      await run.waitForEvent(isEvent('ready'), 'ready event');
      const starts = run.events().filter((seen) => seen.value.event === 'process.start').map((seen) => seen.value.name);
      expect(starts.sort()).toEqual(['api', 'web']);

      const page = (await get(`http://127.0.0.1:${port}/`)).json();
      expect(page).toMatchObject({ side: 'frontend', cwd: proj.dir });
      expect(page.env.FIXTURE_GREETING).toBeUndefined();
      expect(page.env.RXROUTE_URL).toBe(`http://localhost:${port}`);
      const ping = (await get(`http://127.0.0.1:${port}/ping`)).json();
      expect(ping).toMatchObject({ side: 'backend', cwd: join(proj.dir, 'services/api') });
      expect(ping.env).toMatchObject({ FIXTURE_GREETING: 'hello from rxroute.json', REFLEX_API_URL: `http://localhost:${port}`, REFLEX_FRONTEND_PORT: String(frontendPort), REFLEX_BACKEND_PORT: String(backendPort) });

      const health = (await get(`http://127.0.0.1:${port}/__rxroute/health`)).json<{ processes: Array<Record<string, unknown>> }>();
      const byName = Object.fromEntries(health.processes.map((p) => [p.name, p]));
      expect(Object.keys(byName).sort()).toEqual(['api', 'web']);
      for (const name of ['api', 'web']) {
        expect(byName[name]).toMatchObject({ state: 'running', pid: expect.any(Number), restarts: 0, exitCode: null, startedAt: expect.any(String), command: expect.stringContaining(UPSTREAM) });
        expect(isRunning(byName[name]!.pid as number)).toBe(true);
      }
      const apiLines = (byName.api!.lines as Array<{ text: string; stream: string }>).map((line) => line.text);
      expect(apiLines).toContain(`fixture-listening backend ${backendPort} pid ${ping.pid}`);
    });

    it('a child that exits on its own is restarted with growing backoff (1 s, 2 s, 4 s…)', { timeout: 40_000 }, async () => {
      const port = await freePort();
      const proj = project({
        'rxroute.json': JSON.stringify({ port, backend: `http://127.0.0.1:${await freePort()}`, frontend: `http://127.0.0.1:${await freePort()}`, dev: { processes: { crashy: `${NODE} ${UPSTREAM} --exit 3` } } }),
      });
      const run = dev(['--log', 'json'], { cwd: proj.dir });
      await listeningPort(run);
      const startsOf = () => run.events().filter((seen) => seen.value.event === 'process.start' && seen.value.name === 'crashy');
      await run.waitForEvent((event) => event.event === 'process.start' && startsOf().length >= 4, 'the fourth start of crashy (three restarts)', 25_000);

      const health = (await get(`http://127.0.0.1:${port}/__rxroute/health`)).json<{ processes: Array<Record<string, unknown>> }>();
      expect(health.processes[0]).toMatchObject({ name: 'crashy', restarts: expect.any(Number) });
      expect(health.processes[0]!.restarts).toBeGreaterThanOrEqual(3);

      const exits = run.events().filter((seen) => seen.value.event === 'process.exit' && seen.value.name === 'crashy').slice(0, 3);
      const starts = startsOf();
      expect(exits.map((seen) => seen.value)).toEqual([0, 1, 2].map(() => expect.objectContaining({ name: 'crashy', code: 3, signal: null, restartInMs: expect.any(Number) })));
      const announced = exits.map((seen) => seen.value.restartInMs as number);
      // Measured here from the exit line to the next start line, a few ms of pipe delay either way.
      const observed = exits.map((exit, i) => Math.round(starts[i + 1]!.at - exit.at));
      console.log(`rxroute dev (${runtime}) backoff: announced ${announced.join(', ')} ms; observed ${observed.join(', ')} ms`);
      expect(announced[0]).toBeGreaterThanOrEqual(1000);
      expect(announced[1]).toBeGreaterThan(announced[0]!);
      expect(announced[2]).toBeGreaterThan(announced[1]!);
      expect(observed[0]).toBeGreaterThanOrEqual(950);
      expect(observed[1]).toBeGreaterThanOrEqual(1950);
      expect(observed[2]).toBeGreaterThan(observed[1]!);
    });

    it('the backoff starts again at 1 s after a run that lasted 30 s or more', { timeout: 70_000 }, async () => {
      const port = await freePort();
      // First run: exits at once (next delay 1 s). Second: exits after 31 s, then at once again.
      const script = 'n=$(cat runs 2>/dev/null || echo 0); echo $((n+1)) > runs; echo "run $((n+1))"; if [ "$n" = 1 ]; then sleep 31; exit 5; fi; exit 4';
      const proj = project({
        'rxroute.json': JSON.stringify({ port, backend: `http://127.0.0.1:${await freePort()}`, frontend: `http://127.0.0.1:${await freePort()}`, dev: { processes: { slow: script } } }),
      });
      const run = dev(['--log', 'json'], { cwd: proj.dir });
      const exitOf = (code: number) => (event: DevEvent) => event.event === 'process.exit' && event.name === 'slow' && event.code === code && event;
      const quick = await run.waitForEvent(exitOf(4), 'the first (quick) exit');
      const long = await run.waitForEvent(exitOf(5), 'the exit after 31 s', 50_000);
      expect(quick.value.restartInMs).toBe(1000);
      expect(long.value.restartInMs).toBe(1000);
      const next = await run.waitForEvent((event) => event.event === 'process.start' && event.name === 'slow' && run.events().filter((seen) => seen.value.event === 'process.start' && seen.value.name === 'slow').length >= 3 && event, 'the third start');
      expect(next.at - long.at).toBeGreaterThanOrEqual(950);
    });

    it('a crash is reported with its exit code and last lines (pretty), and health shows the backoff', async () => {
      const port = await freePort();
      const proj = project({
        'rxroute.json': JSON.stringify({ port, backend: `http://127.0.0.1:${await freePort()}`, frontend: `http://127.0.0.1:${await freePort()}`, dev: { processes: { crashy: `${NODE} ${UPSTREAM} --exit 3` } } }),
      });
      const run = dev([], { cwd: proj.dir });
      // Not the banner's command line (which has `--exit 3`): the line reporting the exit.
      await run.waitForLine((line) => !line.includes(UPSTREAM) && /^crashy\s+│ .*\bcode 3\b/.test(line), 'a crashy line saying it exited with code 3');
      await sleep(200);
      const lines = run.lines();
      const exitAt = lines.findIndex((line) => !line.includes(UPSTREAM) && /^crashy\s+│ .*\bcode 3\b/.test(line));
      expect(lines.slice(0, exitAt).some((line) => /^crashy\s+│ fixture last words on stderr$/.test(line))).toBe(true);
      // Repeated after the exit line, so the reason is next to the code.
      expect(lines.slice(exitAt + 1).some((line) => /^crashy\s+│ .*fixture last words on stderr$/.test(line))).toBe(true);
      const health = (await get(`http://127.0.0.1:${port}/__rxroute/health`)).json<{ processes: Array<Record<string, unknown>> }>();
      const crashy = health.processes.find((p) => p.name === 'crashy');
      expect(crashy).toMatchObject({ exitCode: 3, exitSignal: null });
      expect(['backoff', 'starting', 'running', 'exited']).toContain(crashy!.state);
      const texts = (crashy!.lines as Array<{ text: string }>).map((line) => line.text);
      expect(texts).toContain('fixture last words on stderr');
    });

    it('--no-restart: a child exiting stops everything and rxroute exits with its code', async () => {
      const port = await freePort();
      const frontendPort = await freePort();
      const backendPort = await freePort();
      const proj = project({
        'rxroute.json': JSON.stringify({
          port,
          frontend: `http://127.0.0.1:${frontendPort}`,
          backend: `http://127.0.0.1:${backendPort}`,
          dev: {
            processes: {
              server: `${NODE} ${UPSTREAM} --frontend-port ${frontendPort} --backend-port ${backendPort} --grandchild`,
              quitter: `${NODE} ${UPSTREAM} --frontend-port 0 --backend-port 0 --exit 7 --after 1500`,
            },
          },
        }),
      });
      const run = dev(['--no-restart', '--log', 'json'], { cwd: proj.dir });
      const grandchild = await run.waitForEvent(listeningPid('server', 'backend'), 'the server\'s grandchild listening');
      const child = await run.waitForEvent(listeningPid('server', 'frontend'), 'the server listening');
      const { code } = await within(run.exited, 20_000, 'rxroute dev --no-restart did not exit after its child did');
      expect(code).toBe(7);
      expect(run.events().some((seen) => seen.value.event === 'process.exit' && seen.value.name === 'quitter' && seen.value.code === 7)).toBe(true);
      expect(run.events().filter((seen) => seen.value.event === 'process.start' && seen.value.name === 'quitter')).toHaveLength(1);
      await expectNothingLeft(run, [child.value, grandchild.value], [port, frontendPort, backendPort]);
    });

    it('-- CMD with --no-restart exits with the command\'s own exit code', async () => {
      const { code } = await devToEnd(['--port', String(await freePort()), '--backend', `http://127.0.0.1:${await freePort()}`, '--no-restart', '--', NODE, UPSTREAM, '--exit', '42'], { cwd: project().dir });
      expect(code).toBe(42);
    });

    it('SIGTERM stops the child and its grandchild, closes every port, exits 0', async () => {
      const port = await freePortWithRoom();
      const backendPort = await freePort();
      const run = dev(['--port', String(port), '--backend', `http://127.0.0.1:${backendPort}`, '--log', 'json', '--', NODE, UPSTREAM, '--grandchild'], { cwd: project().dir });
      await run.waitForEvent(isEvent('ready'), 'ready event');
      const child = await run.waitForEvent(listeningPid('node', 'frontend'), 'the child listening');
      const grandchild = await run.waitForEvent(listeningPid('node', 'backend'), 'the grandchild listening');
      expect(grandchild.value).not.toBe(child.value);
      expect((await get(`http://127.0.0.1:${port}/ping`)).json()).toMatchObject({ side: 'backend', pid: grandchild.value, role: 'backend' });
      run.signal('SIGTERM');
      const { code, signal } = await within(run.exited, 15_000, 'rxroute dev did not exit after SIGTERM');
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      await expectNothingLeft(run, [child.value, grandchild.value], [port, port + 1, backendPort]);
    });

    it('Ctrl+C (SIGINT): a tree that ignores SIGTERM is killed after the grace period, exit 0', { timeout: 40_000 }, async () => {
      const port = await freePortWithRoom();
      const backendPort = await freePort();
      const run = dev(['--port', String(port), '--backend', `http://127.0.0.1:${backendPort}`, '--log', 'json', '--', NODE, UPSTREAM, '--grandchild', '--ignore-term'], { cwd: project().dir });
      await run.waitForEvent(isEvent('ready'), 'ready event');
      const child = await run.waitForEvent(listeningPid('node', 'frontend'), 'the child listening');
      const grandchild = await run.waitForEvent(listeningPid('node', 'backend'), 'the grandchild listening');
      const sentAt = performance.now();
      run.signal('SIGINT');
      // SIGTERM reached both (they say they ignore it), then SIGKILL ended them.
      await run.waitForEvent(output('node', new RegExp(`^fixture main pid ${child.value} ignores SIGTERM$`)), 'the child saying it ignores SIGTERM');
      await run.waitForEvent(output('node', new RegExp(`^fixture backend pid ${grandchild.value} ignores SIGTERM$`)), 'the grandchild saying it ignores SIGTERM');
      const { code } = await within(run.exited, 20_000, 'rxroute dev did not exit after SIGINT');
      const tookMs = performance.now() - sentAt;
      console.log(`rxroute dev (${runtime}): SIGINT → exit with a SIGTERM-ignoring tree took ${Math.round(tookMs)} ms`);
      expect(code).toBe(0);
      expect(tookMs).toBeGreaterThanOrEqual(4000);
      await expectNothingLeft(run, [child.value, grandchild.value], [port, port + 1, backendPort]);
    });

    it('-- a command not on PATH: one error line and a hint, exit 2, nothing left', async () => {
      const port = await freePort();
      const { run, code, stderr } = await devToEnd(['--port', String(port), '--', 'nosuchcmd-rxroute-test', '--flag'], { cwd: project().dir });
      expect(code).toBe(2);
      const lines = stderr.trim().split('\n');
      expect(lines.filter((line) => line.startsWith('rxroute: error:'))).toEqual([expect.stringMatching(/^rxroute: error: nosuchcmd-rxroute-test not found on PATH/)]);
      expect(lines.some((line) => line.startsWith('hint: '))).toBe(true);
      expect(stderr).not.toMatch(/^\s+at |node:internal/m);
      await expectNothingLeft(run, [], [port]);
    });

    it('reflex not on PATH in a split_dev project: exit 2 naming reflex, and runserver is not left running', async () => {
      const port = await freePortWithRoom();
      const djangoPort = await freePort();
      const proj = project({
        'rxconfig.py': splitDevRxconfig(djangoPort, `frontend_port=${port}`, `backend_port=${await freePort()}`),
        // Would serve Django's port if it were started and left behind.
        'manage.py': `import sys, http.server\nport = int(sys.argv[-1].rsplit(":", 1)[1])\nhttp.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler).serve_forever()\n`,
      });
      const { run, code, stderr } = await devToEnd([], { cwd: proj.dir, env: { PATH: '/usr/bin:/bin', VIRTUAL_ENV: undefined } });
      expect(code).toBe(2);
      expect(stderr).toMatch(/^rxroute: error: reflex not found on PATH/m);
      expect(stderr).toMatch(/^hint: /m);
      await expectNothingLeft(run, [], [port, port + 1, djangoPort]);
    });

    it('no rxconfig.py, no dev.processes, no --: exit 2 saying to run it in the Reflex project or pass -- CMD', async () => {
      const { code, stderr } = await devToEnd(['--port', String(await freePort())], { cwd: project().dir });
      expect(code).toBe(2);
      expect(stderr).toMatch(/^rxroute: error: .*rxconfig\.py/m);
      expect(stderr).toMatch(/-- CMD/);
    });

    it('a child flooding 200k lines: every line relayed, rxroute keeps serving, RSS stays bounded', { timeout: 90_000 }, async () => {
      const port = await freePortWithRoom();
      const backendPort = await freePort();
      const total = 200_000;
      const run = dev(['--port', String(port), '--backend', `http://127.0.0.1:${backendPort}`, '--log', 'json', '--', NODE, UPSTREAM, '--flood', String(total)], { cwd: project().dir, keep: 500 });
      await listeningPort(run);
      const rss = watchRss(rssOrZero(run), 50);
      let served = 0;
      let flooding = true;
      const done = run.waitForEvent(output('node', /^flood done$/), '"flood done" from the child', 80_000).finally(() => {
        flooding = false;
      });
      while (flooding) {
        const [health, page] = await within(Promise.all([get(`http://127.0.0.1:${port}/__rxroute/health`), get(`http://127.0.0.1:${port}/during-flood`)]), 10_000, 'rxroute stopped answering during the flood');
        expect([health.status, page.status]).toEqual([200, 200]);
        served++;
        await sleep(100);
      }
      await done;
      const memory = rss.stop();
      console.log(`rxroute dev (${runtime}) flood: ${run.outputCount('node')} output lines, ${served} request pairs served meanwhile, RSS ${(memory.baselineBytes / MB).toFixed(0)} → ${(memory.peakBytes / MB).toFixed(0)} MB`);
      const floodLines = run.outputCount('node');
      expect(floodLines).toBeGreaterThanOrEqual(total + 1);
      expect(served).toBeGreaterThan(0);
      expect(memory.growthBytes).toBeLessThan(150 * MB);
      expect((await get(`http://127.0.0.1:${port}/after-flood`)).json()).toMatchObject({ url: '/after-flood' });
    });

    it('a stalled terminal (stdout not read) while a child floods: rxroute keeps serving, memory stays bounded, no line lost', { timeout: 90_000 }, async () => {
      const port = await freePortWithRoom();
      const backendPort = await freePort();
      const total = 200_000;
      const run = dev(['--port', String(port), '--backend', `http://127.0.0.1:${backendPort}`, '--log', 'json', '--', NODE, UPSTREAM, '--flood', String(total)], { cwd: project().dir, keep: 500 });
      await run.waitForEvent(output('node', /^fixture-listening backend /), 'the child listening');
      const rss = watchRss(rssOrZero(run), 50);
      const answers: number[] = [];
      run.pauseStdout();
      try {
        // rxroute's stdout pipe is full within a few ms; for 4 s nobody reads it.
        const until = performance.now() + 4000;
        while (performance.now() < until) {
          const startedAt = performance.now();
          const [health, page] = await within(Promise.all([get(`http://127.0.0.1:${port}/__rxroute/health`), get(`http://127.0.0.1:${port}/while-stalled`)]), 10_000, `rxroute stopped answering while its stdout was not read (${answers.length} request pairs answered before)`);
          expect([health.status, page.status]).toEqual([200, 200]);
          answers.push(Math.round(performance.now() - startedAt));
          await sleep(200);
        }
      } finally {
        run.resumeStdout();
      }
      await run.waitForEvent(output('node', /^flood done$/), '"flood done" once stdout is read again', 80_000);
      const memory = rss.stop();
      console.log(`rxroute dev (${runtime}) stalled stdout: ${answers.length} request pairs answered in ${answers.join(', ')} ms; RSS ${(memory.baselineBytes / MB).toFixed(0)} → ${(memory.peakBytes / MB).toFixed(0)} MB; ${run.outputCount('node')} lines`);
      expect(answers.length).toBeGreaterThanOrEqual(5);
      expect(memory.growthBytes).toBeLessThan(150 * MB);
      expect(run.outputCount('node')).toBeGreaterThanOrEqual(total + 1);
    });

    describe('rxconfig.py', () => {
      it('frontend_port and backend_port: rxroute listens on frontend_port, reflex gets the ports and REFLEX_API_URL', async () => {
        const port = await freePortWithRoom();
        const backendPort = await freePort();
        const proj = project({ 'rxconfig.py': rxconfig(`frontend_port=${port}`, `backend_port=${backendPort}`) });
        proj.fakeReflex('bin');
        const run = dev(['--log', 'json'], { cwd: proj.dir, env: { PATH: pathWith(join(proj.dir, 'bin')) } });
        expect(await listeningPort(run)).toBe(port);
        const start = await run.waitForEvent((event) => event.event === 'process.start' && event.name === 'reflex' && event, 'process.start of reflex');
        expect(String(start.value.command)).toMatch(new RegExp(`reflex run --frontend-port ${port + 1} --backend-port ${backendPort}$`));
        await run.waitForEvent(isEvent('ready'), 'ready event');
        const page = (await get(`http://127.0.0.1:${port}/`)).json();
        expect(page.argv).toEqual(['run', '--frontend-port', String(port + 1), '--backend-port', String(backendPort)]);
        expect(page.env).toMatchObject({ REFLEX_API_URL: `http://localhost:${port}`, REFLEX_FRONTEND_PORT: String(port + 1), REFLEX_BACKEND_PORT: String(backendPort) });
        expect((await get(`http://127.0.0.1:${port}/_event/?EIO=4&transport=polling`)).json()).toMatchObject({ side: 'backend' });
      });

      it('frontend_port unset and --port given: --port wins, Vite goes just above it, backend_port still read', async () => {
        const port = await freePortWithRoom();
        const backendPort = await freePort();
        const proj = project({ 'rxconfig.py': rxconfig(`backend_port=${backendPort}`) });
        proj.fakeReflex('bin');
        const run = dev(['--port', String(port), '--log', 'json'], { cwd: proj.dir, env: { PATH: pathWith(join(proj.dir, 'bin')) } });
        expect(await listeningPort(run)).toBe(port);
        await run.waitForEvent(isEvent('ready'), 'ready event');
        expect((await get(`http://127.0.0.1:${port}/`)).json().argv).toEqual(['run', '--frontend-port', String(port + 1), '--backend-port', String(backendPort)]);
      });

      it('os.getenv / os.environ.get with defaults, and reflex from ./.venv/bin', async () => {
        const port = await freePortWithRoom();
        const backendPort = await freePort();
        const proj = project({
          'rxconfig.py':
            'import os\n' +
            rxconfig('frontend_port=int(os.getenv("FIXTURE_FRONTEND_PORT", "3000"))', `backend_port=int(os.environ.get("FIXTURE_BACKEND_PORT", ${backendPort}))`),
        });
        addVenv(proj);
        proj.fakeReflex('.venv/bin');
        // reflex only in .venv/bin; FIXTURE_BACKEND_PORT unset, so its default applies.
        const run = dev(['--log', 'json'], { cwd: proj.dir, env: { FIXTURE_FRONTEND_PORT: String(port) } });
        expect(await listeningPort(run)).toBe(port);
        await run.waitForEvent(isEvent('ready'), 'ready event');
        const page = (await get(`http://127.0.0.1:${port}/`)).json();
        expect(page.argv).toEqual(['run', '--frontend-port', String(port + 1), '--backend-port', String(backendPort)]);
        expect(page.env.FIXTURE_FRONTEND_PORT).toBe(String(port));
      });

      it('a value it cannot evaluate: a note naming it, the others still read, rxroute runs', async () => {
        const port = await freePortWithRoom();
        const backendPort = await freePort();
        const proj = project({ 'rxconfig.py': 'import reflex as rx\nfrom ports import pick\n\n' + rxconfig('frontend_port=pick()', `backend_port=${backendPort}`).replace('import reflex as rx\n\n', '') });
        proj.fakeReflex('bin');
        const run = dev(['--port', String(port)], { cwd: proj.dir, env: { PATH: pathWith(join(proj.dir, 'bin')) } });
        await run.waitForLine(readyMs, 'a ready line');
        expect(`${run.lines().join('\n')}\n${run.stderr()}`).toMatch(/rxconfig\.py.*frontend_port|frontend_port.*rxconfig\.py/);
        expect((await get(`http://127.0.0.1:${port}/`)).json().argv).toEqual(['run', '--frontend-port', String(port + 1), '--backend-port', String(backendPort)]);
      });

      it('a syntax error: one note, defaults used, flags still apply', async () => {
        const port = await freePortWithRoom();
        const backendPort = await freePort();
        const proj = project({ 'rxconfig.py': 'import reflex as rx\n\nconfig = rx.Config(\n    app_name="myapp",\n    frontend_port=\n' });
        proj.fakeReflex('bin');
        const run = dev(['--port', String(port), '--backend', `http://127.0.0.1:${backendPort}`], { cwd: proj.dir, env: { PATH: pathWith(join(proj.dir, 'bin')) } });
        await run.waitForLine(readyMs, 'a ready line');
        const notes = `${run.lines().join('\n')}\n${run.stderr()}`.split('\n').filter((line) => /rxconfig\.py/.test(line));
        expect(notes.length).toBeGreaterThanOrEqual(1);
        expect(notes.join('\n')).not.toMatch(/Traceback|^\s+File "/m);
        expect((await get(`http://127.0.0.1:${port}/`)).json().argv).toEqual(['run', '--frontend-port', String(port + 1), '--backend-port', String(backendPort)]);
      });

      it('no Python at all: a note, defaults used, rxroute runs', async () => {
        const port = await freePortWithRoom();
        const backendPort = await freePort();
        const proj = project({ 'rxconfig.py': rxconfig(`frontend_port=${port + 100}`) });
        proj.fakeReflex('bin');
        // Only the fake reflex on PATH: no python3, no .venv, no VIRTUAL_ENV.
        const run = dev(['--port', String(port), '--backend', `http://127.0.0.1:${backendPort}`], { cwd: proj.dir, env: { PATH: join(proj.dir, 'bin'), VIRTUAL_ENV: undefined } });
        await run.waitForLine(readyMs, 'a ready line');
        expect(`${run.lines().join('\n')}\n${run.stderr()}`).toMatch(/python/i);
        expect((await get(`http://127.0.0.1:${port}/`)).json().argv).toEqual(['run', '--frontend-port', String(port + 1), '--backend-port', String(backendPort)]);
      });
    });
  });
}
