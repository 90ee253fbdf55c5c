import { addTests } from './_suite.ts';

// The WebSocket contract, through rxroute run as the npm build on Node: node dist/npm/rxroute.js.
addTests('node');
