import { addTests } from './_suite.ts';

addTests('binary');
