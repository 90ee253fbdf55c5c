import { addTests } from './_suite.ts';

// The proxy contract, through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
