import type { UpstreamError } from '../errors.ts';
import type { RouteEntry } from '../routing/route-table.ts';

// rxroute's own answer when an upstream cannot be reached (DESIGN §6): an
// HTML page for browsers, JSON `{error, upstream, target, hint}` otherwise.
// An upstream's own error responses never come through here.

export function upstreamErrorResponse(
  error: UpstreamError,
  route: RouteEntry,
  requestUrl: string,
  accept: string | null,
): Response {
  const body = {
    error: error.message,
    upstream: route.owner,
    target: route.target,
    hint: startHint(route),
  };
  if (!accept?.includes('text/html')) return Response.json(body, { status: error.status });
  return new Response(errorPage(error.status, body, route, requestUrl), {
    status: error.status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/** What the developer should start so this route has a server behind it. */
export function startHint(route: RouteEntry): string {
  const port = route.target ? new URL(route.target).port : '';
  switch (route.owner) {
    case 'backend':
      return `start the Reflex backend: reflex run --backend-only${port ? ` --backend-port ${port}` : ''}`;
    case 'frontend':
      return `start the Vite dev server: reflex run (with frontend_port=${port || '3001'} in rxconfig.py)`;
    case 'django':
      return route.rule.includes('split_dev')
        ? `start Django: python manage.py runserver ${port || '8001'}`
        : `start the Reflex backend, which serves Django in the integrated profile: reflex run --backend-only`;
    default:
      return `start the server at ${route.target}`;
  }
}

function errorPage(
  status: number,
  body: { error: string; upstream: string; target: string | null; hint: string },
  route: RouteEntry,
  requestUrl: string,
): string {
  const title = status === 504 ? 'Upstream timed out' : 'Upstream not reachable';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${status} · ${escapeHtml(body.upstream)} · rxroute</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#111318;color:#e6e6e6}
main{max-width:44rem;margin:12vh auto;padding:0 1.5rem}
h1{font-size:1.4rem;margin:0 0 1rem}h1 span{color:#f87171}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{color:#9ca3af}
dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
.hint{margin-top:1.5rem;padding:1rem;background:#1f2430;border-left:3px solid #60a5fa}
code{font-family:ui-monospace,monospace}
</style></head><body><main>
<h1><span>${status}</span> ${title}</h1>
<dl>
<dt>upstream</dt><dd>${escapeHtml(body.upstream)}</dd>
<dt>target</dt><dd>${escapeHtml(body.target ?? '-')}</dd>
<dt>request</dt><dd>${escapeHtml(requestUrl)}</dd>
<dt>route</dt><dd>${escapeHtml(route.prefix)} (${escapeHtml(route.rule)})</dd>
<dt>error</dt><dd>${escapeHtml(body.error)}</dd>
</dl>
<p class="hint">${escapeHtml(body.hint)}</p>
</main></body></html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
