import { type ExportPlan, type ExportRoute, parseListen, splitTarget } from './export-plan.ts';

// A Caddyfile site for split production from the same first-match routes.
// Everything sits in one `route` block so Caddy keeps the written order
// instead of sorting directives. Caddy already upgrades WebSockets, sets
// X-Forwarded-For/-Proto/-Host, keeps Host, streams request bodies with no
// size limit and has no proxy read timeout; what it needs told is to flush
// streamed responses at once.

export interface CaddyOptions {
  serverName?: string;
  listen?: string;
}

export function renderCaddy(plan: ExportPlan, options: CaddyOptions): string {
  const { addr, port } = parseListen(options.listen);
  // --listen means plain HTTP on that port, as the nginx export's `listen` does;
  // without it a hostname gets Caddy's automatic HTTPS.
  const site = options.listen === undefined
    ? options.serverName ?? ':80'
    : `http://${options.serverName ?? ''}:${port}`;
  const out: string[] = [
    ...plan.header.map((line) => `# ${line}`),
    '# A bare hostname as site address turns on automatic HTTPS (ports 80 and 443);',
    '# http://…:PORT (from --listen) serves plain HTTP on that port.',
    '',
    `${site} {`,
  ];
  if (addr) out.push(`\tbind ${addr.replace(/^\[|\]$/g, '')}`);
  out.push('\troute {');
  plan.routes.forEach((route, i) => out.push(...handler(route, `@r${i}`), ''));
  if (plan.catchAll.kind === 'static') {
    out.push(
      '\t\t# SPA shell: the exported frontend, with client-side routes falling back to index.html.',
      `\t\troot * ${quote(plan.catchAll.root)}`,
      '\t\ttry_files {path} {path}.html {path}/index.html /index.html',
      '\t\tfile_server',
    );
  } else {
    out.push(`\t\t# ${plan.catchAll.comment}`, ...proxy(plan.catchAll.target, '', { ws: true, changeOrigin: false, tuning: 'plain' }));
  }
  out.push('\t}', '}', '');
  return out.join('\n');
}

function handler(route: ExportRoute, name: string): string[] {
  const paths = route.prefixes.flatMap((p) => [p, `${p}/*`]).join(' ');
  return [
    `\t\t# ${route.comment}`,
    `\t\t${name} path ${paths}`,
    `\t\thandle ${name} {`,
    ...proxy(route.target, '\t', route),
    '\t\t}',
  ];
}

function proxy(target: string, indent: string, route: Pick<ExportRoute, 'ws' | 'changeOrigin' | 'tuning'>): string[] {
  const { origin, hostPort, basePath } = splitTarget(target);
  const lines: string[] = [];
  if (basePath) lines.push(`rewrite * ${basePath}{uri}`);
  const sub: string[] = [];
  // Socket.IO polling and NDJSON upload progress must reach the browser as written.
  if (route.tuning !== 'plain') sub.push('flush_interval -1');
  if (route.changeOrigin) sub.push('header_up Host {upstream_hostport}');
  if (!route.ws) sub.push('header_up -Upgrade');
  const upstream = origin.startsWith('https:') ? origin : hostPort;
  if (sub.length === 0) lines.push(`reverse_proxy ${upstream}`);
  else lines.push(`reverse_proxy ${upstream} {`, ...sub.map((l) => `\t${l}`), '}');
  return lines.map((l) => `\t\t${indent}${l}`);
}

function quote(value: string): string {
  return /^[^\s"{}]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}
