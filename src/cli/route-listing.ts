import { djangoUpstream } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import type { Explanation, RouteEntry, RouteTable } from '../routing/route-table.ts';

// Plain-text tables for the startup banner and `rxroute routes`.

export interface UpstreamSource {
  name: 'frontend' | 'backend' | 'django';
  /** null when that upstream is not routed (django in profile reflex_only). */
  url: string | null;
  /** Where the URL came from: `rxconfig.py:7 backend_port`, `from --backend`, `in rxroute.json`, `default`, … */
  source: string;
}

/** Each upstream's URL and the setting it came from, for `rxroute routes`, the banner and doctor. */
export function upstreamSources(config: Config, origin: Map<string, string>): UpstreamSource[] {
  const django = djangoUpstream(config);
  const djangoSource =
    config.profile === 'integrated'
      ? 'same as backend (profile integrated)'
      : config.profile === 'reflex_only'
        ? 'not routed (profile reflex_only)'
        : (origin.get('proxy.server') ?? origin.get('proxy') ?? 'default');
  return [
    { name: 'frontend', url: config.frontend, source: origin.get('frontend') ?? 'default' },
    { name: 'backend', url: config.backend, source: origin.get('backend') ?? 'default' },
    { name: 'django', url: django, source: djangoSource },
  ];
}

export function formatUpstreamSources(list: UpstreamSource[], indent = '  '): string {
  return columns(list.map((u) => [u.name, u.url ?? '-', u.source]), indent);
}

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
