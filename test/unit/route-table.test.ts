import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';
import { buildRouteTable, explainPath, matchRoute, prefixMatches } from '../../src/routing/route-table.ts';

const table = (data: Partial<ConfigInput> = {}, env: Record<string, string> = {}) =>
  buildRouteTable(loadConfig({ file: { path: 'rxroute.json', data }, env }));
const owner = (t: ReturnType<typeof table>, path: string) => explainPath(t, path).entry.owner;

describe('prefix matching', () => {
  it('matches on segment boundaries only', () => {
    expect(prefixMatches('/admin', '/admin')).toBe(true);
    expect(prefixMatches('/admin', '/admin/')).toBe(true);
    expect(prefixMatches('/admin', '/admin/x')).toBe(true);
    expect(prefixMatches('/admin', '/adminx')).toBe(false);
    expect(prefixMatches('/admin', '/admi')).toBe(false);
    expect(prefixMatches('/', '/anything')).toBe(true);
  });
});

describe('route table: integrated profile (defaults)', () => {
  const t = table();

  it('sends Reflex paths to the backend', () => {
    for (const p of ['/_event', '/_event/?EIO=4&transport=websocket', '/_upload', '/_upload/file.png', '/ping', '/_health', '/_all_routes', '/auth-codespace']) {
      expect([p, owner(t, p)]).toEqual([p, 'backend']);
    }
  });

  it('sends Django prefixes, static and media to django on the backend upstream', () => {
    for (const p of ['/admin', '/admin/login/', '/api/v1/x', '/static/admin/css/base.css', '/media/a.png']) {
      const e = explainPath(t, p).entry;
      expect([p, e.owner, e.target]).toEqual([p, 'django', 'http://127.0.0.1:8000']);
    }
  });

  it('sends everything else to the frontend', () => {
    for (const p of ['/', '/adminx', '/@vite/client', '/src/main.tsx', '/_eventx', '/pingpong', '/statics']) {
      expect([p, owner(t, p)]).toEqual([p, 'frontend']);
    }
  });

  it('resolves dot-segments, including encoded ones, before matching', () => {
    expect(owner(t, '/x/../admin/')).toBe('django');
    expect(owner(t, '/admin/../index.html')).toBe('frontend');
    expect(owner(t, '/%2e%2e/admin')).toBe('django');
    expect(owner(t, '/static/%2e%2e/_event')).toBe('backend');
  });

  it('keeps rxroute\'s own namespace first', () => {
    expect(owner(t, '/__rxroute/health')).toBe('rxroute');
    expect(owner(table({ routes: [{ prefix: '/__rxroute', to: 'backend' }] }), '/__rxroute/x')).toBe('rxroute');
  });

  it('explains which rule matched', () => {
    expect(explainPath(t, '/admin/login').reason).toBe('matched prefix /admin (django prefix (profile integrated))');
    expect(explainPath(t, '/adminx').reason).toBe('no prefix matched; catch-all (dev_proxy)');
  });
});

describe('route table: other profiles and options', () => {
  it('split_dev sends Django prefixes to proxy.server', () => {
    const t = table({}, { RX_PROXY_SERVER: 'http://127.0.0.1:8001' });
    expect(explainPath(t, '/admin/').entry.target).toBe('http://127.0.0.1:8001');
    expect(explainPath(t, '/_event').entry.target).toBe('http://127.0.0.1:8000');
  });

  it('reflex_only does not route Django prefixes', () => {
    expect(owner(table({ profile: 'reflex_only' }), '/admin/')).toBe('frontend');
  });

  it('user routes come before Reflex and Django rules, in order', () => {
    const t = table({
      routes: [
        { prefix: '/api/special', to: 'http://127.0.0.1:9000' },
        { prefix: '/api', to: 'frontend' },
        { prefix: '/_event', to: 'http://127.0.0.1:9001', ws: true },
      ],
    });
    expect(explainPath(t, '/api/special/x').entry).toMatchObject({ owner: 'custom', target: 'http://127.0.0.1:9000', rule: 'routes[0]' });
    expect(explainPath(t, '/api/other').entry).toMatchObject({ owner: 'frontend', rule: 'routes[1]' });
    expect(explainPath(t, '/_event/').entry).toMatchObject({ target: 'http://127.0.0.1:9001', ws: true });
  });

  it('prepends backend_path to Reflex paths', () => {
    const t = table({ backend_path: '/backend' });
    expect(owner(t, '/backend/_event')).toBe('backend');
    expect(owner(t, '/_event')).toBe('frontend');
  });

  it('routes extra django_prefix entries and custom static/media URLs', () => {
    const t = table({ django_prefix: ['/admin', '/graphql/'], static_url: '/assets/', media_url: '/uploads/' });
    expect(['/graphql', '/assets/x.css', '/uploads/a', '/static/x'].map((p) => owner(t, p))).toEqual([
      'django', 'django', 'django', 'frontend',
    ]);
  });

  it('separate_dev_ports leaves only the frontend', () => {
    const t = table({ proxy: { enabled: true, separate_dev_ports: true } });
    expect(['/_event', '/admin', '/x'].map((p) => owner(t, p))).toEqual(['frontend', 'frontend', 'frontend']);
  });

  it('picks the catch-all from the disk settings', () => {
    expect(table({ serve_from_build: true }).catchAll.owner).toBe('build');
    expect(table({ compile_dev: true, dev_proxy: false }).catchAll.owner).toBe('build');
    expect(table({ serve_from_build: true, frontend_present: true }).catchAll.owner).toBe('frontend');
    expect(table({ dev_proxy: false }).catchAll.owner).toBe('none');
  });

  it('refuses a route to django in a profile without Django', () => {
    expect(() => table({ profile: 'reflex_only', routes: [{ prefix: '/x', to: 'django' }] })).toThrow(ConfigError);
  });

  it('matchRoute falls through to the catch-all', () => {
    const t = table();
    expect(matchRoute(t, '/nothing/here')).toBe(t.catchAll);
  });
});
