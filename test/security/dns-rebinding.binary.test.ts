import { addTests } from './_dns-rebinding.ts';

// The DNS-rebinding guard (DESIGN §7), through rxroute run as the compiled Bun binary, dist/rxroute.
addTests('binary');
