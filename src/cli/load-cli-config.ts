import { loadConfig, parseConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { ParsedArgs } from './args.ts';

/** flags > env > `rxroute.json` (or --config) > defaults, validated. */
export function loadCliConfig(args: ParsedArgs, runtime: Runtime): Config {
  const explicit = args.configPath;
  const path = explicit ?? 'rxroute.json';
  const text = runtime.readTextFile(path);
  if (text === undefined && explicit !== undefined) {
    throw new ConfigError([`config file ${explicit} not found (from --config)`], 'check the path, or drop --config to use ./rxroute.json');
  }
  return loadConfig({
    flags: args.flags,
    env: runtime.env,
    file: text === undefined ? undefined : parseConfigFile(path, text),
  });
}
