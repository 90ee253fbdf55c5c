import { addTests } from './_malformed-requests.ts';

// Malformed and oversized requests (DESIGN §7), through rxroute run as Node (dist/npm/rxroute.js).
addTests('node');
