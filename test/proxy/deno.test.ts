import { addTests } from './_suite.ts';

// The proxy contract, through rxroute run as Deno from source: deno run -A src/main.ts.
addTests('deno');
