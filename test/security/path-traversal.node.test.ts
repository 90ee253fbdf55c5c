import { addTests } from './_path-traversal.ts';

// No path escapes the build directory (DESIGN §4), through rxroute run as Node (dist/npm/rxroute.js).
addTests('node');
