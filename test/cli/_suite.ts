import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket } from 'ws';
import { cleanEnv, command, reportedRuntime, startRouter, type Runtime } from '../_helpers/router-process.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs rxroute to completion in `cwd` (a fresh temp dir by default). */
function rxroute(runtime: Runtime, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const { file, args: launch } = command(runtime);
  const cwd = opts.cwd ?? mkdtempSync(join(tmpdir(), 'rxroute-cli-'));
  return new Promise((resolve) => {
    execFile(file, [...launch, ...args], { cwd, env: { ...cleanEnv(), ...opts.env }, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

function projectDir(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'rxroute-cli-'));
  writeFileSync(join(dir, 'rxroute.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

/** `rxroute 0.1.0 (3f2a1c9, bun 1.4.5)`: from source (Deno) nothing inlines the commit. */
function versionPattern(runtime: Runtime): RegExp {
  const commit = runtime === 'deno' ? 'unknown' : '[0-9a-f]{7,}';
  return new RegExp(`rxroute \\d+\\.\\d+\\.\\d+\\S* \\(${commit}, ${reportedRuntime[runtime]} \\d+\\.\\d+\\.\\d+\\S*\\)`);
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at |\.ts:\d+|node:internal/m);

/** DESIGN §2 and §8 as a user meets them on the command line, per runtime. */
export function addCliTests(runtime: Runtime): void {
  describe(`rxroute CLI (${runtime})`, { concurrent: true }, () => {
    it('prints the version and the help', async () => {
      const version = await rxroute(runtime, ['--version']);
      expect(version.code).toBe(0);
      expect(version.stdout).toMatch(new RegExp(`^${versionPattern(runtime).source}\\n$`));
      if (runtime === 'node') expect(version.stdout).toContain(`, node ${process.versions.node})`);
      const help = await rxroute(runtime, ['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('rxroute routes [path…]');
      expect(help.stdout).toContain('--allowed-host NAME');
    });

    it('explains which upstream gets each path', async () => {
      const run = await rxroute(runtime, ['routes', '/admin/login', '/_event/?EIO=4', '/adminx']);
      expect(run.code).toBe(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^\/admin\/login\s+→ django\s+http:\/\/127\.0\.0\.1:8000\s+matched prefix \/admin/);
      expect(lines[1]).toMatch(/^\/_event\/\?EIO=4\s+→ backend\s+http:\/\/127\.0\.0\.1:8000\s+matched prefix \/_event/);
      expect(lines[2]).toMatch(/^\/adminx\s+→ frontend\s+http:\/\/127\.0\.0\.1:3001\s+no prefix matched/);
    });

    it('reads rxroute.json from the working directory', async () => {
      const run = await rxroute(runtime, ['routes', '/graphql'], { cwd: projectDir({ django_prefix: ['/graphql'] }) });
      expect(run.stdout).toMatch(/^\/graphql\s+→ django/);
    });

    it('exits 2 with one line per config problem, a hint and no stack trace', async () => {
      const run = await rxroute(runtime, [], { cwd: projectDir({ prot: 3000, backend: 'localhost:8000' }) });
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([
        'rxroute: error: backend must be an http:// or https:// URL (got "localhost:8000") in rxroute.json',
        'rxroute: error: unknown key "prot" in rxroute.json (did you mean "port"?)',
        'hint: fix the values above; `rxroute --help` lists every option',
      ]);
    });

    it('exits 2 naming the env var for a bad env value', async () => {
      const run = await rxroute(runtime, [], { env: { RXROUTE_PORT: '70000' } });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('rxroute: error: port must be an integer 0–65535 (got 70000) from RXROUTE_PORT');
      noStackTrace(run.stderr);
    });

    it('exits 2 for split_dev without a Django server, and for bad JSON', async () => {
      const split = await rxroute(runtime, ['--profile', 'split_dev']);
      expect(split.code).toBe(2);
      expect(split.stderr).toContain('rxroute: error: proxy.server must be a Django URL');
      const json = await rxroute(runtime, [], { cwd: projectDir('{"port": 3000,}') });
      expect(json.code).toBe(2);
      expect(json.stderr).toMatch(/^rxroute: error: rxroute\.json is not valid JSON: /);
      noStackTrace(json.stderr);
    });

    it('exits 2 for an unknown option or a missing --config file', async () => {
      const option = await rxroute(runtime, ['--prot', '3000']);
      expect(option).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown option --prot (did you mean --port?)') });
      const missing = await rxroute(runtime, ['--config', 'nope.json']);
      expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('config file nope.json not found') });
    });

    it('exits 0 with an explanation when the router is disabled', async () => {
      const off = await rxroute(runtime, [], { cwd: projectDir({ proxy: { enabled: false } }) });
      expect(off.code).toBe(0);
      expect(off.stdout).toContain('the router is disabled by configuration (proxy.enabled=false)');
      const noDev = await rxroute(runtime, [], { env: { RX_DEV_PROXY: '0' } });
      expect(noDev.code).toBe(0);
      expect(noDev.stdout).toContain('the dev proxy is disabled (dev_proxy=false');
    });

    it('exits 1 naming the port and the fix when the port is taken', async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as net.AddressInfo).port;
      try {
        const run = await rxroute(runtime, ['--port', String(port)]);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(`rxroute: error: port ${port} on 127.0.0.1 is already in use`);
        expect(run.stderr).toContain('hint: stop the process using it, or pick another port: rxroute --port');
        noStackTrace(run.stderr);
      } finally {
        blocker.close();
      }
    });

    it('shuts down gracefully on SIGTERM: in-flight requests finish, sockets get 1001, exit 0', async () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const upstream = http.createServer((req, res) => {
        if (req.url === '/slow') void released.then(() => res.end('finished'));
        else res.end('ok');
      });
      const wss = new WebSocketServer({ server: upstream });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
      const router = await startRouter(runtime, ['--port', '0', '--log', 'json', '--frontend', url, '--backend', url]);
      try {
        const host = `localhost:${router.port}`;
        const slow = fetch(`${router.url}/slow`, { headers: { host } }).then(async (r) => `${r.status} ${await r.text()}`);
        const ws = new WebSocket(`${router.url.replace('http', 'ws')}/_event/`, { headers: { host } });
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
        await new Promise((r) => setTimeout(r, 200)); // the slow request has reached the upstream
        const exited = new Promise<void>((resolve) => {
          const check = setInterval(() => {
            if (router.exitCode() === undefined) return;
            clearInterval(check);
            resolve();
          }, 50);
        });
        process.kill(router.pid, 'SIGTERM');
        expect(await wsClosed).toBe(1001);
        setTimeout(release, 300);
        expect(await slow).toBe('200 finished');
        await exited;
        expect(router.exitCode()).toBe(0);
      } finally {
        release();
        await router.stop();
        wss.close();
        upstream.close();
      }
    });

    it('prints a banner with the URL to open and the route table', async () => {
      const router = await startRouter(runtime, ['--port', '0'], { readyPattern: /everything else/ });
      try {
        const text = router.stdout.join('\n');
        expect(text).toMatch(new RegExp(`^  ${versionPattern(runtime).source}, profile integrated$`, 'm'));
        expect(text).toContain(`➜  Open: http://localhost:${router.port}/`);
        expect(text).toMatch(/\/_event\s+backend\s+http:\/\/127\.0\.0\.1:8000\s+reflex path/);
        expect(text).toMatch(/\/ \(everything else\)\s+frontend\s+http:\/\/127\.0\.0\.1:3001/);
      } finally {
        await router.stop();
      }
    });
  });
}
