import { addTests } from './_serve-build.ts';

// Serving an exported build from disk (DESIGN §4), through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
