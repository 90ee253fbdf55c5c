import { addTests } from './_websocket-origin.ts';

// The cross-site WebSocket guard (DESIGN §7), through rxroute run as Deno (deno run -A src/main.ts).
addTests('deno');
