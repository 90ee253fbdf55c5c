import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, type RequestRecord } from '../../src/log/logger.ts';

const record = (path: string, status = 200, owner = 'frontend'): RequestRecord => ({
  method: 'GET',
  path,
  owner,
  status,
  ms: 3.2,
  bytes: 2048,
});

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
    expect(lines[0]).toContain('… 6 Vite module requests (5×200, 1×304); --verbose shows each');
  });

  it('never folds a failed module request, nor anything with --verbose', () => {
    logger().request(record('/src/missing.tsx', 404));
    logger({ verbose: true }).request(record('/@vite/client'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('/src/missing.tsx');
    expect(lines[1]).toContain('/@vite/client');
  });

  it('writes every request as one JSON object with --log json', () => {
    logger({ format: 'json' }).request(record('/@vite/client'));
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', event: 'request', method: 'GET', path: '/@vite/client', owner: 'frontend', status: 200, bytes: 2048 });
  });

  it('writes nothing per request with --quiet', () => {
    logger({ quiet: true }).request(record('/x'));
    vi.advanceTimersByTime(2000);
    expect(lines).toEqual([]);
  });
});
