#!/usr/bin/env node
import { runCli } from './cli/run.ts';
import type { Runtime } from './runtime.ts';

// Picks the adapter for the runtime we are on, then runs the CLI. Adapters
// are imported lazily so Node never loads Deno code and vice versa.

async function detectRuntime(): Promise<Runtime> {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun) return (await import('./adapters/bun.ts')).createRuntime();
  if (g.Deno) return (await import('./adapters/deno.ts')).createRuntime();
  (await import('./adapters/node-version.ts')).exitOnUnsupportedNode();
  return (await import('./adapters/node.ts')).createRuntime();
}

await runCli(await detectRuntime());
