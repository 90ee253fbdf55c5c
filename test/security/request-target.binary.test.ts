import { addTests } from './_request-target.ts';

// A request-target never chooses where rxroute connects, through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
