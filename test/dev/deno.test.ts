import { addDevTests } from './_suite.ts';

addDevTests('deno');
