import { addTests } from './_suite.ts';

// DESIGN §6's retry rule, through rxroute run by Deno from src/.
addTests('deno');
