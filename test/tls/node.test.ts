import { addTlsTests } from './_suite.ts';

// DESIGN §11 through rxroute --https run as node.
addTlsTests('node');
