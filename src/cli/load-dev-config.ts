import type { Config } from '../config/schema.ts';
import { findPython, RXCONFIG } from '../dev/rxconfig.ts';
import type { Runtime } from '../runtime.ts';
import type { ParsedArgs } from './args.ts';
import { loadCliConfigWithSources } from './load-cli-config.ts';

// The config `rxroute dev` plans from: rxconfig.py read in 'dev' mode (its
// frontend_port is the port rxroute listens on), plus what the planner needs
// to know about where values came from and what the project holds.

export interface DevConfig {
  config: Config;
  origin: Map<string, string>;
  notes: string[];
  hasRxconfig: boolean;
  /** The frontend upstream was named by a flag, env var or rxroute.json: Vite stays there. */
  frontendExplicit: boolean;
  /** The project's Python (for runserver); `python3` when none was found, so the error names it. */
  python: string;
}

export function loadDevConfig(args: ParsedArgs, runtime: Runtime): DevConfig {
  const { config, origin, notes, rxconfig } = loadCliConfigWithSources(args, runtime, 'dev');
  return {
    config,
    origin,
    notes,
    hasRxconfig: runtime.fileExists(`${runtime.cwd()}/${RXCONFIG}`),
    frontendExplicit: origin.has('frontend'),
    python: rxconfig?.python ?? findPython(runtime) ?? (runtime.platform === 'win32' ? 'python' : 'python3'),
  };
}
