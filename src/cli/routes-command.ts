import { buildRouteTable, explainPath } from '../routing/route-table.ts';
import type { Runtime } from '../runtime.ts';
import type { ParsedArgs } from './args.ts';
import { loadCliConfig } from './load-cli-config.ts';
import { formatExplanations, formatRouteTable } from './route-listing.ts';

/** `rxroute routes [path…]`: the table, or which owner gets each path and why. */
export function routesCommand(args: ParsedArgs, runtime: Runtime): number {
  const config = loadCliConfig(args, runtime);
  const table = buildRouteTable(config);
  if (args.positionals.length === 0) {
    console.log(`profile ${config.profile}; first match wins\n`);
    console.log(formatRouteTable(table));
  } else {
    console.log(formatExplanations(args.positionals.map((p) => explainPath(table, p))));
  }
  return 0;
}
