import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_PANEL_HTML, PROCESS_PANEL_SCRIPT } from '../../src/ui/process-panel.ts';
import { launchChromium } from './_suite.ts';

/**
 * The Processes panel's resync rule, in Chromium, driven call by call: the
 * order of /health answers and stream lines that a flood produces and a
 * timed test only hits now and then. A flood's chunk of lines shares one
 * arrival time, so a snapshot and the lines queued while it was under way
 * are told apart by `seq`.
 */

interface Line {
  name: string;
  stream: 'stdout';
  text: string;
  time: string;
  seq: number;
}

const TIME = '2026-12-02T02:15:14.707Z';
const line = (seq: number): Line => ({ name: 'web', stream: 'stdout', text: `flood line ${seq}`, time: TIME, seq });
const info = (lines: Line[]) => ({
  name: 'web',
  command: 'node web.js',
  pid: 42,
  state: 'running',
  startedAt: TIME,
  restarts: 0,
  exitCode: null,
  exitSignal: null,
  lines: lines.map(({ name: _name, ...l }) => l),
});

describe('status page Processes panel: resync after dropped lines', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setContent(`<body>${PROCESS_PANEL_HTML}<script>${PROCESS_PANEL_SCRIPT}
      window.panel = processPanel({
        el: function (tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; },
        clock: function () { return '02:15:14'; },
        ago: function () { return '1s'; }
      });
    </script></body>`);
  });

  afterAll(async () => {
    await browser?.close();
  });

  const shown = () => page.$$eval('[data-process=web] .lines .line .x', (xs) => xs.map((x) => x.textContent));

  it('a snapshot ending at the flood, with older lines of the same millisecond queued, shows the end of the flood', async () => {
    const queued = Array.from({ length: 1000 }, (_, i) => line(i + 1));
    const snapshot = info(queued.slice(-50));
    await page.evaluate(
      ([queued, snapshot]) => {
        const panel = (window as unknown as { panel: any }).panel;
        panel.resync();
        const mark = panel.mark();
        for (const l of queued) panel.output(l);
        panel.health([snapshot], true, mark);
      },
      [queued, snapshot] as const,
    );
    const lines = await shown();
    expect(lines).toHaveLength(50);
    expect(lines.at(0)).toBe('flood line 951');
    expect(lines.at(-1)).toBe('flood line 1000');
  });

  it('lines queued after the snapshot was taken are appended after it', async () => {
    const snapshot = info([line(1001), line(1002)]);
    await page.evaluate(
      ([snapshot, after]) => {
        const panel = (window as unknown as { panel: any }).panel;
        panel.resync();
        const mark = panel.mark();
        for (const l of after) panel.output(l);
        panel.health([snapshot], true, mark);
      },
      [snapshot, [line(1002), line(1003), line(1004)]] as const,
    );
    expect((await shown()).slice(-4)).toEqual(['flood line 1001', 'flood line 1002', 'flood line 1003', 'flood line 1004']);
  });

  it('a /health answer requested before the last resync does not end it; the next one does', async () => {
    const stale = info([line(1005)]);
    const fresh = info([line(1005), line(1006), line(1007)]);
    const result = await page.evaluate(
      ([stale, fresh]) => {
        const panel = (window as unknown as { panel: any }).panel;
        // A regular poll goes out, then the stream reports dropped lines.
        const pollMark = panel.mark();
        panel.resync();
        panel.health([stale], true, pollMark);
        const afterStale = [...document.querySelectorAll('[data-process=web] .lines .line .x')].at(-1)?.textContent;
        // Lines keep arriving while not synced; the re-read answers with what the stream skipped.
        panel.output({ name: 'web', stream: 'stdout', text: 'flood line 1007', time: '2026-12-02T02:15:14.707Z', seq: 1007 });
        panel.health([fresh], true, panel.mark());
        return afterStale;
      },
      [stale, fresh] as const,
    );
    expect(result).toBe('flood line 1004');
    expect((await shown()).slice(-3)).toEqual(['flood line 1005', 'flood line 1006', 'flood line 1007']);
  });
});
