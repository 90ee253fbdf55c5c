import { addTests } from './_websocket-origin.ts';

// The cross-site WebSocket guard (DESIGN §7), through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
