import * as v from 'valibot';
import { ConfigError } from '../errors.ts';
import { DEFAULTS, defaultProfile } from './defaults.ts';
import { envLayer, type Layer } from './env.ts';
import { formatIssues } from './format-issues.ts';
import { type Config, ConfigSchema } from './schema.ts';

// Resolving (merge flags > env > file > rxconfig.py > defaults) and validating
// are separate steps: resolve keeps a map of where each value came from so a
// validation error can say "from RXROUTE_PORT", "in rxroute.json" or
// "rxconfig.py:7 backend_port".

export interface ConfigSources {
  /** Values from argv, already shaped like the config, with their origins ("from --port"). */
  flags?: { layer: Layer; origin: Map<string, string> };
  env?: Record<string, string | undefined>;
  /** The parsed config file and its path as the user would recognise it. */
  file?: { path: string; data: unknown };
  /** Values read from rxconfig.py (src/dev/rxconfig.ts), with their origins ("rxconfig.py:7 backend_port"). */
  rxconfig?: { layer: Layer; origin: Map<string, string> };
}

export interface Resolved {
  merged: Layer;
  origin: Map<string, string>;
}

export function resolveConfig(sources: ConfigSources): Resolved {
  const origin = new Map<string, string>(sources.rxconfig?.origin);
  let fileLayer: Layer = {};
  if (sources.file) {
    const { path, data } = sources.file;
    if (!isPlainObject(data)) {
      throw new ConfigError([`${path} must hold a JSON object (got ${typeof data})`]);
    }
    fileLayer = data;
    recordLeaves(fileLayer, [], `in ${path}`, origin);
  }
  const env = envLayer(sources.env ?? {}, origin);
  for (const [key, label] of sources.flags?.origin ?? []) origin.set(key, label);
  const merged = [sources.rxconfig?.layer ?? {}, fileLayer, env, sources.flags?.layer ?? {}].reduce<Layer>(
    (acc, layer) => deepMerge(acc, layer),
    structuredClone(DEFAULTS) as Layer,
  );
  if (merged.profile === undefined) {
    merged.profile = defaultProfile((merged.proxy as Layer | undefined)?.server);
  }
  return { merged, origin };
}

export function validateConfig({ merged, origin }: Resolved): Config {
  const result = v.safeParse(ConfigSchema, merged);
  if (!result.success) throw new ConfigError(formatIssues(result.issues, origin));
  return result.output;
}

/** Resolve and validate in one go; throws ConfigError listing every problem. */
export function loadConfig(sources: ConfigSources = {}): Config {
  return validateConfig(resolveConfig(sources));
}

/** Parses a config file's text; a syntax error is a ConfigError naming the file. */
export function parseConfigFile(path: string, text: string): { path: string; data: unknown } {
  try {
    return { path, data: JSON.parse(text) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`${path} is not valid JSON: ${detail}`]);
  }
}

function isPlainObject(value: unknown): value is Layer {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; arrays and scalars from the higher layer replace. */
function deepMerge(base: Layer, over: Layer): Layer {
  const out: Layer = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function recordLeaves(node: Layer, path: string[], label: string, origin: Map<string, string>) {
  for (const [key, value] of Object.entries(node)) {
    const here = [...path, key];
    origin.set(here.join('.'), label);
    if (isPlainObject(value)) recordLeaves(value, here, label, origin);
  }
}
