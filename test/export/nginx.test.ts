import { describe } from 'vitest';
import { addEdgeTests } from './_suite.ts';

describe('rxroute export nginx, run by real nginx', () => addEdgeTests('nginx'));
