import { buildRouteTable, explainPath } from '../routing/route-table.ts';
import type { Runtime } from '../runtime.ts';
import type { ParsedArgs } from './args.ts';
import { loadCliConfigWithSources, printNotes } from './load-cli-config.ts';
import { formatExplanations, formatRouteTable, formatUpstreamSources, upstreamSources } from './route-listing.ts';

/** `rxroute routes [path…]`: the table and where each upstream came from, or which owner gets each path and why. */
export function routesCommand(args: ParsedArgs, runtime: Runtime): number {
  const { config, origin, notes } = loadCliConfigWithSources(args, runtime, 'run');
  printNotes(notes);
  const table = buildRouteTable(config);
  if (args.positionals.length === 0) {
    console.log(`profile ${config.profile}; first match wins\n`);
    console.log(formatRouteTable(table));
    console.log(`\nupstreams:\n${formatUpstreamSources(upstreamSources(config, origin))}`);
  } else {
    console.log(formatExplanations(args.positionals.map((p) => explainPath(table, p))));
  }
  return 0;
}
