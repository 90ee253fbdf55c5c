import type { Explanation, RouteEntry, RouteTable } from '../routing/route-table.ts';

// Plain-text tables for the startup banner and `rxroute routes`.

export function formatRouteTable(table: RouteTable, indent = '  '): string {
  const rows = [...table.entries, table.catchAll].map((e) => [
    e === table.catchAll ? '/ (everything else)' : e.prefix,
    e.owner,
    e.target ?? '-',
    e.rule + (e.ws && e.target ? ', ws' : ''),
  ]);
  return columns(rows, indent);
}

export function formatExplanations(list: Explanation[]): string {
  return columns(
    list.map((x) => [x.input, `→ ${x.entry.owner}`, targetOf(x.entry), x.reason]),
    '',
  );
}

function targetOf(entry: RouteEntry): string {
  return entry.target ?? (entry.owner === 'rxroute' ? '(rxroute itself)' : '-');
}

function columns(rows: string[][], indent: string): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}
