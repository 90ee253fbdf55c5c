import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { addBaseline, CONTENDER_IDS, root } from './contenders.ts';

/** What can be measured; `--measure` picks a subset. */
export const MEASUREMENTS = ['http', 'ws', 'upload', 'cold-start', 'page-load'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];
/** What bench/results/latest.md holds; page-load has its own file. */
const LATEST_MEASUREMENTS: Measurement[] = ['http', 'ws', 'upload', 'cold-start'];

export interface Options {
  quick: boolean;
  /** Upload body bytes, and how many uploads per contender. */
  size: number;
  runs: number;
  /** The timed window of each HTTP and WebSocket measurement (whole seconds: wrk takes no fractions). */
  seconds: number;
  /** Untimed load before each timed window, so JITs and connection pools are warm; 0 for none. */
  warmUpSeconds: number;
  /** Cold-start samples per contender (the launches for the other measurements count). */
  launches: number;
  /** Contender ids to run, in the bench's order. */
  contenders: string[];
  measurements: Measurement[];
  /** Absolute path the report is written to; bench/results/latest.md only for a full, complete run. */
  out: string;
  /** Page-load rounds (each loads every variant once). */
  rounds: number;
  /** Absolute path the page-load table is written to; bench/results/page-load.md only for a full run of direct and the three runtimes. */
  pageLoadOut: string;
}

export const LATEST = 'bench/results/latest.md';
/** Quick and partial runs go here (under .tmp/, which git ignores), so they never replace the committed figures. */
export const SCRATCH = '.tmp/bench/results.md';
export const PAGE_LOAD = 'bench/results/page-load.md';
const PAGE_LOAD_SCRATCH = '.tmp/bench/page-load.md';

const USAGE = `usage: bun scripts/bench.ts [--quick] [--only ids] [--skip ids] [--measure ${MEASUREMENTS.join(',')}]
       [--seconds N] [--warm-up N] [--size 2GiB] [--runs 3] [--launches 5] [--rounds 9] [--out FILE]
       page-load (Chromium + a Vite app) is left out of --quick unless --measure names it
       [--baseline PATH]   also measure an earlier rxroute build right after the current one of its runtime (repeatable):
                           a binary (after dist/rxroute), an npm bundle .js (after node), a main.ts (after deno)
contender ids: ${CONTENDER_IDS.join(', ')}`;

export function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      skip: { type: 'string' },
      measure: { type: 'string' },
      seconds: { type: 'string' },
      'warm-up': { type: 'string' },
      size: { type: 'string' },
      runs: { type: 'string' },
      launches: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      baseline: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new UsageRequest(USAGE);
  const quick = values.quick ?? false;
  const only = values.only === undefined ? undefined : idList('--only', values.only, CONTENDER_IDS);
  const skip = idList('--skip', values.skip ?? '', CONTENDER_IDS);
  const contenders: string[] = CONTENDER_IDS.filter((id) => (only ?? CONTENDER_IDS).includes(id) && !skip.includes(id));
  for (const path of values.baseline ?? []) {
    const { id, after } = addBaseline(path);
    if (contenders.includes(after)) contenders.splice(contenders.indexOf(after) + 1, 0, id);
  }
  if (contenders.length === 0) throw new Error('--only and --skip leave no contender to measure');
  const measurements =
    values.measure === undefined ? MEASUREMENTS.filter((m) => !quick || m !== 'page-load') : idList('--measure', values.measure, MEASUREMENTS);
  const complete =
    !quick && values.baseline === undefined && contenders.length === CONTENDER_IDS.length && LATEST_MEASUREMENTS.every((m) => measurements.includes(m));
  const pageLoadComplete = !quick && ['direct', 'binary', 'deno', 'node'].every((id) => contenders.includes(id));
  return {
    quick,
    size: parseSize(values.size ?? (quick ? '64MiB' : '2GiB')),
    runs: wholeNumber('--runs', values.runs ?? (quick ? '1' : '3'), 1),
    seconds: wholeNumber('--seconds', values.seconds ?? (quick ? '1' : '10'), 1),
    warmUpSeconds: wholeNumber('--warm-up', values['warm-up'] ?? (quick ? '0' : '1'), 0),
    launches: wholeNumber('--launches', values.launches ?? (quick ? '2' : '5'), 1),
    contenders,
    measurements,
    // An absolute --out is taken as given; a relative one (and the defaults) from the repository root.
    out: resolve(root, values.out ?? (complete ? LATEST : SCRATCH)),
    rounds: wholeNumber('--rounds', values.rounds ?? (quick ? '1' : '9'), 1),
    pageLoadOut: resolve(root, pageLoadComplete ? PAGE_LOAD : PAGE_LOAD_SCRATCH),
  };
}

/** `--help`: not an error, but it ends the run before anything starts. */
export class UsageRequest extends Error {}

function idList<T extends string>(flag: string, text: string, known: readonly T[]): T[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !(known as readonly string[]).includes(id));
  if (unknown.length > 0) throw new Error(`${flag} takes ${known.join(', ')} (got "${unknown.join(', ')}")`);
  return ids as T[];
}

function wholeNumber(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be a whole number ≥ ${min} (got "${text}")`);
  return n;
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** `2GiB`, `500MB`, `1048576`: binary and decimal units both accepted. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.round(Number(match[1]) * unit) : 0;
  if (bytes < 1) throw new Error(`--size must be a byte count ≥ 1, optionally with KiB/MiB/GiB/KB/MB/GB (got "${text}")`);
  return bytes;
}
