import { addTests } from './_serve-build.ts';

// Serving an exported build from disk (DESIGN §4), through rxroute run as Node (dist/npm/rxroute.js).
addTests('node');
