import { addTests } from './_suite.ts';

// DESIGN §6's retry rule, through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
