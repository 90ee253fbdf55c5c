import { describe, expect, it } from 'vitest';
import { problems } from '../_helpers/config-problems.ts';
import { loadConfig, parseConfigFile } from '../../src/config/load.ts';
import { parseArgs } from '../../src/cli/args.ts';


const file = (data: unknown) => ({ path: 'rxroute.json', data });

describe('config: defaults and profiles', () => {
  it('has the documented defaults', () => {
    const c = loadConfig();
    expect(c).toMatchObject({
      profile: 'integrated',
      port: 3000,
      host: '127.0.0.1',
      frontend: 'http://127.0.0.1:3001',
      backend: 'http://127.0.0.1:8000',
      django_prefix: ['/admin', '/api'],
      static_url: '/static/',
      media_url: '/media/',
      wait_ms: 15000,
      build_dir: '.web/build/client',
      proxy: { enabled: true, separate_dev_ports: false },
    });
  });

  it('picks split_dev when only RX_PROXY_SERVER is set', () => {
    const c = loadConfig({ env: { RX_PROXY_SERVER: 'http://127.0.0.1:8001' } });
    expect(c.profile).toBe('split_dev');
    expect(c.proxy.server).toBe('http://127.0.0.1:8001');
  });

  it('keeps an explicit profile even when a Django server is named', () => {
    const c = loadConfig({ env: { RX_PROXY_SERVER: 'http://127.0.0.1:8001' }, file: file({ profile: 'integrated' }) });
    expect(c.profile).toBe('integrated');
  });

  it('rejects split_dev without proxy.server, naming the key', () => {
    const lines = problems(() => loadConfig({ file: file({ profile: 'split_dev' }) }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^proxy\.server must be .*split_dev needs proxy\.server/);
  });
});

describe('config: precedence flags > env > file > defaults', () => {
  it('applies each layer over the one below', () => {
    const fromFile = loadConfig({ file: file({ port: 4000, host: '127.0.0.2' }) });
    expect([fromFile.port, fromFile.host]).toEqual([4000, '127.0.0.2']);
    const fromEnv = loadConfig({ env: { RXROUTE_PORT: '5000' }, file: file({ port: 4000, host: '127.0.0.2' }) });
    expect([fromEnv.port, fromEnv.host]).toEqual([5000, '127.0.0.2']);
    const fromFlags = loadConfig({
      flags: parseArgs(['--port', '6000']).flags,
      env: { RXROUTE_PORT: '5000' },
      file: file({ port: 4000 }),
    });
    expect(fromFlags.port).toBe(6000);
  });

  it('merges nested objects key by key and replaces lists', () => {
    const c = loadConfig({
      env: { RX_SEPARATE_DEV_PORTS: 'yes', RX_DJANGO_PREFIX: '/admin,/graphql' },
      file: file({ proxy: { server: 'http://127.0.0.1:8001' }, django_prefix: ['/x'] }),
    });
    expect(c.proxy).toEqual({ enabled: true, server: 'http://127.0.0.1:8001', separate_dev_ports: true });
    expect(c.django_prefix).toEqual(['/admin', '/graphql']);
  });

  it('accepts RX_DJANGO_PREFIX as a JSON list', () => {
    expect(loadConfig({ env: { RX_DJANGO_PREFIX: '["/a", "/b"]' } }).django_prefix).toEqual(['/a', '/b']);
  });

  it.each([
    ['1', true], ['0', false], ['TRUE', true], ['False', false], ['yes', true], ['No', false], ['on', true], ['OFF', false],
  ])('reads boolean env %s as %s', (raw, expected) => {
    expect(loadConfig({ env: { RX_DEV_PROXY: raw } }).dev_proxy).toBe(expected);
  });

  it('repeats --allowed-host into a list', () => {
    const c = loadConfig({ flags: parseArgs(['--allowed-host', 'a.test', '--allowed-host=b.test']).flags });
    expect(c.allowed_hosts).toEqual(['a.test', 'b.test']);
  });

  it('maps --django to proxy.server and --static to serve_from_build', () => {
    const c = loadConfig({ flags: parseArgs(['--django', 'http://127.0.0.1:8001', '--static', 'out']).flags });
    expect(c.profile).toBe('split_dev');
    expect(c.proxy.server).toBe('http://127.0.0.1:8001');
    expect([c.serve_from_build, c.build_dir]).toEqual([true, 'out']);
  });
});

describe('config: errors name the key, the value, the expectation and the source', () => {
  it('reports an out-of-range port from the file', () => {
    expect(problems(() => loadConfig({ file: file({ port: 70000 }) }))).toEqual([
      'port must be an integer 0–65535 (got 70000) in rxroute.json',
    ]);
  });

  it('reports a non-numeric port from env with the variable name', () => {
    expect(problems(() => loadConfig({ env: { RXROUTE_PORT: 'abc' } }))).toEqual([
      'port must be an integer 0–65535 (got "abc") from RXROUTE_PORT',
    ]);
  });

  it('reports a bad flag value with the flag name', () => {
    expect(problems(() => loadConfig({ flags: parseArgs(['--backend', 'localhost:8000']).flags }))).toEqual([
      'backend must be an http:// or https:// URL (got "localhost:8000") from --backend',
    ]);
  });

  it('suggests the near-miss key for an unknown one', () => {
    expect(problems(() => loadConfig({ file: file({ prot: 3000 }) }))).toEqual([
      'unknown key "prot" in rxroute.json (did you mean "port"?)',
    ]);
    expect(problems(() => loadConfig({ file: file({ proxy: { sever: 'http://x' } }) }))).toEqual([
      'unknown key "proxy.sever" in rxroute.json (did you mean "proxy.server"?)',
    ]);
  });

  it('reports every problem at once, one line each', () => {
    const lines = problems(() =>
      loadConfig({ file: file({ port: -1, profile: 'split', routes: [{ prefix: 'api', to: 'nowhere' }] }) }),
    );
    expect(lines).toHaveLength(4);
    expect(lines).toContain('profile must be one of integrated, split_dev, reflex_only (got "split") in rxroute.json');
    expect(lines).toContain('routes[0].prefix must be a path starting with "/" (got "api") in rxroute.json');
    expect(lines.some((l) => l.startsWith('routes[0].to must be an upstream name'))).toBe(true);
  });

  it('reports a bad boolean env value', () => {
    expect(problems(() => loadConfig({ env: { RX_COMPILE_DEV: 'maybe' } }))[0]).toMatch(
      /^compile_dev must be true or false .* \(got "maybe"\) from RX_COMPILE_DEV$/,
    );
  });

  it('reports invalid JSON with the file name', () => {
    expect(problems(() => parseConfigFile('rxroute.json', '{"port": 3000,}'))[0]).toMatch(/^rxroute\.json is not valid JSON: /);
  });

  it('rejects a config file that is not an object', () => {
    expect(problems(() => loadConfig({ file: file([1, 2]) }))).toEqual(['rxroute.json must hold a JSON object (got object)']);
  });
});

describe('argv', () => {
  it('parses commands, positionals and both option spellings', () => {
    const a = parseArgs(['routes', '/admin', '-p', '4000', '--log=json']);
    expect(a.command).toBe('routes');
    expect(a.positionals).toEqual(['/admin']);
    expect(a.flags.layer).toEqual({ port: 4000, log: 'json' });
  });

  it('rejects unknown options and commands with a suggestion', () => {
    expect(problems(() => parseArgs(['--prot', '3']))).toEqual(['unknown option --prot (did you mean --port?)']);
    expect(problems(() => parseArgs(['rotues']))).toEqual(['unknown command "rotues" (did you mean "routes"?)']);
  });

  it('rejects an option missing its value', () => {
    expect(problems(() => parseArgs(['--port']))).toEqual(['option --port needs a value']);
  });

  it('lets --help and --version win over a command', () => {
    expect(parseArgs(['routes', '--help']).command).toBe('help');
    expect(parseArgs(['--version']).command).toBe('version');
  });
});
