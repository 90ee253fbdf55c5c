import { addCliTests } from './_suite.ts';

addCliTests('node');
