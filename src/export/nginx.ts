import { type ExportPlan, type ExportRoute, parseListen, splitTarget } from './export-plan.ts';

// An nginx `server` block (plus the `map` it needs) for split production:
// the same first-match routes rxroute uses in development. Regex locations
// are tried in the order written, which keeps rxroute's first-match order;
// `(/|$)` keeps the segment boundary (`/admin` never matches `/adminx`).

const PROXY_HEADERS = [
  'proxy_http_version 1.1;',
  'proxy_set_header Host $http_host;',
  'proxy_set_header X-Real-IP $remote_addr;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Host $http_host;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
];

export interface NginxOptions {
  serverName?: string;
  listen?: string;
}

export function renderNginx(plan: ExportPlan, options: NginxOptions): string {
  const { addr, port } = parseListen(options.listen);
  const out: string[] = [
    ...plan.header.map((line) => `# ${line}`),
    '# Include this file inside the http { } block (for example as',
    '# /etc/nginx/conf.d/reflex.conf); the map must sit at http level.',
    '',
    '# WebSocket upgrade for /_event: "Connection: upgrade" only when the client asked for it.',
    'map $http_upgrade $connection_upgrade {',
    '    default upgrade;',
    "    ''      close;",
    '}',
    '',
    'server {',
    `    listen ${addr ? `${addr}:` : ''}${port};`,
    `    server_name ${options.serverName ?? '_'};`,
    '',
    '    # Django file uploads through /admin and /api need more than the 1 MB default.',
    '    client_max_body_size 100m;',
    '',
    '    # Inherited by every location below that sets no proxy_set_header of its own:',
    "    # keep the browser's Host, port included ($host would drop it, and Django's CSRF",
    '    # Origin check would then fail on a non-default port); say who',
    '    # asked and over which scheme, and pass WebSocket upgrades through.',
    ...PROXY_HEADERS.map((l) => `    ${l}`),
    '    proxy_set_header Upgrade $http_upgrade;',
    '    proxy_set_header Connection $connection_upgrade;',
    '',
  ];
  for (const route of plan.routes) out.push(...location(route), '');
  if (plan.catchAll.kind === 'static') {
    out.push(
      '    # SPA shell: the exported frontend, with client-side routes falling back to index.html.',
      '    location / {',
      `        root ${quote(plan.catchAll.root)};`,
      '        try_files $uri $uri.html $uri/index.html /index.html;',
      '    }',
    );
  } else {
    out.push(
      ...location({
        prefixes: ['/'], owner: 'django', target: plan.catchAll.target, ws: true, changeOrigin: false,
        tuning: 'plain', comment: plan.catchAll.comment,
      }),
    );
  }
  out.push('}', '');
  return out.join('\n');
}

function location(route: ExportRoute): string[] {
  const { origin, basePath } = splitTarget(route.target);
  const catchAll = route.prefixes.length === 1 && route.prefixes[0] === '/';
  const match = catchAll ? '/' : `~ "^(${route.prefixes.map(escapeRegex).join('|')})(/|$)"`;
  const body: string[] = [];
  if (route.tuning === 'upload') {
    body.push(
      '# Uploads stream straight through: no size limit, no buffering to disk first.',
      'client_max_body_size 0;',
      'proxy_request_buffering off;',
    );
  }
  if (route.tuning !== 'plain') body.push('# Socket.IO polling and NDJSON upload progress stream.', 'proxy_buffering off;');
  if (route.tuning === 'event' || route.tuning === 'upload') {
    body.push(
      "# Longer than Socket.IO's ping interval (25 s) and any long upload.",
      'proxy_read_timeout 1h;',
      'proxy_send_timeout 1h;',
    );
  }
  if (route.changeOrigin || !route.ws) {
    // Any proxy_set_header here drops every inherited one, so the full set is repeated.
    body.push(...PROXY_HEADERS.filter((l) => !route.changeOrigin || !l.includes(' Host ')));
    if (route.changeOrigin) body.push("proxy_set_header Host $proxy_host;  # change_origin: the upstream's own name");
    if (route.ws) body.push('proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header Connection $connection_upgrade;');
    else body.push('proxy_set_header Connection "";  # no WebSocket relay on this route');
  }
  // A regex location cannot carry a URI in proxy_pass; a base path is prepended by rewrite.
  if (basePath) body.push(`rewrite ^ ${basePath}$uri break;`);
  // Without SNI most HTTPS upstreams (CDNs, shared hosts) answer with the wrong certificate.
  if (origin.startsWith('https:')) body.push('proxy_ssl_server_name on;');
  body.push(`proxy_pass ${origin};`);
  return [`    # ${route.comment}`, `    location ${match} {`, ...body.map((l) => `        ${l}`), '    }'];
}

function escapeRegex(prefix: string): string {
  return prefix.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&');
}

function quote(value: string): string {
  return /^[^\s;{}"'#$\\]+$/.test(value) ? value : `"${value.replace(/["\\$]/g, '\\$&')}"`;
}
