import { addTests } from './_suite.ts';

// The WebSocket contract, through rxroute run on Deno: deno run -A src/main.ts.
addTests('deno');
