import { addCertificateTests } from './_certs-suite.ts';

// --cert/--key, bad certificate input, renewal and trust --print through rxroute run as node.
addCertificateTests('node');
