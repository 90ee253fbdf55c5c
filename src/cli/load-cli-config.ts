import { loadConfig, parseConfigFile, resolveConfig, validateConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { readRxconfig, rxconfigLayer, type RxconfigValues } from '../dev/rxconfig.ts';
import { ConfigError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { ParsedArgs } from './args.ts';

export interface CliConfig {
  config: Config;
  /** Key path → where its value came from (`from --port`, `in rxroute.json`, `rxconfig.py:7 backend_port`); absent = default. */
  origin: Map<string, string>;
  /** rxconfig.py problems, one line each (no Python, a syntax error, a skipped value). */
  notes: string[];
  /** What rxconfig.py said, or undefined when there is none or it could not be read. */
  rxconfig: RxconfigValues | undefined;
}

/**
 * flags > env > `rxroute.json` (or --config) > rxconfig.py > defaults,
 * validated. `run` (plain rxroute, routes, doctor, export) takes rxconfig's
 * frontend_port as Vite's port; `dev` as the port rxroute listens on.
 */
export function loadCliConfigWithSources(args: ParsedArgs, runtime: Runtime, mode: 'run' | 'dev'): CliConfig {
  const file = readConfigFile(args, runtime);
  const rx = readRxconfig(runtime);
  const resolved = resolveConfig({
    flags: args.flags,
    env: runtime.env,
    file,
    rxconfig: rx.values ? rxconfigLayer(rx, mode) : undefined,
  });
  return { config: validateConfig(resolved), origin: resolved.origin, notes: rx.notes, rxconfig: rx.values };
}

/** flags > env > `rxroute.json` (or --config) > defaults, validated; rxconfig.py is not read. */
export function loadCliConfig(args: ParsedArgs, runtime: Runtime): Config {
  return loadConfig({ flags: args.flags, env: runtime.env, file: readConfigFile(args, runtime) });
}

/** Notes go to stderr so stdout stays the command's output (a table, an nginx file). */
export function printNotes(notes: string[]): void {
  for (const note of notes) console.error(`rxroute: note: ${note}`);
}

function readConfigFile(args: ParsedArgs, runtime: Runtime): { path: string; data: unknown } | undefined {
  const explicit = args.configPath;
  const path = explicit ?? 'rxroute.json';
  const text = runtime.readTextFile(path);
  if (text === undefined && explicit !== undefined) {
    throw new ConfigError([`config file ${explicit} not found (from --config)`], 'check the path, or drop --config to use ./rxroute.json');
  }
  return text === undefined ? undefined : parseConfigFile(path, text);
}
