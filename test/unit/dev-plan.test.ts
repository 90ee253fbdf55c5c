import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';

import { commandName, type DevPlanInput, planDev } from '../../src/dev/plan.ts';

function input(file: Record<string, unknown> = {}, over: Partial<DevPlanInput> = {}): DevPlanInput {
  return {
    config: loadConfig({ file: { path: 'rxroute.json', data: file } }),
    frontendPort: 3001,
    hasRxconfig: true,
    hasManagePy: false,
    routerUrl: 'http://localhost:3000',
    python: '/proj/.venv/bin/python',
    cwd: '/proj',
    platform: 'linux',
    ...over,
  };
}

describe('planDev', () => {
  it('starts reflex run with explicit ports, so Reflex neither auto-increments nor asks', () => {
    const plan = planDev(input({ backend: 'http://127.0.0.1:8123' }, { frontendPort: 3007 }));
    expect(plan.processes.map((p) => p.argv)).toEqual([['reflex', 'run', '--frontend-port', '3007', '--backend-port', '8123']]);
    expect(plan.processes[0]!.name).toBe('reflex');
    expect(plan.processes[0]!.cwd).toBe('/proj');
  });

  it('gives every child the router URL and both upstream ports', () => {
    const plan = planDev(input({ backend: 'http://127.0.0.1:8123' }, { frontendPort: 3007, routerUrl: 'http://localhost:3100' }));
    expect(plan.env).toMatchObject({
      RXROUTE_URL: 'http://localhost:3100',
      REFLEX_API_URL: 'http://localhost:3100',
      REFLEX_FRONTEND_PORT: '3007',
      REFLEX_BACKEND_PORT: '8123',
    });
  });

  it('adds Django runserver in split_dev with a loopback proxy.server and a manage.py', () => {
    const plan = planDev(input({ profile: 'split_dev', proxy: { server: 'http://127.0.0.1:8001' } }, { hasManagePy: true }));
    expect(plan.processes.map((p) => p.name)).toEqual(['reflex', 'django']);
    expect(plan.processes[1]!.argv).toEqual(['/proj/.venv/bin/python', 'manage.py', 'runserver', '127.0.0.1:8001']);
  });

  it('starts no Django without manage.py, for a remote proxy.server, or in integrated', () => {
    const split = { profile: 'split_dev' as const, proxy: { server: 'http://127.0.0.1:8001' } };
    expect(planDev(input(split, { hasManagePy: false })).processes.map((p) => p.name)).toEqual(['reflex']);
    const remote = { profile: 'split_dev' as const, proxy: { server: 'http://django.internal:8001' } };
    expect(planDev(input(remote, { hasManagePy: true })).processes.map((p) => p.name)).toEqual(['reflex']);
    expect(planDev(input({}, { hasManagePy: true })).processes.map((p) => p.name)).toEqual(['reflex']);
  });

  it('runs the command after -- instead of anything detected', () => {
    const plan = planDev(input({ dev: { processes: { web: 'npm run dev' } } }, { rest: ['/usr/bin/node', 'server.js', 'a b'] }));
    expect(plan.processes).toHaveLength(1);
    expect(plan.processes[0]!.name).toBe('node');
    expect(plan.processes[0]!.argv).toEqual(['/usr/bin/node', 'server.js', 'a b']);
    expect(plan.processes[0]!.display).toBe("/usr/bin/node server.js 'a b'");
  });

  it('replaces the detected set with dev.processes, through the shell', () => {
    const plan = planDev(
      input({ dev: { processes: { web: 'npm run dev', api: { cmd: 'python app.py', cwd: 'backend', env: { A: '1' }, ready: 9000 } } } }),
    );
    expect(plan.processes.map((p) => [p.name, p.argv, p.cwd, p.env, p.readyPort])).toEqual([
      ['web', ['sh', '-c', 'npm run dev'], '/proj', {}, undefined],
      ['api', ['sh', '-c', 'python app.py'], '/proj/backend', { A: '1' }, 9000],
    ]);
    const win = planDev(input({ dev: { processes: { web: 'npm run dev' } } }, { platform: 'win32' }));
    expect(win.processes[0]!.argv).toEqual(['cmd.exe', '/d', '/s', '/c', 'npm run dev']);
  });

  it('has nothing to start outside a Reflex project, and says what to do', () => {
    const plan = planDev(input({}, { hasRxconfig: false }));
    expect(plan.processes).toEqual([]);
    expect(plan.problem?.message).toMatch(/no rxconfig\.py/);
    expect(plan.problem?.hint).toMatch(/rxroute dev -- CMD/);
    expect(planDev(input({}, { rest: [] })).problem?.message).toMatch(/nothing after --/);
  });

  it('names a process after its program', () => {
    expect(commandName('/usr/bin/node')).toBe('node');
    expect(commandName('C:\\tools\\server.exe')).toBe('server');
    expect(commandName('./run.sh')).toBe('run');
  });
});

describe('dev.processes in rxroute.json', () => {
  it('rejects an entry that is neither a command nor {cmd}, naming the key', () => {
    expect(() => loadConfig({ file: { path: 'rxroute.json', data: { dev: { processes: { web: 42 } } } } })).toThrow(/dev\.processes\.web/);
    expect(() => loadConfig({ file: { path: 'rxroute.json', data: { dev: { processes: { web: { command: 'x' } } } } } })).toThrow(/dev\.processes\.web/);
  });

  it('suggests the key for a typo under dev', () => {
    expect(() => loadConfig({ file: { path: 'rxroute.json', data: { dev: { proceses: {} } } } })).toThrow(/did you mean "dev.processes"/);
  });
});
