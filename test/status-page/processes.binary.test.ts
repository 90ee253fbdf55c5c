import { addProcessTests } from './_processes.ts';

// The Processes panel in Chromium, against `dist/rxroute dev -- node -e …`.
addProcessTests('binary');
