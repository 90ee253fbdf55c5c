import { ENV_KEYS } from '../config/env.ts';
import { ConfigError } from '../errors.ts';
import { renderCaddy } from '../export/caddy.ts';
import { buildExportPlan } from '../export/export-plan.ts';
import { renderNginx } from '../export/nginx.ts';
import type { Runtime } from '../runtime.ts';
import { VERSION } from '../version.ts';
import type { ParsedArgs } from './args.ts';
import { loadCliConfig } from './load-cli-config.ts';

const FORMATS = ['nginx', 'caddy'] as const;

/** `rxroute export nginx|caddy`: a production edge config from the same route table (DESIGN §8). */
export function exportCommand(args: ParsedArgs, runtime: Runtime): number {
  const [format, ...rest] = args.positionals;
  if (format === undefined || !(FORMATS as readonly string[]).includes(format) || rest.length > 0) {
    const got = args.positionals.length === 0 ? 'nothing' : `"${args.positionals.join(' ')}"`;
    throw new ConfigError([`export needs one format, nginx or caddy (got ${got})`], 'for example: rxroute export nginx --server-name example.com > reflex.conf');
  }
  const config = loadCliConfig(args, runtime);
  const options = {
    serverName: args.extras['--server-name'],
    listen: args.extras['--listen'],
    reflex: args.extras['--reflex'],
    staticRoot: args.extras['--static-root'],
    version: VERSION,
    source: describeSource(args, runtime),
  };
  const plan = buildExportPlan(config, options);
  const text = format === 'nginx' ? renderNginx(plan, options) : renderCaddy(plan, options);
  console.log(text.trimEnd());
  return 0;
}

/** Which file, environment variables and flags produced the config, for the header comment. */
function describeSource(args: ParsedArgs, runtime: Runtime): string {
  const file = args.configPath ?? (runtime.readTextFile('rxroute.json') === undefined ? undefined : 'rxroute.json');
  const env = Object.keys(ENV_KEYS).filter((name) => runtime.env[name] !== undefined);
  const flags = [...new Set([...args.flags.origin.values()].map((o) => o.replace(/^from /, '')))];
  if (args.configPath !== undefined) flags.unshift('--config');
  flags.push(...Object.keys(args.extras));
  const parts = [
    file ? file : 'no config file (defaults)',
    env.length ? `env ${env.join(', ')}` : '',
    flags.length ? `flags ${flags.join(' ')}` : '',
  ];
  return parts.filter(Boolean).join('; ');
}
