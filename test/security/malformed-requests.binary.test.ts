import { addTests } from './_malformed-requests.ts';

// Malformed and oversized requests (DESIGN §7), through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
