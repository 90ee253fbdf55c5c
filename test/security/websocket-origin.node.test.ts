import { addTests } from './_websocket-origin.ts';

// The cross-site WebSocket guard (DESIGN §7), through rxroute run as Node (dist/npm/rxroute.js).
addTests('node');
