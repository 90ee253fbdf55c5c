import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { cleanEnv } from '../_helpers/router-process.ts';
import { nginxTempPaths } from '../_helpers/nginx.ts';
import { acceptsConnections } from '../_helpers/tcp.ts';

// Real nginx and Caddy in front of real upstreams, configured by what
// `dist/rxroute export` prints.

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Backend {
  name: string;
  url: string;
  close(): Promise<void>;
}

/**
 * An upstream on port 0: every path answers JSON naming this upstream and the
 * request it saw; `POST /_upload…` hashes the streamed body; a WebSocket on
 * any path echoes each message.
 */
export async function startBackend(name: string): Promise<Backend> {
  const sockets = new Set<Socket>();
  const server = http.createServer({ requestTimeout: 0 }, async (req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of req) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    const body = JSON.stringify({ upstream: name, url: req.url, headers: req.headers, bytes, sha256: hash.digest('hex') });
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
    res.end(body);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.send(`hello from ${name} at ${req.url}`);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const c of wss.clients) c.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      return closed;
    },
  };
}

export { freePort, twoFreePorts } from '../_helpers/tcp.ts';

/** Runs the built binary's `export` in `cwd` and returns what it printed. */
export function runExport(cwd: string, args: string[]): string {
  return execFileSync(`${root}dist/rxroute`, ['export', ...args], { cwd, env: cleanEnv(), encoding: 'utf8' });
}

export interface EdgeServer {
  name: string;
  url: string;
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** The exported file inside the smallest nginx.conf that runs unprivileged-friendly from `dir`. */
export async function startNginx(dir: string, exported: string, port: number): Promise<EdgeServer> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'rxroute.conf'), exported);
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
    types { text/html html; application/javascript js; }
    access_log ${dir}/access.log;
${nginxTempPaths(dir)}
    include ${dir}/rxroute.conf;
}
`);
  return spawnServer('nginx', '/usr/sbin/nginx', ['-c', `${dir}/nginx.conf`, '-p', dir, '-e', `${dir}/error.log`], port, {});
}

/** The exported Caddyfile with global options that keep Caddy off ACME and the admin port. */
export async function startCaddy(dir: string, exported: string, port: number): Promise<EdgeServer> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${dir}/data\n}\n\n${exported}`);
  const env = { HOME: dir, XDG_DATA_HOME: `${dir}/xdg-data`, XDG_CONFIG_HOME: `${dir}/xdg-config` };
  return spawnServer('caddy', '/usr/bin/caddy', ['run', '--config', file, '--adapter', 'caddyfile'], port, env);
}

async function spawnServer(name: string, file: string, args: string[], port: number, env: Record<string, string>): Promise<EdgeServer> {
  const proc = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const server: EdgeServer = {
    name,
    url: `http://127.0.0.1:${port}`,
    proc,
    log: () => output,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}:\n${output}`);
    if (await acceptsConnections(port)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${name} did not listen on ${port} within 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

