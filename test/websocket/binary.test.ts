import { addTests } from './_suite.ts';

// The WebSocket contract, through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
