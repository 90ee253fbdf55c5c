import { addTests } from './_suite.ts';

// DESIGN §6's retry rule, through rxroute run by Node from dist/npm.
addTests('node');
