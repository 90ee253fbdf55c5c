import { addTests } from './_suite.ts';

// The status page and the 502 page's reload, in Chromium, through the npm bundle on Node.
addTests('node');
