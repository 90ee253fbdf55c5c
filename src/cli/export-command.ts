import { ENV_KEYS } from '../config/env.ts';
import { ConfigError } from '../errors.ts';
import { renderCaddy } from '../export/caddy.ts';
import { buildExportPlan } from '../export/export-plan.ts';
import { renderNginx } from '../export/nginx.ts';
import type { Runtime } from '../runtime.ts';
import { VERSION } from '../version.ts';
import type { ParsedArgs } from './args.ts';
import { loadCliConfigWithSources, printNotes } from './load-cli-config.ts';

const FORMATS = ['nginx', 'caddy'] as const;

/** `rxroute export nginx|caddy`: a production edge config from the same route table (DESIGN §8). */
export function exportCommand(args: ParsedArgs, runtime: Runtime): number {
  const [format, ...rest] = args.positionals;
  if (format === undefined || !(FORMATS as readonly string[]).includes(format) || rest.length > 0) {
    const got = args.positionals.length === 0 ? 'nothing' : `"${args.positionals.join(' ')}"`;
    throw new ConfigError([`export needs one format, nginx or caddy (got ${got})`], 'for example: rxroute export nginx --server-name example.com > reflex.conf');
  }
  const { config, origin, notes } = loadCliConfigWithSources(args, runtime, 'run');
  printNotes(notes);
  const options = {
    serverName: args.extras['--server-name'],
    listen: args.extras['--listen'],
    reflex: args.extras['--reflex'],
    staticRoot: args.extras['--static-root'],
    version: VERSION,
    source: describeSource(args, runtime, origin),
  };
  const plan = buildExportPlan(config, options);
  const text = format === 'nginx' ? renderNginx(plan, options) : renderCaddy(plan, options);
  console.log(text.trimEnd());
  return 0;
}

/** Which file, rxconfig.py values, environment variables and flags produced the config, for the header comment. */
function describeSource(args: ParsedArgs, runtime: Runtime, origin: Map<string, string>): string {
  const file = args.configPath ?? (runtime.readTextFile('rxroute.json') === undefined ? undefined : 'rxroute.json');
  const env = Object.keys(ENV_KEYS).filter((name) => runtime.env[name] !== undefined);
  const flags = [...new Set([...args.flags.origin.values()].map((o) => o.replace(/^from /, '')))];
  if (args.configPath !== undefined) flags.unshift('--config');
  flags.push(...Object.keys(args.extras));
  // Only the rxconfig.py values that won: `rxconfig.py backend_port (line 7)`.
  const rx = [...new Set([...origin.values()].filter((o) => o.startsWith('rxconfig.py:')))].map((o) => o.replace(/^rxconfig\.py:(\d+) (.*)$/, '$2 (line $1)'));
  const parts = [
    file ? file : rx.length ? '' : 'no config file (defaults)',
    rx.length ? `rxconfig.py ${rx.join(', ')}` : '',
    env.length ? `env ${env.join(', ')}` : '',
    flags.length ? `flags ${flags.join(' ')}` : '',
  ];
  return parts.filter(Boolean).join('; ');
}
