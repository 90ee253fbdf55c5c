import { Hono } from 'hono';
import { escapeHtml } from '../ui/error-response.ts';

// The sample "Django": answers /admin and /api with the Host and
// X-Forwarded-* headers it received, which is what Django's ALLOWED_HOSTS,
// CSRF_TRUSTED_ORIGINS and SECURE_PROXY_SSL_HEADER settings look at.

export function sampleDjango(): Hono {
  const app = new Hono();
  const page = (c: { req: { raw: Request; path: string } }) => {
    const req = c.req.raw;
    const rows = [['Host', req.headers.get('host') ?? '']];
    req.headers.forEach((value, name) => {
      if (name.startsWith('x-forwarded-') || name === 'forwarded') rows.push([name, value]);
    });
    return new Response(djangoPage(`${req.method} ${c.req.path}`, rows), {
      headers: { 'content-type': 'text/html; charset=utf-8' },
    });
  };
  app.all('/admin', page);
  app.all('/admin/*', page);
  app.all('/api', page);
  app.all('/api/*', page);
  app.all('*', (c) => c.text(`the sample Django has no ${c.req.path}`, 404));
  return app;
}

function djangoPage(request: string, rows: string[][]): string {
  const body = rows
    .map(([name, value]) => `<tr><th>${escapeHtml(name ?? '')}</th><td><code>${escapeHtml(value ?? '')}</code></td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sample Django · rxroute demo</title>
<style>
body{margin:0;font:15px/1.5 system-ui,sans-serif;background:#f4f6f5;color:#1c2421}
header{background:#0c4b33;color:#fff;padding:14px 28px;font-weight:600}
main{max-width:720px;margin:28px auto;padding:0 20px}
.card{background:#fff;border-radius:10px;box-shadow:0 1px 3px #0002;padding:20px 24px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #e4e8e6}
th{width:38%;font-weight:600;color:#0c4b33}code{font-size:14px}a{color:#0c4b33}
</style></head><body>
<header>Sample Django · rxroute demo</header>
<main><div class="card"><h1 style="margin-top:0;font-size:22px">${escapeHtml(request)}</h1>
<p>This page stands in for Django. These are the headers it received from rxroute:</p>
<table>${body}</table></div>
<p><a href="/">← back to the demo page</a> · <a href="/__rxroute/">rxroute status page</a></p></main>
</body></html>`;
}
