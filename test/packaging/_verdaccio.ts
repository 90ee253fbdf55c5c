import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

// Verdaccio is installed here at test time, not as a devDependency: its tree
// is ~270 packages (58 MB) that nothing else uses, and 6.8.0 needs a
// node-fetch override on Node 20 (6.10 wants Node 22) that would otherwise
// sit in the project's own package.json. node_modules/.cache is never
// committed and survives between runs; `npm ci` starts it afresh.
const VERDACCIO_VERSION = '6.8.0';
const home = join(root, 'node_modules/.cache', `rxroute-verdaccio-${VERDACCIO_VERSION}`);
const bin = join(home, 'node_modules/verdaccio/bin/verdaccio');

export function installVerdaccio(): string {
  if (existsSync(bin)) return bin;
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, 'package.json'),
    JSON.stringify({ name: 'rxroute-test-registry', private: true, dependencies: { verdaccio: VERDACCIO_VERSION }, overrides: { 'node-fetch': '2.7.0' } }),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: home, stdio: 'pipe', env: npmFreeEnv() });
  return bin;
}

/** process.env without npm_config_* (an `npm test` run sets its own), so each command below sees only what it is given. */
export function npmFreeEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

export interface Registry {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** An npmrc with the registry and a publish token for it. */
  npmrc: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A verdaccio with no uplinks (nothing it is asked for leaves loopback), storage in `dir`, one user who may publish. */
export async function startRegistry(dir: string): Promise<Registry> {
  const verdaccio = installVerdaccio();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(process.execPath, [verdaccio, '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    env: npmFreeEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const close = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}):\n${output}`);
    const ping = await fetch(`${url}-/ping`).catch(() => undefined);
    if (ping?.ok) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`verdaccio did not answer on ${url} within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  // CouchDB-style sign-up, as `npm adduser` does it; the answer carries the token.
  const signup = await fetch(`${url}-/user/org.couchdb.user:rxroute-test`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'rxroute-test', password: 'rxroute-test-password', type: 'user', roles: [] }),
  });
  const { token } = (await signup.json()) as { token?: string };
  if (!signup.ok || !token) {
    await close();
    throw new Error(`verdaccio refused the test user (${signup.status})`);
  }
  const npmrc = join(dir, 'npmrc');
  writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  return { url, npmrc, close };
}
