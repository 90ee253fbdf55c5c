import { parseArgs } from 'node:util';

export interface Options {
  size: number;
  runs: number;
  /** How long the WebSocket round trips are measured, after their warm-up. */
  wsSeconds: number;
  quick: boolean;
}

export function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string' },
      runs: { type: 'string' },
      'ws-seconds': { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick ?? false;
  const size = parseSize(values.size ?? (quick ? '64MiB' : '1GiB'));
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number ≥ 1 (got "${values.runs}")`);
  const wsSeconds = Number(values['ws-seconds'] ?? (quick ? 2 : 10));
  if (!Number.isFinite(wsSeconds) || wsSeconds <= 0) {
    throw new Error(`--ws-seconds must be a number of seconds > 0 (got "${values['ws-seconds']}")`);
  }
  return { size, runs, wsSeconds, quick };
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** `1GiB`, `500MB`, `1048576`: binary and decimal units both accepted. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.round(Number(match[1]) * unit) : 0;
  if (bytes < 1) throw new Error(`--size must be a byte count ≥ 1, optionally with KiB/MiB/GiB/KB/MB/GB (got "${text}")`);
  return bytes;
}
