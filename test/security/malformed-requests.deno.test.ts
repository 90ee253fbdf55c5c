import { addTests } from './_malformed-requests.ts';

// Malformed and oversized requests (DESIGN §7), through rxroute run as Deno (deno run -A src/main.ts).
addTests('deno');
