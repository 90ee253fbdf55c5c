import { addTests } from './_idle-connections.ts';

// Thousands of idle connections and open WebSockets, through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
