import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { problems } from '../_helpers/config-problems.ts';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSync, which } from '../../src/adapters/child-process.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { loadCliConfigWithSources, type CliConfig } from '../../src/cli/load-cli-config.ts';
import { formatUpstreamSources, upstreamSources } from '../../src/cli/route-listing.ts';
import { findPython, type RxconfigRuntime } from '../../src/dev/rxconfig.ts';
import type { Runtime } from '../../src/runtime.ts';

// Real Python (Debian's /usr/bin/python3 unless a test says otherwise) reads
// real rxconfig.py files in temp project directories.

const SYSTEM_PATH = '/usr/bin:/bin';
const PY38 = '/root/.pyenv/versions/3.8.18/bin/python3';

interface Project {
  dir: string;
  runtime: RxconfigRuntime;
}

function project(files: Record<string, string>, env: Record<string, string | undefined> = {}): Project {
  const dir = mkdtempSync(join(tmpdir(), 'rxroute-rxconfig-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const at = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  const runtime: RxconfigRuntime = {
    platform: process.platform,
    env: { PATH: SYSTEM_PATH, ...env },
    cwd: () => dir,
    readTextFile: (p) => (existsSync(at(p)) ? readFileSync(at(p), 'utf8') : undefined),
    fileExists: (p) => existsSync(at(p)),
    which,
    runSync,
  };
  return { dir, runtime };
}

function load(p: Project, argv: string[] = [], mode: 'run' | 'dev' = 'run'): CliConfig {
  return loadCliConfigWithSources(parseArgs(argv), p.runtime as Runtime, mode);
}


const STOCK = `import reflex as rx

config = rx.Config(app_name="myapp", plugins=[rx.plugins.SitemapPlugin()])
`;

describe('rxconfig.py: values read without running it', () => {
  it('a stock rxconfig.py sets nothing: defaults, no notes', () => {
    const r = load(project({ 'rxconfig.py': STOCK }));
    expect(r.notes).toEqual([]);
    expect(r.rxconfig).toEqual({ path: 'rxconfig.py', python: '/usr/bin/python3' });
    expect([r.config.port, r.config.frontend, r.config.backend, r.config.profile]).toEqual([3000, 'http://127.0.0.1:3001', 'http://127.0.0.1:8000', 'integrated']);
  });

  it('no rxconfig.py: not a Reflex project, no note', () => {
    const r = load(project({}));
    expect(r).toMatchObject({ notes: [], rxconfig: undefined });
  });

  it('frontend_port=3000: the frontend upstream in plain rxroute, the listening port in dev', () => {
    const p = project({ 'rxconfig.py': 'import reflex as rx\n\nconfig = rx.Config(\n    app_name="myapp",\n    frontend_port=3000,\n)\n' });
    const run = load(p);
    expect(run.rxconfig?.frontend_port).toEqual({ value: 3000, line: 5 });
    expect(run.config.frontend).toBe('http://127.0.0.1:3000');
    expect(run.origin.get('frontend')).toBe('rxconfig.py:5 frontend_port');
    expect(run.config.port).toBe(3000);
    const dev = load(p, [], 'dev');
    expect(dev.config.port).toBe(3000);
    expect(dev.origin.get('port')).toBe('rxconfig.py:5 frontend_port');
    expect(dev.config.frontend).toBe('http://127.0.0.1:3001');
    expect(dev.origin.has('frontend')).toBe(false);
  });

  it('os.getenv with a default: the default without the variable, the variable when set', () => {
    const text = 'import os\nimport reflex as rx\nconfig = rx.Config(app_name="a", backend_port=int(os.getenv("BACKEND_PORT", "8001")))\n';
    const unset = load(project({ 'rxconfig.py': text }));
    expect(unset.config.backend).toBe('http://127.0.0.1:8001');
    expect(unset.origin.get('backend')).toBe('rxconfig.py:3 backend_port');
    const set = load(project({ 'rxconfig.py': text }, { BACKEND_PORT: '9001' }));
    expect(set.rxconfig?.backend_port).toEqual({ value: 9001, line: 3 });
    expect(set.config.backend).toBe('http://127.0.0.1:9001');
  });

  it('os.environ.get, getenv imported from os, and a port given as a string', () => {
    const text = 'from os import getenv\nimport os\nimport reflex as rx\nconfig = rx.Config(\n  app_name="a",\n  frontend_port=getenv("FP", "3005"),\n  backend_port=os.environ.get("BP", 8005),\n)\n';
    const r = load(project({ 'rxconfig.py': text }, { FP: '3006' }));
    expect(r.notes).toEqual([]);
    expect([r.config.frontend, r.config.backend]).toEqual(['http://127.0.0.1:3006', 'http://127.0.0.1:8005']);
  });

  it('os.environ["X"]: its value when set, a note naming it when missing', () => {
    const text = 'import os\nimport reflex as rx\n\nconfig = rx.Config(app_name="a", backend_port=int(os.environ["RX_TEST_BACKEND"]))\n';
    const set = load(project({ 'rxconfig.py': text }, { RX_TEST_BACKEND: '8123' }));
    expect(set.config.backend).toBe('http://127.0.0.1:8123');
    const missing = load(project({ 'rxconfig.py': text }));
    expect(missing.notes).toEqual(['rxconfig.py:4 backend_port: skipped (os.environ["RX_TEST_BACKEND"] is not set)']);
    expect(missing.config.backend).toBe('http://127.0.0.1:8000');
    expect(missing.rxconfig?.backend_port).toBeUndefined();
  });

  it('module-level names, int() and f-strings of them', () => {
    const text = [
      'import os',
      'import reflex as rx',
      '',
      'PORT = int(os.getenv("PORT", "3000"))',
      'BACKEND: int = 8010',
      'BASE = "app"',
      'config = rx.Config(',
      '    app_name="a",',
      '    frontend_port=PORT,',
      '    backend_port=BACKEND,',
      '    api_url=f"http://localhost:{PORT}",',
      '    frontend_path=f"/{BASE}/",',
      ')',
    ].join('\n');
    const r = load(project({ 'rxconfig.py': text }, { PORT: '3100' }));
    expect(r.notes).toEqual([]);
    expect(r.rxconfig).toMatchObject({
      frontend_port: { value: 3100, line: 9 },
      backend_port: { value: 8010, line: 10 },
      api_url: { value: 'http://localhost:3100', line: 11 },
      frontend_path: { value: '/app', line: 12 },
    });
    expect(r.config.frontend_path).toBe('/app');
  });

  it('a value it cannot evaluate: one note per key naming the line, the rest still read', () => {
    const text = [
      'import reflex as rx',
      'from mysite import compute',
      'if DEBUG:',
      '    HOST = "0.0.0.0"',
      'config = rx.Config(',
      '    app_name="a",',
      '    frontend_port=3001,',
      '    backend_port=compute(),',
      '    api_url=f"http://{HOST}:8000",',
      '    frontend_path=settings.PATH,',
      ')',
    ].join('\n');
    const r = load(project({ 'rxconfig.py': text }));
    expect(r.notes).toEqual([
      'rxconfig.py:8 backend_port: skipped (not a literal or env lookup: calls compute())',
      'rxconfig.py:9 api_url: skipped (not a literal or env lookup: HOST is assigned in an if block)',
      'rxconfig.py:10 frontend_path: skipped (not a literal or env lookup: settings.PATH)',
    ]);
    expect(r.config.frontend).toBe('http://127.0.0.1:3001');
    expect(r.config.backend).toBe('http://127.0.0.1:8000');
  });

  it('int() of something that is not a number is a note, not a crash', () => {
    const r = load(project({ 'rxconfig.py': 'import os, reflex as rx\nconfig = rx.Config(app_name="a", backend_port=int(os.getenv("BP", "eight")))\n' }));
    expect(r.notes).toEqual(['rxconfig.py:2 backend_port: skipped (int("eight") is not a number)']);
  });

  it('a syntax error: one note with the line, defaults used', () => {
    const r = load(project({ 'rxconfig.py': 'import reflex as rx\n\nconfig = rx.Config(app_name="a", frontend_port=3000\n' }));
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(/^rxconfig\.py:3: not read \(syntax error: .+\); using defaults$/);
    expect(r.rxconfig).toBeUndefined();
    expect(r.config.frontend).toBe('http://127.0.0.1:3001');
  });

  it('no rx.Config(...) call: a note', () => {
    const r = load(project({ 'rxconfig.py': 'import reflex as rx\n' }));
    expect(r.notes).toEqual(['rxconfig.py: no rx.Config(...) call found; using defaults for its settings']);
  });

  it('None is unset, as Reflex treats it', () => {
    const r = load(project({ 'rxconfig.py': 'import reflex as rx\nconfig = rx.Config(app_name="a", frontend_port=None, backend_port=None)\n' }));
    expect(r.notes).toEqual([]);
    expect(r.config.frontend).toBe('http://127.0.0.1:3001');
  });

  it('`a or b`, `+`, a byte-order mark, and ** arguments (a note)', () => {
    const text = '\uFEFFimport os\nimport reflex as rx\nEXTRA = {}\nconfig = rx.Config(\n    app_name="a",\n    backend_port=os.getenv("BP") or 8500,\n    api_url="http://localhost:" + str(3000),\n    **EXTRA,\n)\n';
    const r = load(project({ 'rxconfig.py': text }));
    expect(r.notes).toEqual(['rxconfig.py:8 **EXTRA: skipped (rxroute does not follow ** arguments)']);
    expect(r.rxconfig).toMatchObject({ backend_port: { value: 8500, line: 6 }, api_url: { value: 'http://localhost:3000', line: 7 } });
  });

  it('a port string that is not a number never slips through as a URL path or port 80', () => {
    for (const bad of ['8000/x', '']) {
      const p = project({ 'rxconfig.py': `import reflex as rx\nconfig = rx.Config(app_name="a", backend_port=${JSON.stringify(bad)})\n` });
      expect(problems(() => load(p))).toEqual([
        `backend must be an http:// or https:// URL (got ${JSON.stringify(`http://127.0.0.1:${JSON.stringify(bad)}`)}) rxconfig.py:2 backend_port`,
      ]);
    }
  });

  it('several Config calls: the module-level `config = ...` one is read, with a note', () => {
    const text = 'import reflex as rx\ndef other():\n    return rx.Config(app_name="b", backend_port=1)\nconfig = rx.Config(app_name="a", backend_port=8600)\n';
    const r = load(project({ 'rxconfig.py': text }));
    expect(r.notes).toEqual(['rxconfig.py:4: several rx.Config(...) calls (also line 3); read this one only']);
    expect(r.config.backend).toBe('http://127.0.0.1:8600');
  });

  it('Config imported from reflex, and the config call found when not named config', () => {
    const r = load(project({ 'rxconfig.py': 'from reflex import Config\nc = Config(app_name="a", backend_port=8200)\n' }));
    expect(r.config.backend).toBe('http://127.0.0.1:8200');
  });
});

describe('rxconfig.py: which Python reads it', () => {
  it('no Python found (no .venv, none on PATH): one note, defaults', () => {
    const r = load(project({ 'rxconfig.py': 'import reflex as rx\nconfig = rx.Config(app_name="a", frontend_port=3000)\n' }, { PATH: '/nonexistent' }));
    expect(r.notes).toEqual(['rxconfig.py not read: no Python found (.venv, $VIRTUAL_ENV, python3); using defaults']);
    expect(r.rxconfig).toBeUndefined();
    expect(r.config.frontend).toBe('http://127.0.0.1:3001');
  });

  it('prefers .venv/bin/python over $VIRTUAL_ENV and PATH', () => {
    const p = project({ 'rxconfig.py': 'import reflex as rx\nconfig = rx.Config(app_name="a", backend_port=8300)\n' }, { PATH: '/nonexistent' });
    mkdirSync(join(p.dir, '.venv/bin'), { recursive: true });
    symlinkSync('/usr/bin/python3', join(p.dir, '.venv/bin/python'));
    const other = fakeVenv('#!/bin/sh\nexit 1\n');
    p.runtime.env.VIRTUAL_ENV = other;
    const r = load(p);
    expect(r.rxconfig?.python).toBe(join(p.dir, '.venv/bin/python'));
    expect(r.config.backend).toBe('http://127.0.0.1:8300');
  });

  it('uses $VIRTUAL_ENV/bin/python when there is no .venv', () => {
    const venv = fakeVenv();
    symlinkSync('/usr/bin/python3', join(venv, 'bin/python'));
    const p = project({ 'rxconfig.py': 'import reflex as rx\nconfig = rx.Config(app_name="a", backend_port=8301)\n' }, { PATH: '/nonexistent', VIRTUAL_ENV: venv });
    const r = load(p);
    expect(r.rxconfig?.python).toBe(join(venv, 'bin/python'));
    expect(r.config.backend).toBe('http://127.0.0.1:8301');
  });

  it('on Windows: .venv\\Scripts\\python.exe, then %VIRTUAL_ENV%, then python on Path', () => {
    const asked: string[] = [];
    const windows = (existing: string[], env: Record<string, string>) =>
      findPython({
        platform: 'win32',
        env,
        cwd: () => 'C:\\proj\\',
        fileExists: (p) => (asked.push(p), existing.includes(p)),
        which: (name, path) => (path ? `${path}\\${name}.exe` : undefined),
      });
    expect(windows(['C:\\proj\\.venv\\Scripts\\python.exe'], {})).toBe('C:\\proj\\.venv\\Scripts\\python.exe');
    expect(windows(['D:\\venv\\Scripts\\python.exe'], { VIRTUAL_ENV: 'D:\\venv' })).toBe('D:\\venv\\Scripts\\python.exe');
    expect(windows([], { Path: 'C:\\Python312' })).toBe('C:\\Python312\\python.exe');
    expect(asked).toContain('C:\\proj\\.venv\\Scripts\\python.exe');
  });

  it.skipIf(!existsSync(PY38))('works on Python 3.8 (ast.Index, no ast.unparse)', () => {
    const venv = fakeVenv();
    symlinkSync(PY38, join(venv, 'bin/python'));
    const text = 'import os\nimport reflex as rx\nP = int(os.environ["P"])\nconfig = rx.Config(app_name="a", backend_port=P, api_url=f"http://localhost:{P + 1}", frontend_port=x())\n';
    const r = load(project({ 'rxconfig.py': text }, { PATH: '/nonexistent', VIRTUAL_ENV: venv, P: '8400' }));
    expect(r.notes).toEqual(['rxconfig.py:4 frontend_port: skipped (not a literal or env lookup: calls x())']);
    expect(r.rxconfig).toMatchObject({ backend_port: { value: 8400 }, api_url: { value: 'http://localhost:8401' } });
  });

  it('a Python that fails: one note with its last stderr line', () => {
    const venv = fakeVenv('#!/bin/sh\necho "Traceback (most recent call last):" >&2\necho "ImportError: broken python" >&2\nexit 1\n');
    const r = load(project({ 'rxconfig.py': STOCK }, { PATH: '/nonexistent', VIRTUAL_ENV: venv }));
    expect(r.notes).toEqual([`rxconfig.py not read: ${venv}/bin/python failed (exit 1: ImportError: broken python); using defaults`]);
  });

  it('a Python that hangs: a note after 5 s', () => {
    const venv = fakeVenv('#!/bin/sh\nexec sleep 30\n');
    const started = Date.now();
    const r = load(project({ 'rxconfig.py': STOCK }, { PATH: '/nonexistent', VIRTUAL_ENV: venv }));
    expect(Date.now() - started).toBeLessThan(9000);
    expect(r.notes).toEqual([`rxconfig.py not read: ${venv}/bin/python gave no answer within 5 s; using defaults`]);
  }, 15_000);
});

/** A directory shaped like a virtualenv; with `script`, bin/python is that shell script. */
function fakeVenv(script?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rxroute-venv-'));
  mkdirSync(join(dir, 'bin'));
  if (script !== undefined) {
    writeFileSync(join(dir, 'bin/python'), script);
    chmodSync(join(dir, 'bin/python'), 0o755);
  }
  return dir;
}

const DJANGO = (call: string) => `import reflex as rx
${call.startsWith('reflex_django.') ? 'import reflex_django' : 'from reflex_django import ReflexDjangoPlugin'}

config = rx.Config(
    app_name="myapp",
    plugins=[
        rx.plugins.SitemapPlugin(),
        ${call}(config={
            "profile": "split_dev",
            "proxy": {"server": "http://127.0.0.1:8001", "enabled": False, "separate_dev_ports": False},
        }),
    ],
)
`;

describe('rxconfig.py: ReflexDjangoPlugin(config={...})', () => {
  for (const call of ['ReflexDjangoPlugin', 'reflex_django.ReflexDjangoPlugin']) {
    it(`${call}: profile and proxy.server taken; proxy.enabled=False does not disable rxroute`, () => {
      const r = load(project({ 'rxconfig.py': DJANGO(call) }));
      expect(r.notes).toEqual([]);
      expect(r.config.profile).toBe('split_dev');
      expect(r.config.proxy).toEqual({ enabled: true, server: 'http://127.0.0.1:8001', separate_dev_ports: false });
      expect(r.origin.get('proxy.server')).toBe('rxconfig.py:10 ReflexDjangoPlugin proxy.server');
      expect(r.origin.get('profile')).toBe('rxconfig.py:9 ReflexDjangoPlugin profile');
      expect(r.rxconfig).toMatchObject({ profile: { value: 'split_dev', line: 9 }, separate_dev_ports: { value: false, line: 10 } });
    });
  }

  it('a plugin config held in a module-level name, with an env lookup inside', () => {
    const text = 'import os\nimport reflex as rx\nfrom reflex_django import ReflexDjangoPlugin\nDJ = {"proxy": {"server": os.getenv("DJANGO_URL", "http://127.0.0.1:8001"), "separate_dev_ports": True}}\nconfig = rx.Config(app_name="a", plugins=[ReflexDjangoPlugin(config=DJ)])\n';
    const r = load(project({ 'rxconfig.py': text }, { DJANGO_URL: 'http://127.0.0.1:8555' }));
    expect(r.config.proxy.server).toBe('http://127.0.0.1:8555');
    expect(r.config.proxy.separate_dev_ports).toBe(true);
    // proxy.server and no profile: split_dev, as with RX_PROXY_SERVER.
    expect(r.config.profile).toBe('split_dev');
  });
});

describe('rxconfig.py: precedence flags > env > rxroute.json > rxconfig.py > defaults', () => {
  const text = 'import reflex as rx\nconfig = rx.Config(app_name="a", frontend_port=3002, backend_port=8002)\n';

  it('rxroute.json beats rxconfig.py, key by key', () => {
    const r = load(project({ 'rxconfig.py': text, 'rxroute.json': JSON.stringify({ backend: 'http://127.0.0.1:9100' }) }));
    expect([r.config.frontend, r.config.backend]).toEqual(['http://127.0.0.1:3002', 'http://127.0.0.1:9100']);
    expect([r.origin.get('frontend'), r.origin.get('backend')]).toEqual(['rxconfig.py:2 frontend_port', 'in rxroute.json']);
  });

  it('the environment beats rxroute.json and rxconfig.py', () => {
    const r = load(project({ 'rxconfig.py': text, 'rxroute.json': JSON.stringify({ backend: 'http://127.0.0.1:9100' }) }, { RX_BACKEND_URL: 'http://127.0.0.1:9200' }));
    expect(r.config.backend).toBe('http://127.0.0.1:9200');
    expect(r.origin.get('backend')).toBe('from RX_BACKEND_URL');
  });

  it('flags beat everything', () => {
    const r = load(project({ 'rxconfig.py': text }, { RX_BACKEND_URL: 'http://127.0.0.1:9200' }), ['--backend', 'http://127.0.0.1:9300', '--frontend', 'http://127.0.0.1:3300']);
    expect([r.config.frontend, r.config.backend]).toEqual(['http://127.0.0.1:3300', 'http://127.0.0.1:9300']);
    // dev: --port beats rxconfig's frontend_port.
    const dev = load(project({ 'rxconfig.py': text }), ['--port', '4000'], 'dev');
    expect(dev.config.port).toBe(4000);
  });

  it('a bad value from rxconfig.py is a config error naming its line', () => {
    const p = project({ 'rxconfig.py': 'import reflex as rx\n\nconfig = rx.Config(\n    app_name="a",\n    backend_port="abc",\n    frontend_path=42,\n)\n' });
    expect(problems(() => load(p))).toEqual([
      'backend must be an http:// or https:// URL (got "http://127.0.0.1:abc") rxconfig.py:5 backend_port',
      'frontend_path must be a string (got 42) rxconfig.py:6 frontend_path',
    ]);
    expect(problems(() => load(project({ 'rxconfig.py': 'import reflex as rx\nconfig = rx.Config(app_name="a", frontend_port=70000)\n' }), [], 'dev'))).toEqual([
      'port must be an integer 0–65535 (got 70000) rxconfig.py:2 frontend_port',
    ]);
  });
});

describe('upstreamSources', () => {
  it('names where each upstream came from', () => {
    const r = load(project({ 'rxconfig.py': 'import reflex as rx\nconfig = rx.Config(app_name="a", backend_port=8002)\n' }));
    const list = upstreamSources(r.config, r.origin);
    expect(list).toEqual([
      { name: 'frontend', url: 'http://127.0.0.1:3001', source: 'default' },
      { name: 'backend', url: 'http://127.0.0.1:8002', source: 'rxconfig.py:2 backend_port' },
      { name: 'django', url: 'http://127.0.0.1:8002', source: 'same as backend (profile integrated)' },
    ]);
    expect(formatUpstreamSources(list, '  ').split('\n')).toEqual([
      '  frontend  http://127.0.0.1:3001  default',
      '  backend   http://127.0.0.1:8002  rxconfig.py:2 backend_port',
      '  django    http://127.0.0.1:8002  same as backend (profile integrated)',
    ]);
  });

  it('split_dev names proxy.server, reflex_only says django is not routed', () => {
    const split = load(project({}), ['--django', 'http://127.0.0.1:8001']);
    expect(upstreamSources(split.config, split.origin)[2]).toEqual({ name: 'django', url: 'http://127.0.0.1:8001', source: 'from --django' });
    const only = load(project({}), ['--profile', 'reflex_only']);
    expect(upstreamSources(only.config, only.origin)[2]).toEqual({ name: 'django', url: null, source: 'not routed (profile reflex_only)' });
  });
});
