import { parseInt10, setPath, type Layer } from '../config/env.ts';
import { didYouMean } from '../config/format-issues.ts';
import { ConfigError } from '../errors.ts';

// argv → a command plus a config-shaped layer of flag values (DESIGN §8).
// Hand-written (a dozen options) so the core needs no runtime's parser.

export const COMMANDS = ['run', 'routes', 'doctor', 'export', 'demo', 'dev', 'trust'] as const;
export type Command = (typeof COMMANDS)[number] | 'help' | 'version';

export interface ParsedArgs {
  command: Command;
  positionals: string[];
  flags: { layer: Layer; origin: Map<string, string> };
  configPath?: string;
  /** Values of options that are not config keys (`export`'s --server-name …), by option name. */
  extras: Record<string, string>;
  /** Arguments after `--` (`rxroute dev -- CMD ARGS…`); undefined without `--`. */
  rest?: string[];
  /** `rxroute dev --no-restart`. */
  noRestart: boolean;
}

interface OptionSpec {
  names: string[];
  /** Config key path the value goes to; absent for options handled here. */
  path?: string[];
  value?: 'string' | 'int' | 'list';
  /** A flag that takes no value sets this. */
  set?: unknown;
  /** Only for this command; the value lands in `extras`, not the config. */
  only?: Command;
}

export const OPTIONS: OptionSpec[] = [
  { names: ['-p', '--port'], path: ['port'], value: 'int' },
  { names: ['--host'], path: ['host'], value: 'string' },
  { names: ['--frontend'], path: ['frontend'], value: 'string' },
  { names: ['--backend'], path: ['backend'], value: 'string' },
  { names: ['--django'], path: ['proxy', 'server'], value: 'string' },
  { names: ['--profile'], path: ['profile'], value: 'string' },
  { names: ['-c', '--config'], value: 'string' },
  { names: ['--static'], path: ['build_dir'], value: 'string' },
  { names: ['--allowed-host'], path: ['allowed_hosts'], value: 'list' },
  { names: ['--wait'], path: ['wait_ms'], value: 'int' },
  { names: ['--log'], path: ['log'], value: 'string' },
  { names: ['-q', '--quiet'], path: ['quiet'], set: true },
  { names: ['-v', '--verbose'], path: ['verbose'], set: true },
  { names: ['--https'], path: ['https'], set: true },
  { names: ['--cert'], path: ['cert'], value: 'string' },
  { names: ['--key'], path: ['key'], value: 'string' },
  { names: ['--print'], only: 'trust' },
  { names: ['--server-name'], value: 'string', only: 'export' },
  { names: ['--listen'], value: 'string', only: 'export' },
  { names: ['--reflex'], value: 'string', only: 'export' },
  { names: ['--static-root'], value: 'string', only: 'export' },
  { names: ['--no-restart'], only: 'dev' },
  { names: ['-h', '--help'] },
  { names: ['--version'] },
];

const ALL_NAMES = OPTIONS.flatMap((o) => o.names);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const layer: Layer = {};
  const origin = new Map<string, string>();
  const positionals: string[] = [];
  let command: Command | undefined;
  let configPath: string | undefined;
  let help = false;
  let version = false;
  const extras: Record<string, string> = {};
  let rest: string[] | undefined;
  let noRestart = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (command === undefined && positionals.length === 0) {
        if (!(COMMANDS as readonly string[]).includes(arg)) {
          const near = didYouMean(arg, COMMANDS);
          throw new ConfigError(
            [`unknown command "${arg}"${near ? ` (did you mean "${near}"?)` : ''}`],
            'commands: run (the default), dev, routes, doctor, export, demo, trust; see rxroute --help',
          );
        }
        command = arg as Command;
      } else positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq !== -1 ? arg.slice(0, eq) : arg;
    const spec = OPTIONS.find((o) => o.names.includes(name));
    if (!spec) {
      const near = didYouMean(name, ALL_NAMES);
      throw new ConfigError([`unknown option ${name}${near ? ` (did you mean ${near}?)` : ''}`], 'rxroute --help lists every option');
    }
    if (name === '-h' || name === '--help') help = true;
    if (name === '--version') version = true;
    if (spec.value === undefined) {
      if (eq !== -1) throw new ConfigError([`option ${name} takes no value (got "${arg.slice(eq + 1)}")`]);
      if (name === '--no-restart') {
        noRestart = true;
        continue;
      }
      if (spec.only) extras[name] = 'true';
      if (spec.path) {
        setPath(layer, spec.path, spec.set);
        origin.set(spec.path.join('.'), `from ${name}`);
      }
      continue;
    }
    let raw: string | undefined;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else {
      raw = argv[i + 1];
      if (raw === undefined || (raw.startsWith('-') && raw !== '-' && !/^-\d/.test(raw))) {
        throw new ConfigError([`option ${name} needs a value`], `for example: rxroute ${example(spec)}`);
      }
      i++;
    }
    if (spec.only) {
      extras[name] = raw;
      continue;
    }
    if (!spec.path) {
      configPath = raw;
      continue;
    }
    const key = spec.path.join('.');
    origin.set(key, `from ${name}`);
    if (spec.value === 'list') {
      const prev = layer[spec.path[0]!];
      setPath(layer, spec.path, [...(Array.isArray(prev) ? prev : []), raw]);
    } else setPath(layer, spec.path, spec.value === 'int' ? parseInt10(raw) : raw);
    if (name === '--static') {
      setPath(layer, ['serve_from_build'], true);
      origin.set('serve_from_build', 'from --static');
    }
  }
  const misplaced = Object.keys(extras).find((name) => OPTIONS.find((o) => o.names.includes(name))?.only !== (command ?? 'run'));
  if (misplaced && !help && !version) {
    const only = OPTIONS.find((o) => o.names.includes(misplaced))?.only;
    if (only === 'trust') throw new ConfigError([`option ${misplaced} only applies to rxroute trust`], 'for example: rxroute trust --print');
    throw new ConfigError([`option ${misplaced} only applies to rxroute export`], 'for example: rxroute export nginx --server-name example.com');
  }
  if (noRestart && (command ?? 'run') !== 'dev' && !help && !version) {
    throw new ConfigError(['option --no-restart only applies to rxroute dev'], 'for example: rxroute dev --no-restart');
  }
  if (rest !== undefined && (command ?? 'run') !== 'dev') {
    // Other commands take their positionals either side of `--`, as before.
    positionals.push(...rest);
    rest = undefined;
  }
  if (help) command = 'help';
  else if (version) command = 'version';
  return { command: command ?? 'run', positionals, flags: { layer, origin }, configPath, extras, rest, noRestart };
}

function example(spec: OptionSpec): string {
  const name = spec.names[spec.names.length - 1]!;
  const samples: Record<string, string> = {
    '--port': '3000', '--host': '127.0.0.1', '--frontend': 'http://127.0.0.1:3001',
    '--backend': 'http://127.0.0.1:8000', '--django': 'http://127.0.0.1:8001', '--profile': 'split_dev',
    '--config': 'rxroute.json', '--static': '.web/build/client', '--allowed-host': 'myapp.test',
    '--wait': '15000', '--log': 'json', '--server-name': 'example.com', '--listen': '80',
    '--reflex': 'http://127.0.0.1:8000', '--static-root': '.web/build/client',
    '--cert': 'localhost.pem', '--key': 'localhost-key.pem',
  };
  return `${name} ${samples[name] ?? 'VALUE'}`;
}
