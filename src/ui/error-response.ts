import type { UpstreamError } from '../errors.ts';
import type { RouteEntry } from '../routing/route-table.ts';

// rxroute's own answer when an upstream cannot be reached (DESIGN §6): an
// HTML page for browsers, JSON `{error, upstream, target, hint}` otherwise.
// An upstream's own error responses never come through here.

export function upstreamErrorResponse(
  error: UpstreamError,
  route: RouteEntry,
  request: { method: string; url: string },
  accept: string | null,
): Response {
  const requestUrl = request.url;
  const body = {
    error: error.message,
    upstream: route.owner,
    target: route.target,
    hint: failureHint(error, route, request),
  };
  if (!accept?.includes('text/html')) return Response.json(body, { status: error.status });
  return new Response(errorPage(error.status, body, route, requestUrl), {
    status: error.status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/**
 * What happened, in the developer's words. A refusal (after the wait) means
 * nothing runs there; a closed connection is almost always an upstream going
 * down or coming up, so the hint names the request it was handling.
 */
function failureHint(error: UpstreamError, route: RouteEntry, request: { method: string; url: string }): string {
  // A refused resend that was let wait (its first copy never reached the
  // upstream) ran out of wait_ms like any refusal.
  if (error.code === 'refused' && (!error.resent || error.retry === 'wait-and-resend')) return startHint(route);
  if (error.code === 'timeout') return `the ${route.owner} at ${route.target} did not answer in time: its console should say why`;
  const path = pathOf(request.url);
  const what = `the ${route.owner} closed the connection while handling ${request.method} ${path}`;
  if (error.retry === 'wait-and-resend') return `${what}, and kept closing connections for the whole wait (wait_ms): was it restarting, or is it stuck starting?`;
  return error.resent
    ? `${what}, and the one resend on a fresh connection failed too: was it restarting? It was not sent again, in case it acted on the first copy`
    : `${what}: was it restarting? It was not sent again, in case it acted on it`;
}

function pathOf(url: string): string {
  const at = url.indexOf('/', url.indexOf('//') + 2);
  return at === -1 ? '/' : url.slice(at);
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
<link rel="icon" href="data:,">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#111318;color:#e6e6e6}
main{max-width:44rem;margin:12vh auto;padding:0 1.5rem}
h1{font-size:1.4rem;margin:0 0 1rem}h1 span{color:#f87171}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{color:#9ca3af}
dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
.hint{margin-top:1.5rem;padding:1rem;background:#1f2430;border-left:3px solid #60a5fa}
code{font-family:ui-monospace,monospace}
.reload{margin-top:1.5rem;color:#9ca3af}.reload::before{content:"";display:inline-block;width:.55rem;height:.55rem;margin-right:.55rem;border-radius:50%;background:#fbbf24;animation:pulse 1.4s ease-in-out infinite}
@keyframes pulse{50%{opacity:.25}}
#rx-check{display:block;margin-left:1.1rem;font-size:.85rem}
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
${body.target ? reloadWhenBack(body.upstream, new URL(body.target).origin) : ''}
</main></body></html>`;
}

/**
 * DESIGN §6: the page reloads itself once the upstream is back. It polls
 * /__rxroute/health (which probes) every second and reloads when the
 * upstream with this target turned up after the page was made, so an
 * upstream that accepts connections but still fails (a 504) is not reloaded
 * in a loop.
 */
function reloadWhenBack(upstream: string, origin: string): string {
  return `<p class="reload" id="rx-reload" data-target="${escapeHtml(origin)}" data-rendered="${new Date().toISOString()}">This page reloads itself when ${escapeHtml(upstream)} is back.<span id="rx-check"></span></p>
<script>
(function () {
  var box = document.getElementById('rx-reload'), note = document.getElementById('rx-check');
  var target = box.dataset.target, rendered = Date.parse(box.dataset.rendered);
  function check() {
    fetch('/__rxroute/health', { cache: 'no-store' })
      .then(function (res) { return res.json(); })
      .then(function (health) {
        var u = (health.upstreams || []).filter(function (x) { return x.target === target; })[0];
        if (u && u.up === true && Date.parse(u.since) >= rendered) return location.reload();
        note.textContent = u && u.up ? 'It accepts connections again; reload to retry.' : 'Still down at ' + new Date().toLocaleTimeString() + '.';
        setTimeout(check, 1000);
      }, function () {
        note.textContent = 'rxroute itself is not answering; still trying.';
        setTimeout(check, 1000);
      });
  }
  setTimeout(check, 1000);
})();
</script>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A JSON answer typed `application/json`, as Hono's `c.json` sends it (Bun's `Response.json` adds a charset). */
export function jsonAnswer(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
