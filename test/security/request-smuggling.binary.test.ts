import { addTests } from './_request-smuggling.ts';

// Request smuggling over raw TCP, through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
