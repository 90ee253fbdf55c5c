import { addTests } from './_request-target.ts';

// A request-target never chooses where rxroute connects, through rxroute run as Deno (deno run -A src/main.ts).
addTests('deno');
