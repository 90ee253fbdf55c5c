import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, type RequestRecord } from '../../src/log/logger.ts';

const record = (path: string, status = 200, owner = 'frontend', dest?: string | null): RequestRecord => ({
  method: 'GET',
  path,
  owner,
  status,
  ms: 3.2,
  bytes: 2048,
  ...(dest !== undefined && { dest }),
});

// The path column of a pretty line: after the padded method, status and owner.
const pathOf = (line: string) => line.split(/ +/)[4];

describe('request log', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  const logger = (opts: { format?: 'pretty' | 'json'; verbose?: boolean; quiet?: boolean } = {}) =>
    createLogger({ format: 'pretty', verbose: false, quiet: false, color: false, ...opts, write: (l) => lines.push(l) });

  it('writes one pretty line per request with method, status, owner, path, duration and bytes', () => {
    logger().request(record('/admin/login', 302, 'django'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d GET {4}302 django {3}\/admin\/login 3\.2ms 2\.0kB$/);
  });

  it('folds Vite module requests into one summary line after a quiet second', () => {
    const log = logger();
    for (const p of ['/@vite/client', '/src/main.tsx', '/node_modules/.vite/deps/react.js', '/@fs/x.js', '/@id/y']) log.request(record(p));
    log.request(record('/src/App.tsx', 304));
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('… 6 module/asset requests (5×200, 1×304); --verbose shows each');
  });

  it("folds Reflex's own modules and assets by path when the client sends no Sec-Fetch-Dest", () => {
    const log = logger();
    const paths = ['/app/root.jsx', '/app/routes/_index.jsx', '/utils/state.js', '/components/reflex/radix_themes_color_mode_provider.js', '/styles/styles.css', '/env.json', '/reflex.json'];
    for (const p of paths) log.request(record(p, 200, 'frontend', null));
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('… 7 module/asset requests (7×200)');
  });

  it('lists pages that live under a Reflex module folder name', () => {
    const log = logger();
    for (const p of ['/app/settings', '/components', '/components/button', '/styles/', '/env.json/x']) log.request(record(p));
    vi.advanceTimersByTime(1000);
    expect(lines.map(pathOf)).toEqual(['/app/settings', '/components', '/components/button', '/styles/', '/env.json/x']);
  });

  it('folds what the browser fetches as script, style, image, font or manifest, whatever the path', () => {
    const log = logger();
    log.request(record('/assets/index-B1x9.js', 200, 'build', 'script'));
    log.request(record('/assets/index-C2y0.css', 200, 'build', 'style'));
    log.request(record('/favicon.ico', 200, 'frontend', 'image'));
    log.request(record('/fonts/inter.woff2', 304, 'frontend', 'font'));
    log.request(record('/manifest.webmanifest', 200, 'frontend', 'manifest'));
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('… 5 module/asset requests (4×200, 1×304)');
  });

  it('lists documents, fetch/XHR calls and iframes even on a module-looking path', () => {
    const log = logger();
    log.request(record('/app/report.csv', 200, 'frontend', 'document'));
    log.request(record('/env.json', 200, 'frontend', 'empty'));
    log.request(record('/components/preview.html', 200, 'frontend', 'iframe'));
    vi.advanceTimersByTime(1000);
    expect(lines.map(pathOf)).toEqual(['/app/report.csv', '/env.json', '/components/preview.html']);
  });

  it('folds a Reflex page load to the page, its socket and one summary line', () => {
    const log = logger();
    log.request(record('/', 200, 'frontend', 'document'));
    for (const p of ['/@vite/client', '/app/root.jsx', '/utils/state.js', '/env.json', '/styles/styles.css', '/node_modules/.vite/deps/react.js'])
      log.request(record(p, 200, 'frontend', 'script'));
    log.request(record('/favicon.ico', 200, 'frontend', 'image'));
    log.request(record('/_event', 101, 'backend', 'websocket'));
    log.request(record('/api/items', 200, 'backend', 'empty'));
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/ 200 frontend \/ /);
    expect(lines[1]).toMatch(/ 101 backend {2}\/_event /);
    expect(lines[2]).toMatch(/ 200 backend {2}\/api\/items /);
    expect(lines[3]).toContain('… 7 module/asset requests (7×200)');
  });

  it("lists other upstreams' assets: only the frontend's are folded", () => {
    logger().request(record('/static/admin/css/base.css', 200, 'django', 'style'));
    logger().request(record('/static/app.js', 200, 'backend', 'script'));
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(2);
  });

  it('never folds a failed module request, nor anything with --verbose', () => {
    logger().request(record('/src/missing.tsx', 404));
    logger().request(record('/utils/gone.js', 502, 'frontend', 'script'));
    logger({ verbose: true }).request(record('/@vite/client'));
    logger({ verbose: true }).request(record('/app/root.jsx', 200, 'frontend', 'script'));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('/src/missing.tsx');
    expect(lines[1]).toContain('/utils/gone.js');
    expect(lines[2]).toContain('/@vite/client');
    expect(lines[3]).toContain('/app/root.jsx');
  });

  it('writes every request as one JSON object with --log json', () => {
    logger({ format: 'json' }).request(record('/@vite/client'));
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', event: 'request', method: 'GET', path: '/@vite/client', owner: 'frontend', status: 200, bytes: 2048 });
  });

  it('writes Sec-Fetch-Dest into the JSON line only when the browser sent one', () => {
    const log = logger({ format: 'json' });
    log.request(record('/app/root.jsx', 200, 'frontend', 'script'));
    log.request(record('/app/root.jsx', 200, 'frontend', null));
    expect(JSON.parse(lines[0]!)).toMatchObject({ path: '/app/root.jsx', dest: 'script' });
    expect(JSON.parse(lines[1]!)).not.toHaveProperty('dest');
  });

  it('writes nothing per request with --quiet', () => {
    logger({ quiet: true }).request(record('/x'));
    vi.advanceTimersByTime(2000);
    expect(lines).toEqual([]);
  });
});
