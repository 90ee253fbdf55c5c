import { addTests } from './_dns-rebinding.ts';

// The DNS-rebinding guard (DESIGN §7), through rxroute run as Deno (deno run -A src/main.ts).
addTests('deno');
