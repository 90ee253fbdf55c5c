import { addTests } from './_suite.ts';

// The status page and the 502 page's reload, in Chromium, through the compiled binary (dist/rxroute).
addTests('binary');
