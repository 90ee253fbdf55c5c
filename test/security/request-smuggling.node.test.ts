import { addTests } from './_request-smuggling.ts';

// Request smuggling over raw TCP, through rxroute run as Node (dist/npm/rxroute.js).
addTests('node');
