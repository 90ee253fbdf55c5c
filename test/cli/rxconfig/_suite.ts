import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, command, type Runtime } from '../../_helpers/router-process.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Runs rxroute to completion in `cwd` with the test's clean environment plus `env`. */
function rxroute(runtime: Runtime, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const { file, args: launch } = command(runtime);
  const base = cleanEnv();
  delete base.VIRTUAL_ENV;
  return new Promise((resolve) => {
    execFile(file, [...launch, ...args], { cwd, env: { ...base, PATH: '/usr/bin:/bin', ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, lines: stdout.trimEnd().split('\n') });
    });
  });
}

/** A temp Reflex project holding rxconfig.py (and any other files). */
function project(rxconfig: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'rxroute-rxconfig-cli-'));
  writeFileSync(join(dir, 'rxconfig.py'), rxconfig);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  return dir;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const BACKEND_8002 = `import os
import reflex as rx

config = rx.Config(
    app_name="myapp",
    backend_port=int(os.getenv("BACKEND_PORT", "8002")),
    plugins=[rx.plugins.SitemapPlugin()],
)
`;

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at |\.ts:\d+|node:internal|Traceback/m);

/** rxconfig.py as a config source (DESIGN §10) for routes, doctor and export, per runtime. */
export function addRxconfigTests(runtime: Runtime): void {
  describe(`rxconfig.py on the command line (${runtime})`, { concurrent: true }, () => {
    it('rxroute routes shows rxconfig.py:N backend_port as the backend source', async () => {
      const run = await rxroute(runtime, ['routes'], project(BACKEND_8002));
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.lines).toContainEqual(expect.stringMatching(/^ {2}\/_event\s+backend\s+http:\/\/127\.0\.0\.1:8002\s+reflex path/));
      const upstreams = run.lines.slice(run.lines.indexOf('upstreams:') + 1);
      expect(upstreams).toEqual([
        '  frontend  http://127.0.0.1:3001  default',
        '  backend   http://127.0.0.1:8002  rxconfig.py:6 backend_port',
        '  django    http://127.0.0.1:8002  same as backend (profile integrated)',
      ]);
    });

    it('evaluates os.getenv against rxroute\'s environment, and flags still win', async () => {
      const fromEnv = await rxroute(runtime, ['routes', '/_event'], project(BACKEND_8002), { BACKEND_PORT: '8123' });
      expect(fromEnv.stdout).toMatch(/^\/_event\s+→ backend\s+http:\/\/127\.0\.0\.1:8123\s/);
      const flag = await rxroute(runtime, ['routes', '--backend', 'http://127.0.0.1:9000'], project(BACKEND_8002));
      expect(flag.lines).toContain('  backend   http://127.0.0.1:9000  from --backend');
    });

    it('a syntax error is a note on stderr: exit 0, defaults used', async () => {
      const run = await rxroute(runtime, ['routes'], project('import reflex as rx\n\nconfig = rx.Config(app_name="a",\n'));
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/^rxroute: note: rxconfig\.py:3: not read \(syntax error: [^\n]+\); using defaults\n$/);
      expect(run.lines).toContain('  backend   http://127.0.0.1:8000  default');
      noStackTrace(run.stderr);
    });

    it('a value it cannot evaluate is a note naming the line and key', async () => {
      const run = await rxroute(runtime, ['routes'], project('import reflex as rx\nconfig = rx.Config(app_name="a", backend_port=compute(), frontend_port=3005)\n'));
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('rxroute: note: rxconfig.py:2 backend_port: skipped (not a literal or env lookup: calls compute())\n');
      expect(run.lines).toContain('  frontend  http://127.0.0.1:3005  rxconfig.py:2 frontend_port');
    });

    it('a bad value from rxconfig.py exits 2 naming rxconfig.py:N backend_port', async () => {
      const run = await rxroute(runtime, ['routes'], project('import reflex as rx\n\nconfig = rx.Config(\n    app_name="a",\n    backend_port="abc",\n)\n'));
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([
        'rxroute: error: backend must be an http:// or https:// URL (got "http://127.0.0.1:abc") rxconfig.py:5 backend_port',
        'hint: fix the values above; `rxroute --help` lists every option',
      ]);
      noStackTrace(run.stderr);
    });

    it('plain rxroute whose frontend upstream is its own port exits 2 naming both settings and rxroute dev', async () => {
      const port = await freePort();
      const dir = project(`import reflex as rx\n\nconfig = rx.Config(\n    app_name="myapp",\n    frontend_port=${port},\n)\n`);
      const run = await rxroute(runtime, [], dir, { RXROUTE_PORT: String(port) });
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([
        `rxroute: error: the frontend upstream http://127.0.0.1:${port} (rxconfig.py:5 frontend_port) is rxroute's own port ${port} (from RXROUTE_PORT): rxroute would proxy to itself`,
        `hint: run rxroute dev, which moves Vite to a free port, or set frontend_port to another port (e.g. ${port + 1}) in rxconfig.py / pass --port`,
      ]);
      noStackTrace(run.stderr);
    });

    it('no Python on PATH and no .venv: one note, defaults', async () => {
      const run = await rxroute(runtime, ['routes'], project(BACKEND_8002), { PATH: '/nonexistent' });
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('rxroute: note: rxconfig.py not read: no Python found (.venv, $VIRTUAL_ENV, python3); using defaults\n');
      expect(run.lines).toContain('  backend   http://127.0.0.1:8000  default');
    });

    it("prefers the project's .venv/bin/python", async () => {
      const dir = project(BACKEND_8002);
      mkdirSync(join(dir, '.venv/bin'), { recursive: true });
      symlinkSync('/usr/bin/python3', join(dir, '.venv/bin/python'));
      const run = await rxroute(runtime, ['doctor', '--port', String(await freePort())], dir, { PATH: '/nonexistent' });
      const ok = run.lines.find((l) => /^ok\s+rxconfig\.py\s/.test(l));
      expect(ok).toMatch(new RegExp(`read with ${join(dir, '.venv/bin/python').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: frontend_port unset, backend_port=8002 \\(line 6\\)$`));
    });

    it('ReflexDjangoPlugin: profile and proxy.server from rxconfig.py, proxy.enabled=False leaves rxroute on', async () => {
      const dir = project(`import reflex as rx
from reflex_django import ReflexDjangoPlugin

config = rx.Config(
    app_name="myapp",
    plugins=[
        ReflexDjangoPlugin(config={"profile": "split_dev", "proxy": {"server": "http://127.0.0.1:8001", "enabled": False, "separate_dev_ports": False}}),
    ],
)
`);
      const run = await rxroute(runtime, ['routes'], dir);
      expect(run.code).toBe(0);
      expect(run.lines[0]).toBe('profile split_dev; first match wins');
      expect(run.lines).toContain('  django    http://127.0.0.1:8001  rxconfig.py:7 ReflexDjangoPlugin proxy.server');
    });

    it('doctor: warns that plain rxroute would proxy to its own port, and about an api_url that bypasses rxroute', async () => {
      const port = await freePort();
      const dir = project(`import reflex as rx

config = rx.Config(
    app_name="myapp",
    frontend_port=${port},
    api_url="http://localhost:8000",
)
`);
      const run = await rxroute(runtime, ['doctor', '--port', String(port)], dir);
      expect(run.stderr).toBe('');
      const find = (re: RegExp) => run.lines.find((l) => re.test(l));
      expect(find(/^ok\s+config\s/)).toContain('rxconfig.py, environment and flags are valid');
      expect(find(/^ok\s+rxconfig\.py\s/)).toMatch(
        new RegExp(`read with /usr/bin/python3: frontend_port=${port} \\(line 5\\), backend_port unset, api_url=http://localhost:8000 \\(line 6\\)$`),
      );
      expect(find(/^warn\s+config\s/)?.replace(/^warn\s+config\s+/, '')).toBe(
        `plain rxroute: the frontend upstream http://127.0.0.1:${port} (rxconfig.py:5 frontend_port) is rxroute's own port ${port} (from --port): rxroute would proxy to itself` +
          ` → run rxroute dev, which moves Vite to a free port, or set frontend_port to another port (e.g. ${port + 1}) in rxconfig.py / pass --port`,
      );
      expect(find(/^warn\s+api_url\s/)?.replace(/^warn\s+api_url\s+/, '')).toBe(
        `api_url=http://localhost:8000 (rxconfig.py:6) points the browser at http://localhost:8000, not at rxroute (http://localhost:${port})` +
          ` → run rxroute dev (it sets REFLEX_API_URL=http://localhost:${port}), or start reflex with REFLEX_API_URL=http://localhost:${port}, which overrides api_url`,
      );
    });

    it('doctor: shows notes as warnings and says when a value was overridden', async () => {
      const dir = project('import reflex as rx\nconfig = rx.Config(app_name="a", frontend_port=get_port(), backend_port=8002, api_url=f"http://localhost:{3000}")\n');
      const run = await rxroute(runtime, ['doctor', '--port', '3000', '--backend', 'http://127.0.0.1:9001'], dir);
      expect(run.lines).toContainEqual(expect.stringMatching(/^warn\s+rxconfig\.py\s+rxconfig\.py:2 frontend_port: skipped \(not a literal or env lookup: calls get_port\(\)\) → /));
      expect(run.lines).toContainEqual(expect.stringMatching(/backend_port=8002 \(line 2; overridden from --backend\)/));
      expect(run.lines).toContainEqual(expect.stringMatching(/^ok\s+api_url\s+api_url=http:\/\/localhost:3000 \(rxconfig\.py:2\) points the browser at rxroute$/));
      // REFLEX_API_URL is what Reflex uses when it is set.
      const env = await rxroute(runtime, ['doctor', '--port', '3000'], dir, { REFLEX_API_URL: 'http://localhost:8000' });
      expect(env.lines).toContainEqual(
        expect.stringMatching(/^warn\s+api_url\s+REFLEX_API_URL=http:\/\/localhost:8000 \(it overrides rxconfig\.py:2 api_url\) points the browser at http:\/\/localhost:8000, not at rxroute \(http:\/\/localhost:3000\) → /),
      );
    });

    it('doctor --https: an http:// api_url on rxroute\'s port is a warning (mixed content), an https:// one is ok', async () => {
      const dir = project('import reflex as rx\nconfig = rx.Config(app_name="a", frontend_port=3001, api_url="http://localhost:3000")\n');
      const data = { RXROUTE_DATA_DIR: `${dir}/.rxroute-data` };
      const plain = await rxroute(runtime, ['doctor', '--https', '--port', '3000'], dir, { ...data, REFLEX_API_URL: 'http://localhost:3000' });
      expect(plain.lines).toContainEqual(
        expect.stringMatching(/^warn\s+api_url\s+REFLEX_API_URL=http:\/\/localhost:3000 .* is http:\/\/, but rxroute serves https \(https:\/\/localhost:3000\).* → run rxroute dev \(it sets REFLEX_API_URL=https:\/\/localhost:3000\)/),
      );
      const secure = await rxroute(runtime, ['doctor', '--https', '--port', '3000'], dir, { ...data, REFLEX_API_URL: 'https://localhost:3000' });
      expect(secure.lines).toContainEqual(expect.stringMatching(/^ok\s+api_url\s+REFLEX_API_URL=https:\/\/localhost:3000 .* points the browser at rxroute$/));
    });

    it('doctor in a stock project: nothing set, and Vite would land on rxroute\'s port 3000', async () => {
      const run = await rxroute(runtime, ['doctor'], project('import reflex as rx\n\nconfig = rx.Config(app_name="myapp", plugins=[rx.plugins.SitemapPlugin()])\n'));
      const rx = run.lines.filter((l) => /^\w+\s+rxconfig\.py\s/.test(l)).map((l) => l.replace(/\s{2,}/g, '  '));
      expect(rx).toEqual([
        'ok  rxconfig.py  read with /usr/bin/python3: frontend_port unset, backend_port unset',
        "warn  rxconfig.py  frontend_port unset: reflex run puts Vite on 3000, rxroute's port (it moves to the next free one only when rxroute is already listening) → run rxroute dev, or set frontend_port=3001 in rxconfig.py for plain rxroute",
      ]);
    });

    it('export: rxconfig.py values feed the edge config and are named in its header', async () => {
      const run = await rxroute(runtime, ['export', 'nginx'], project(BACKEND_8002));
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('127.0.0.1:8002');
      expect(run.stdout).toContain('rxconfig.py backend_port (line 6)');
    });
  });
}
