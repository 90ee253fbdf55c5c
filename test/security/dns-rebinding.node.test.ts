import { addTests } from './_dns-rebinding.ts';

// The DNS-rebinding guard (DESIGN §7), through rxroute run as Node (dist/npm/rxroute.js).
addTests('node');
