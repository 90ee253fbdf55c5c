export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (`p` in 0–1) of values already sorted ascending. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

export function fmtMs(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}
