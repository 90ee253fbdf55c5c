import { addDevTests } from './_suite.ts';

addDevTests('binary');
