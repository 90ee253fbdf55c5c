import { addRxconfigTests } from './_suite.ts';

addRxconfigTests('binary');
