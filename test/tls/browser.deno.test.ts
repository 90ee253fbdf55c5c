import { addBrowserTests } from './_browser-suite.ts';

// Chromium with rxroute's CA in its NSS database, through rxroute run as deno.
addBrowserTests('deno');
