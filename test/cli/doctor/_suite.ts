import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, command, startRouter, type Runtime } from '../../_helpers/router-process.ts';
import { freePort, twoFreePorts } from '../../_helpers/tcp.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Runs `rxroute doctor …` to completion in `cwd`, with the test's clean environment. */
function doctor(runtime: Runtime, args: string[], cwd: string): Promise<Run> {
  const { file, args: launch } = command(runtime);
  return new Promise((resolve) => {
    execFile(file, [...launch, 'doctor', ...args], { cwd, env: cleanEnv(), timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, lines: stdout.trimEnd().split('\n') });
    });
  });
}

/** A temp project directory holding the given files (path → content). */
function project(files: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'rxroute-doctor-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const line = (run: Run, level: string, check: string) =>
  run.lines.find((l) => new RegExp(`^${level}\\s+${check.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s{2}`).test(l));

/** `rxroute doctor` (DESIGN §8) as a user runs it in a project directory, per runtime. */
export function addDoctorTests(runtime: Runtime): void {
  describe(`rxroute doctor (${runtime})`, { concurrent: true }, () => {
    const servers: http.Server[] = [];
    const ports = { frontend: 0, backend: 0, django: 0 };
    let upstreamFlags: string[] = [];

    beforeAll(async () => {
      for (const name of ['frontend', 'backend', 'django'] as const) {
        const server = http.createServer((_req, res) => res.end(name));
        servers.push(server);
        ports[name] = await listen(server);
      }
      upstreamFlags = Object.entries(ports).flatMap(([name, port]) => [`--${name}`, `http://127.0.0.1:${port}`]);
    });
    afterAll(() => servers.forEach((s) => s.close()));

    it('exits 0 with an ok line per check when every upstream is up and the port is free', async () => {
      const port = await freePort();
      const run = await doctor(runtime, ['--port', String(port), ...upstreamFlags], project());
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(line(run, 'ok', 'config')).toContain('(profile split_dev)');
      expect(line(run, 'ok', 'port')).toContain(`port ${port} on 127.0.0.1 is free`);
      for (const [name, upstreamPort] of Object.entries(ports)) {
        expect(line(run, 'ok', name)).toContain(`http://127.0.0.1:${upstreamPort} accepts connections`);
      }
      expect(run.lines.filter((l) => /^(warn|fail)\b/.test(l))).toEqual([]);
      expect(run.lines.at(-1)).toBe('rxroute doctor: all 5 checks ok');
    });

    it('exits 1 naming the upstream that is down and the command that starts it', async () => {
      const [port, down] = await twoFreePorts();
      const run = await doctor(
        runtime,
        ['--port', String(port), '--frontend', `http://127.0.0.1:${ports.frontend}`, '--backend', `http://127.0.0.1:${down}`],
        project(),
      );
      expect(run.code).toBe(1);
      // Profile integrated: Django lives in the backend, so both roles share one probe and one hint.
      expect(line(run, 'fail', 'backend, django')).toBe(
        `fail  backend, django  down: http://127.0.0.1:${down} refused the connection → start the Reflex backend: reflex run --backend-only --backend-port ${down}`,
      );
      expect(line(run, 'ok', 'frontend')).toBeDefined();
      expect(run.lines.at(-1)).toMatch(/^rxroute doctor: 1 check failed, 3 ok: fix the failures above/);
    });

    it('names a separate Django server that is down and how to start it', async () => {
      const [port, down] = await twoFreePorts();
      const run = await doctor(runtime, ['--port', String(port), ...upstreamFlags.slice(0, 4), '--django', `http://127.0.0.1:${down}`], project());
      expect(run.code).toBe(1);
      expect(line(run, 'fail', 'django')).toContain(`→ start Django: python manage.py runserver ${down}`);
    });

    it('fails naming the port when another process holds it, and suggests a free one', async () => {
      const blocker = http.createServer((_req, res) => res.end('not rxroute'));
      const taken = await listen(blocker);
      try {
        const run = await doctor(runtime, ['--port', String(taken), ...upstreamFlags], project());
        expect(run.code).toBe(1);
        const fail = line(run, 'fail', 'port');
        expect(fail).toContain(`port ${taken} on 127.0.0.1 is already in use by another process`);
        const suggested = Number(/rxroute --port (\d+)/.exec(fail ?? '')?.[1]);
        expect(suggested).toBeGreaterThan(taken);
        expect(Object.values(ports)).not.toContain(suggested);
      } finally {
        blocker.close();
      }
    });

    it('says ok when the port is held by a running rxroute', async () => {
      const router = await startRouter(runtime, ['--port', '0', '--log', 'json', ...upstreamFlags]);
      try {
        const run = await doctor(runtime, ['--port', String(router.port), ...upstreamFlags], project());
        expect(run.code).toBe(0);
        expect(line(run, 'ok', 'port')).toMatch(new RegExp(`port ${router.port} on 127\\.0\\.0\\.1 is rxroute \\d+\\.\\d+\\.\\d+, already running`));
      } finally {
        await router.stop();
      }
    });

    it('prints the REFLEX_API_URL to set when .web/env.json points the browser at the backend', async () => {
      const port = await freePort();
      const backend = `localhost:${ports.backend}`;
      const stale = project({
        '.web/env.json': {
          PING: `http://${backend}/ping`,
          EVENT: `ws://${backend}/_event`,
          UPLOAD: `http://${backend}/_upload`,
          TRANSPORT: 'websocket',
          TEST_MODE: false,
        },
      });
      const run = await doctor(runtime, ['--port', String(port), ...upstreamFlags], stale);
      expect(run.code).toBe(0); // the app still works, through the backend port: a warning
      expect(line(run, 'warn', '.web/env.json')).toContain(
        `PING, EVENT, UPLOAD point the browser at the Reflex backend (port ${ports.backend}), not at rxroute (port ${port}) → set REFLEX_API_URL=http://localhost:${port} and restart reflex run`,
      );

      const fixed = project({ '.web/env.json': { PING: `http://localhost:${port}/ping`, EVENT: `ws://localhost:${port}/_event` } });
      const ok = await doctor(runtime, ['--port', String(port), ...upstreamFlags], fixed);
      expect(ok.code).toBe(0);
      expect(line(ok, 'ok', '.web/env.json')).toContain(`PING, EVENT point the browser at rxroute (port ${port})`);
    });

    it('prints the Django settings to add for a route that rewrites Host', async () => {
      const port = await freePort();
      const dir = project({ 'rxroute.json': { routes: [{ prefix: '/graphql', to: 'django', change_origin: true }] } });
      const run = await doctor(runtime, ['--port', String(port), ...upstreamFlags], dir);
      expect(run.code).toBe(0);
      const settings = run.lines.filter((l) => /^warn\s+django settings/.test(l));
      expect(settings).toHaveLength(2);
      expect(settings[0]).toContain(`/graphql (routes[0]) sends Host 127.0.0.1:${ports.django} (change_origin)`);
      expect(settings[0]).toContain(`→ add to settings.py: CSRF_TRUSTED_ORIGINS = ["http://localhost:${port}"]`);
      expect(settings[1]).toContain('→ add to settings.py: ALLOWED_HOSTS = ["localhost", "127.0.0.1"]');
      expect(run.lines.at(-1)).toMatch(/^rxroute doctor: no failures \(2 warnings, 5 ok\)/);
    });

    it('prints SECURE_PROXY_SSL_HEADER with --https, and https origins for CSRF_TRUSTED_ORIGINS', async () => {
      const port = await freePort();
      const dir = project({ 'rxroute.json': { https: true, routes: [{ prefix: '/graphql', to: 'django', change_origin: true }] } });
      const run = await doctor(runtime, ['--port', String(port), ...upstreamFlags], dir);
      const settings = run.lines.filter((l) => /^warn\s+django settings/.test(l));
      expect({ code: run.code, count: settings.length }).toEqual({ code: 0, count: 3 });
      expect(settings[0]).toContain(`CSRF_TRUSTED_ORIGINS = ["https://localhost:${port}"]`);
      expect(settings[2]).toContain('X-Forwarded-Proto: https');
      expect(settings[2]).toContain('→ add to settings.py: SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")');
    });

    it('exits 2 with the usual error lines for a bad config', async () => {
      const run = await doctor(runtime, [], project({ 'rxroute.json': { prot: 3000 } }));
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([
        'rxroute: error: unknown key "prot" in rxroute.json (did you mean "port"?)',
        'hint: fix the values above; `rxroute --help` lists every option',
      ]);
    });

    it('writes one JSON object per finding with --log json', async () => {
      const [port, down] = await twoFreePorts();
      const run = await doctor(runtime, ['--log', 'json', '--port', String(port), ...upstreamFlags.slice(0, 2), '--backend', `http://127.0.0.1:${down}`], project());
      expect(run.code).toBe(1);
      const objects = run.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(objects).toContainEqual({
        event: 'doctor',
        level: 'fail',
        check: 'backend, django',
        message: `down: http://127.0.0.1:${down} refused the connection`,
        fix: `start the Reflex backend: reflex run --backend-only --backend-port ${down}`,
      });
      expect(objects.at(-1)).toEqual({ event: 'doctor.summary', ok: 3, warn: 0, fail: 1, exitCode: 1 });
    });
  });
}
