import { addTests } from './_request-smuggling.ts';

// Request smuggling over raw TCP, through rxroute run as Deno (deno run -A src/main.ts).
addTests('deno');
