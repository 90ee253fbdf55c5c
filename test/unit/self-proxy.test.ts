import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.ts';
import { resolveConfig, validateConfig, type ConfigSources } from '../../src/config/load.ts';
import { selfProxyProblem } from '../../src/config/self-proxy.ts';
import { rxconfigLayer, type RxconfigRead } from '../../src/dev/rxconfig.ts';

/** selfProxyProblem on the config these sources resolve to. */
function check(sources: ConfigSources & { argv?: string[]; rx?: RxconfigRead['raw']; mode?: 'run' | 'dev' }) {
  const resolved = resolveConfig({
    ...sources,
    flags: parseArgs(sources.argv ?? []).flags,
    rxconfig: sources.rx ? rxconfigLayer({ raw: sources.rx }, sources.mode ?? 'run') : undefined,
  });
  return selfProxyProblem(validateConfig(resolved), resolved.origin);
}

describe('selfProxyProblem: plain rxroute would proxy to itself', () => {
  it('rxconfig frontend_port=3000 and rxroute on its default port 3000', () => {
    const problem = check({ rx: { frontend_port: { value: 3000, line: 4 } } });
    expect(problem?.problems).toEqual([
      "the frontend upstream http://127.0.0.1:3000 (rxconfig.py:4 frontend_port) is rxroute's own port 3000 (default): rxroute would proxy to itself",
    ]);
    expect(problem?.hint).toBe('run rxroute dev, which moves Vite to a free port, or set frontend_port to another port (e.g. 3001) in rxconfig.py / pass --port');
    expect(problem?.exitCode).toBe(2);
  });

  it('names the flag and the variable when they are the sources', () => {
    const problem = check({ argv: ['--frontend', 'http://localhost:4100'], env: { RXROUTE_PORT: '4100' } });
    expect(problem?.problems).toEqual([
      "the frontend upstream http://localhost:4100 (from --frontend) is rxroute's own port 4100 (from RXROUTE_PORT): rxroute would proxy to itself",
    ]);
    expect(problem?.hint).toContain('point --frontend at another port (e.g. http://127.0.0.1:4101)');
  });

  it('a backend on rxroute port (integrated: Django shares it, one line)', () => {
    const problem = check({ rx: { backend_port: { value: 3000, line: 7 } } });
    expect(problem?.problems).toEqual([
      "the backend upstream http://127.0.0.1:3000 (rxconfig.py:7 backend_port) is rxroute's own port 3000 (default): rxroute would proxy to itself",
    ]);
  });

  it('no problem for: another port, rxroute dev (frontend_port is the listening port), port 0, a build served from disk', () => {
    expect(check({ rx: { frontend_port: { value: 3001, line: 4 } } })).toBeUndefined();
    expect(check({ rx: { frontend_port: { value: 3000, line: 4 } }, mode: 'dev' })).toBeUndefined();
    expect(check({ rx: { frontend_port: { value: 3000, line: 4 } }, argv: ['--port', '3005'] })).toBeUndefined();
    expect(check({ argv: ['--port', '0', '--frontend', 'http://127.0.0.1:0'] })).toBeUndefined();
    expect(check({ rx: { frontend_port: { value: 3000, line: 4 } }, argv: ['--static', 'dist'] })).toBeUndefined();
  });

  it('loopback upstreams count when rxroute binds a wildcard; other hosts only when rxroute binds them', () => {
    expect(check({ argv: ['--host', '0.0.0.0', '--frontend', 'http://127.0.0.1:3000'] })).toBeDefined();
    expect(check({ argv: ['--frontend', 'http://192.168.1.20:3000'] })).toBeUndefined();
    expect(check({ argv: ['--host', '192.168.1.20', '--frontend', 'http://127.0.0.1:3000'] })).toBeUndefined();
    expect(check({ argv: ['--host', '192.168.1.20', '--frontend', 'http://192.168.1.20:3000'] })).toBeDefined();
  });
});
