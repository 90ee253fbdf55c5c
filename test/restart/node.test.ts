import { addTests } from './_suite.ts';

addTests('node');
