import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouter, type RouterProcess } from '../_helpers/router-process.ts';
import { launchChromium } from '../status-page/_suite.ts';

/**
 * `rxroute demo` from the compiled binary alone, in headless Chromium: the
 * sample page loads through the router, its WebSocket echoes through the
 * relay (at /_event and at /_event/, as socket.io-client asks), and a 50 MB upload streams to the sample backend, which reports the
 * same SHA-256 node:crypto computes.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const UPLOAD_BYTES = 50 * 1024 * 1024;

describe('rxroute demo (binary)', () => {
  let router: RouterProcess;
  let browser: Browser;
  let page: Page;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rxroute-demo-'));
    [router, browser] = await Promise.all([startRouter('binary', ['demo', '--port', '0', '--log', 'json']), launchChromium()]);
    page = await browser.newPage({ viewport: { width: 1180, height: 760 } });
  });

  afterAll(async () => {
    await browser?.close();
    await router?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the sample page through the router', async () => {
    const response = await page.goto(`http://localhost:${router.port}/`);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('rxroute demo');
    expect(await page.locator('a[href="/admin"]').count()).toBe(1);
    expect(await page.locator('a[href="/__rxroute/"]').count()).toBe(1);
  });

  it('echoes a typed message over the WebSocket relay', async () => {
    await page.locator('#ws-state.open').waitFor({ timeout: 10_000 });
    await page.fill('#message', 'hello through rxroute');
    await page.click('#send');
    await page.locator('#log li.in', { hasText: '← hello through rxroute' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#log li.out').allTextContents()).toEqual(['→ hello through rxroute']);
  });

  it('answers /_event/ with the trailing slash too, as socket.io-client asks for it', async () => {
    const received = await page.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const messages: string[] = [];
          const ws = new WebSocket(`ws://${location.host}/_event/?EIO=4&transport=websocket`);
          const timer = setTimeout(() => reject(new Error(`no echo; got ${JSON.stringify(messages)}`)), 10_000);
          ws.onerror = () => reject(new Error('the WebSocket to /_event/ failed'));
          ws.onmessage = (event) => {
            messages.push(String(event.data));
            if (messages.length === 1) ws.send('with a slash');
            else {
              clearTimeout(timer);
              ws.close();
              resolve(messages);
            }
          };
        }),
    );
    expect(received.map((m) => JSON.parse(m).type)).toEqual(['hello', 'echo']);
    expect(JSON.parse(received[1]!)).toEqual({ type: 'echo', text: 'with a slash' });
    const logged = router.stdout.map((l) => JSON.parse(l)).find((e) => e.event === 'request' && e.path === '/_event/');
    expect(logged).toMatchObject({ owner: 'backend', status: 101 });
  });

  it('uploads 50 MB with progress and shows the SHA-256 the backend computed', async () => {
    const data = new Uint8Array(UPLOAD_BYTES);
    for (let i = 0; i < data.length; i += 4096) data[i] = (i * 2654435761) >>> 24;
    data[data.length - 1] = 7;
    const file = join(dir, 'sample-50mb.bin');
    writeFileSync(file, data);
    const expected = createHash('sha256').update(data).digest('hex');

    await page.setInputFiles('#file', file);
    await page.locator('#upload-status[data-done]').waitFor({ timeout: 45_000 });
    expect(await page.textContent('#upload-sha')).toBe(expected);
    expect(await page.textContent('#upload-bytes')).toContain(UPLOAD_BYTES.toLocaleString('en-US'));
    expect(await page.locator('#progress').evaluate((el) => (el as HTMLProgressElement).value)).toBe(1);

    mkdirSync(`${root}test-artifacts`, { recursive: true });
    await page.screenshot({ path: `${root}test-artifacts/demo.png`, fullPage: true });
  });

  it('shows Django the Host and X-Forwarded-* headers at /admin', async () => {
    await page.goto(`http://localhost:${router.port}/admin`);
    const text = await page.textContent('table');
    expect(text).toContain(`localhost:${router.port}`);
    expect(text).toContain('x-forwarded-proto');
  });
});
