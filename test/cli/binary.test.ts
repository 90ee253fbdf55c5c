import { addCliTests } from './_suite.ts';

addCliTests('binary');
