import { addTests } from './_request-target.ts';

// A request-target never chooses where rxroute connects, through rxroute run as Node (dist/npm/rxroute.js).
addTests('node');
