import { addTests } from './_idle-connections.ts';

// Thousands of idle connections and open WebSockets, through rxroute run as Node (dist/npm/rxroute.js).
addTests('node');
