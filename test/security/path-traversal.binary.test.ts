import { addTests } from './_path-traversal.ts';

// No path escapes the build directory (DESIGN §4), through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
