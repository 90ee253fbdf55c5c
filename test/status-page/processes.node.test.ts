import { addProcessTests } from './_processes.ts';

// The Processes panel in Chromium, against `rxroute dev -- node -e …` on Node (the npm bundle).
addProcessTests('node');
