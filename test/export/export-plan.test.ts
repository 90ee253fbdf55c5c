import { describe, expect, test } from 'vitest';
import { parseArgs } from '../../src/cli/args.ts';
import { loadConfig } from '../../src/config/load.ts';
import { renderCaddy } from '../../src/export/caddy.ts';
import { buildExportPlan, type ExportOptions } from '../../src/export/export-plan.ts';
import { renderNginx } from '../../src/export/nginx.ts';

const base: ExportOptions = { version: '9.9.9', source: 'test' };
const plan = (file: unknown, options: Partial<ExportOptions> = {}) =>
  buildExportPlan(loadConfig({ file: { path: 'rxroute.json', data: file } }), { ...base, ...options });

describe('export plan', () => {
  test('backend_path is prepended to the Reflex paths and /_event keeps its own location', () => {
    const nginx = renderNginx(plan({ backend_path: '/app/' }), {});
    expect(nginx).toContain('location ~ "^(/app/_event)(/|$)"');
    expect(nginx).toContain('location ~ "^(/app/_upload)(/|$)"');
    expect(nginx).not.toContain('"^(/_event)');
  });

  test('a custom route that shadows a later prefix keeps first-match order', () => {
    const p = plan({ routes: [{ prefix: '/api', to: 'http://127.0.0.1:9000' }] });
    expect(p.routes.map((r) => [r.prefixes, r.target])).toContainEqual([['/api'], 'http://127.0.0.1:9000']);
    expect(p.routes.find((r) => r.owner === 'django')!.prefixes).toEqual(['/admin', '/static', '/media']);
  });

  test('reflex_only sends the shell to the Reflex backend; --static-root to disk', () => {
    expect(plan({ profile: 'reflex_only', backend: 'http://10.0.0.2:8000' }).catchAll).toMatchObject({ kind: 'proxy', target: 'http://10.0.0.2:8000' });
    expect(plan({}, { staticRoot: '/srv/app' }).catchAll).toEqual({ kind: 'static', root: '/srv/app' });
  });

  test('--reflex moves the embedded Django along with it in profile integrated', () => {
    const p = plan({}, { reflex: 'http://10.0.0.5:8000' });
    expect(new Set(p.routes.map((r) => r.target))).toEqual(new Set(['http://10.0.0.5:8000']));
  });

  test('change_origin and ws=false routes get their own header set', () => {
    const p = plan({ routes: [{ prefix: '/ext', to: 'https://api.example.com/v1', change_origin: true, ws: false }] });
    const nginx = renderNginx(p, {});
    expect(nginx).toContain('proxy_set_header Host $proxy_host;');
    expect(nginx).toContain('rewrite ^ /v1$uri break;');
    const caddy = renderCaddy(p, {});
    expect(caddy).toContain('header_up Host {upstream_hostport}');
    expect(caddy).toContain('rewrite * /v1{uri}');
  });

  test('--listen is checked', () => {
    expect(() => renderNginx(plan({}), { listen: 'eighty' })).toThrow('--listen must be PORT or ADDR:PORT (got "eighty")');
    expect(renderNginx(plan({}), { listen: '[::1]:8080' })).toContain('listen [::1]:8080;');
    expect(renderCaddy(plan({}), { serverName: 'example.com' })).toContain('\nexample.com {');
  });

  test('export-only options are refused by other commands', () => {
    expect(parseArgs(['export', 'nginx', '--static-root', 'dist']).extras).toEqual({ '--static-root': 'dist' });
    expect(() => parseArgs(['--listen', '80'])).toThrow('option --listen only applies to rxroute export');
  });
});
