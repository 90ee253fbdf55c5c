import { describe } from 'vitest';
import { addEdgeTests } from './_suite.ts';

describe('rxroute export caddy, run by real Caddy', () => addEdgeTests('caddy'));
