import { addTests } from './_idle-connections.ts';

// Thousands of idle connections and open WebSockets, through rxroute run as Deno (deno run -A src/main.ts).
addTests('deno');
