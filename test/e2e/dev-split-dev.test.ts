import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, launchChromium } from './_stack.ts';
import { ctrlC, startDevStack, startedProcesses, type DevStack } from './dev-stack.ts';

/**
 * `rxroute dev` with no arguments in a reflex-django project in split_dev
 * (DESIGN §10): rxconfig.py's ReflexDjangoPlugin names Django's loopback
 * address, manage.py sits beside it, and both reflex and python come from the
 * project's .venv. rxroute starts `reflex run` and Debian Django's real
 * `manage.py runserver`, and routes /admin to it.
 */

describe('rxroute dev in a reflex-django project (split_dev)', () => {
  let stack: DevStack;
  let browser: Browser | undefined;

  beforeAll(async () => {
    stack = await startDevStack('split_dev');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('runs reflex and manage.py runserver from the .venv, detected from rxconfig.py', async () => {
    const health = await fetch(`http://127.0.0.1:${stack.port}/__rxroute/health`).then((r) => r.json() as Promise<{ processes: Array<Record<string, unknown>> }>);
    const byName = Object.fromEntries(health.processes.map((p) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(['django', 'reflex']);
    expect(byName.reflex).toMatchObject({ state: 'running', command: expect.stringMatching(new RegExp(`reflex run --frontend-port ${stack.port + 1} --backend-port ${stack.backendPort}$`)) });
    expect(byName.django).toMatchObject({ state: 'running', command: expect.stringMatching(new RegExp(`python3? manage\\.py runserver 127\\.0\\.0\\.1:${stack.djangoPort}$`)) });
    // The interpreter that runs it is the project's (python3 on PATH here has no Django).
    const argv = readFileSync(`/proc/${byName.django!.pid as number}/cmdline`, 'utf8').split('\0');
    expect(argv.slice(0, 4)).toEqual([join(stack.project.dir, '.venv/bin/python'), 'manage.py', 'runserver', `127.0.0.1:${stack.djangoPort}`]);
    await stack.run.waitForLine((line) => new RegExp(`^django\\s+│ Starting development server at http://127\\.0\\.0\\.1:${stack.djangoPort}/$`).test(line), 'runserver announcing itself');
  });

  it('/admin/login/ through rxroute is Django\'s page from runserver (the backend does not serve it)', async () => {
    const login = await fetch(`http://127.0.0.1:${stack.port}/admin/login/`);
    expect(login.status).toBe(200);
    const html = await login.text();
    expect(html).toContain('Django administration');
    expect(html).toContain('csrfmiddlewaretoken');
    // Straight to the backend, which its reloader may be restarting (rxroute would wait; this fetch does not).
    const direct = await fetchWhileRefused(`http://127.0.0.1:${stack.backendPort}/admin/login/`);
    expect(direct.status).toBe(404);
    await stack.run.waitForLine((line) => /^django\s+│ .*"GET \/admin\/login\/ HTTP\/1\.1" 200/.test(line), 'runserver logging the request');
  });

  it('logging in to the admin through rxroute gives the Reflex-shaped backend the same session', async () => {
    const page = await (await browser!.newContext()).newPage();
    await page.goto(`${stack.origin}/admin/login/?next=/admin/`);
    await page.fill('#id_username', ADMIN.username);
    await page.fill('#id_password', ADMIN.password);
    await Promise.all([page.waitForURL(`${stack.origin}/admin/`), page.click('input[type=submit]')]);
    expect(await page.textContent('#site-name')).toContain('Django administration');
    await page.goto(`${stack.origin}/`);
    await page.waitForFunction(() => window.e2e?.state.hellos.length >= 1, null, { timeout: 30_000 });
    const hello = await page.evaluate(() => window.e2e.state.hellos[0]!);
    expect(hello).toMatchObject({ user: ADMIN.username, host: `localhost:${stack.port}` });
    await page.screenshot({ path: `${stack.artifacts}page.png` });
  });

  it('Ctrl+C stops reflex, Vite, uvicorn and runserver with its reloader child; every port closes; exit 0', async () => {
    const before = startedProcesses(stack).map((p) => p.cmdline);
    expect(before.filter((cmd) => /manage\.py runserver/.test(cmd)).length).toBeGreaterThanOrEqual(2);
    expect(before.some((cmd) => /node_modules\/\.bin\/vite --config/.test(cmd))).toBe(true);
    expect(before.some((cmd) => /multiprocessing-fork/.test(cmd))).toBe(true);
    const result = await ctrlC(stack);
    console.log(`rxroute dev (split_dev) Ctrl+C: exit ${result.code} after ${result.tookMs} ms; checked ${result.before.length} pids (${result.before.map((p) => p.pid).join(', ')}), left ${result.left.length}; ports ${result.portsChecked.join(', ')} open afterwards: ${result.openPorts.join(', ') || 'none'}`);
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    expect(result.left).toEqual([]);
    expect(result.openPorts).toEqual([]);
  });
});

/** fetch, tried again every 200 ms for up to 10 s while the connection is refused. */
async function fetchWhileRefused(url: string): Promise<Response> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if (code !== 'ECONNREFUSED' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
