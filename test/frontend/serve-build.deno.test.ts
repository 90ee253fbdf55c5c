import { addTests } from './_serve-build.ts';

// Serving an exported build from disk (DESIGN §4), through rxroute run as Deno (deno run -A src/main.ts).
addTests('deno');
