import type { RouteEntry, RouteTable } from '../routing/route-table.ts';
import { escapeHtml } from './error-response.ts';
import { PROCESS_PANEL_HTML, PROCESS_PANEL_SCRIPT, PROCESS_PANEL_STYLE } from './process-panel.ts';

// The live status page at /__rxroute/ (DESIGN §1): one self-contained HTML
// document, no external assets. The route table is rendered here; upstream
// health, `rxroute dev`'s processes (process-panel.ts) and the request log
// are filled in by the inline script from /__rxroute/health (polled) and
// /__rxroute/events (SSE). The script inserts data with textContent only,
// so nothing an upstream or a client sends can become markup.

export interface StatusPageInfo {
  version: string;
  /** `bun`, `deno`, `node`; null when embedded through createRouter(). */
  runtime: string | null;
  profile: string;
  table: RouteTable;
}

export function statusPage(info: StatusPageInfo): string {
  const routes = [...info.table.entries, info.table.catchAll]
    .map((e) => routeRow(e, e === info.table.catchAll))
    .join('\n');
  const chip = (label: string, value: string) => `<span class="chip"><span>${label}</span> ${escapeHtml(value)}</span>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="dark">
<title>rxroute</title>
<link rel="icon" href="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><circle cx='8' cy='8' r='6' fill='%2360a5fa'/></svg>">
<style>${STYLE}${PROCESS_PANEL_STYLE}</style>
</head><body>
<header>
<h1><span class="logo" aria-hidden="true"></span>rxroute</h1>
<div class="chips">${chip('version', info.version)}${chip('runtime', info.runtime ?? 'embedded')}${chip('profile', info.profile)}</div>
<span id="live" class="pill" data-state="connecting">connecting…</span>
</header>
<main>
<section aria-labelledby="upstreams-title">
<h2 id="upstreams-title">Upstreams <span id="health-note" class="note"></span></h2>
<div id="upstreams" class="cards"><p class="muted">Checking upstreams…</p></div>
</section>
${PROCESS_PANEL_HTML}
<section class="panel" aria-labelledby="log-title">
<div class="toolbar">
<h2 id="log-title">Requests</h2>
<input id="filter" type="search" placeholder="Filter by path, owner or status" autocomplete="off" spellcheck="false" aria-label="Filter requests">
<span id="log-count" class="muted">0 requests</span>
<button id="clear" type="button">Clear</button>
</div>
<div class="scroll">
<table id="log" class="log">
<colgroup><col class="c-time"><col class="c-method"><col class="c-status"><col class="c-owner"><col><col class="c-num"><col class="c-num"></colgroup>
<thead><tr><th>time</th><th>method</th><th>status</th><th>owner</th><th>path</th><th class="num">duration</th><th class="num">bytes</th></tr></thead>
<tbody id="log-rows"></tbody>
</table>
<p id="log-empty" class="empty">Waiting for requests. Open your app through rxroute (<span id="origin"></span>) and they show up here as they finish.</p>
</div>
</section>
<section class="panel" aria-labelledby="routes-title">
<div class="toolbar"><h2 id="routes-title">Routes</h2><span class="muted">first match wins</span></div>
<table class="routes">
<thead><tr><th>prefix</th><th>owner</th><th>target</th><th>rule</th><th>ws</th></tr></thead>
<tbody>
${routes}
</tbody>
</table>
</section>
</main>
<script>${PROCESS_PANEL_SCRIPT}${SCRIPT}</script>
</body></html>`;
}

function routeRow(e: RouteEntry, catchAll: boolean): string {
  const prefix = catchAll ? '/ <span class="muted">(everything else)</span>' : escapeHtml(e.prefix);
  return `<tr data-owner="${escapeHtml(e.owner)}"><td class="mono">${prefix}</td><td><span class="owner">${escapeHtml(e.owner)}</span></td><td class="mono">${escapeHtml(e.target ?? '-')}</td><td>${escapeHtml(e.rule)}</td><td>${e.ws && e.target ? '<span class="tag">ws</span>' : ''}</td></tr>`;
}

// Owner colours follow the terminal log (src/log/logger.ts OWNER_COLOR).
const STYLE = `
:root{--bg:#0f1115;--panel:#161a21;--line:#262c37;--text:#e6e8ec;--muted:#8b93a1;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
--up:#34d399;--down:#f87171;--unknown:#8b93a1;--s2:#34d399;--s3:#60a5fa;--s4:#fbbf24;--s5:#f87171;--s1:#c084fc}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
header{display:flex;align-items:center;gap:1rem;flex-wrap:wrap;padding:.9rem 1.5rem;border-bottom:1px solid var(--line);background:#12151b}
h1{margin:0;font-size:1.15rem;font-weight:650;letter-spacing:.01em;display:flex;align-items:center;gap:.55rem}
.logo{width:.8rem;height:.8rem;border-radius:50%;background:#60a5fa;box-shadow:0 0 0 3px #60a5fa33}
.chips{display:flex;gap:.4rem;flex-wrap:wrap}
.chip{font:12px var(--mono);padding:.15rem .55rem;border:1px solid var(--line);border-radius:999px;color:var(--text)}
.chip span{color:var(--muted)}
.pill{margin-left:auto;font-size:12px;padding:.15rem .6rem;border-radius:999px;border:1px solid var(--line);color:var(--muted)}
.pill::before{content:"";display:inline-block;width:.5rem;height:.5rem;border-radius:50%;margin-right:.4rem;background:currentColor;vertical-align:.05rem}
.pill[data-state=live]{color:var(--up);border-color:#34d39955}
.pill[data-state=offline]{color:var(--down);border-color:#f8717155}
main{padding:1.2rem 1.5rem 2rem;display:grid;gap:1.2rem;max-width:110rem}
h2{margin:0 0 .6rem;font-size:.8rem;font-weight:600;text-transform:uppercase;letter-spacing:.08em;color:var(--muted)}
.note{text-transform:none;letter-spacing:0;color:var(--down);font-weight:400;margin-left:.5rem}
.muted{color:var(--muted)}
.mono{font-family:var(--mono)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(21rem,1fr));gap:.8rem}
.card{background:var(--panel);border:1px solid var(--line);border-left:4px solid var(--unknown);border-radius:8px;padding:.75rem .9rem;min-width:0}
.card[data-up=true]{border-left-color:var(--up)}
.card[data-up=false]{border-left-color:var(--down);background:#1d1519}
.card .head{display:flex;align-items:center;gap:.5rem}
.card .name{font-weight:600;flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.card .state{font:600 11px var(--mono);text-transform:uppercase;padding:.1rem .45rem;border-radius:4px;background:#8b93a122;color:var(--unknown)}
.card[data-up=true] .state{background:#34d39922;color:var(--up)}
.card[data-up=false] .state{background:#f8717122;color:var(--down)}
.card .target{font:12.5px var(--mono);color:var(--muted);margin:.2rem 0 .45rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.card .meta{display:flex;justify-content:space-between;gap:.8rem;font-size:12.5px;white-space:nowrap}
.card .since{overflow:hidden;text-overflow:ellipsis}
.card .error{margin-top:.35rem;font:12px var(--mono);color:var(--down);word-break:break-word}
.card .error:empty{display:none}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;overflow:hidden}
.toolbar{display:flex;align-items:center;gap:.8rem;padding:.65rem .9rem;border-bottom:1px solid var(--line)}
.toolbar h2{margin:0}
#filter{flex:0 1 22rem;background:var(--bg);color:var(--text);border:1px solid var(--line);border-radius:6px;padding:.35rem .6rem;font:13px var(--mono);outline:none}
#filter:focus{border-color:#60a5fa}
#log-count{margin-left:auto;font-size:12.5px}
button{background:transparent;color:var(--muted);border:1px solid var(--line);border-radius:6px;padding:.3rem .7rem;font:inherit;font-size:12.5px;cursor:pointer}
button:hover{color:var(--text);border-color:var(--muted)}
.scroll{max-height:62vh;overflow:auto}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-weight:500;font-size:12px;color:var(--muted);padding:.4rem .9rem;border-bottom:1px solid var(--line);background:var(--panel);position:sticky;top:0}
td{padding:.28rem .9rem;border-bottom:1px solid #1e232c;vertical-align:top}
.log{table-layout:fixed;min-width:52rem;font:12.5px/1.5 var(--mono)}
.c-time{width:8.5rem}.c-method{width:5.5rem}.c-status{width:4.5rem}.c-owner{width:6.5rem}.c-num{width:6rem}
.log td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.log tbody tr{box-shadow:inset 3px 0 0 var(--o,var(--unknown))}
.log tbody tr:hover{background:#1c212a}
.log tbody tr.fresh{animation:fresh 1.2s ease-out}
@keyframes fresh{from{background:#60a5fa26}to{background:transparent}}
.log .time{color:var(--muted)}
.num{text-align:right}
.status{font-weight:600}
.s1{color:var(--s1)}.s2{color:var(--s2)}.s3{color:var(--s3)}.s4{color:var(--s4)}.s5{color:var(--s5)}
tr[data-owner] .owner{color:var(--o,var(--unknown))}
tr[data-owner=frontend]{--o:#e879f9}tr[data-owner=backend]{--o:#22d3ee}tr[data-owner=django]{--o:#4ade80}
tr[data-owner=custom]{--o:#facc15}tr[data-owner=build]{--o:#60a5fa}tr[data-owner=rxroute]{--o:#8b93a1}
.empty{margin:0;padding:2rem .9rem;text-align:center;color:var(--muted)}
.empty span{font-family:var(--mono);color:var(--text)}
.routes{font-size:13px}
.routes td{border-bottom-color:#1e232c}
.routes .owner{font:600 12.5px var(--mono)}
.tag{font:11px var(--mono);padding:.05rem .4rem;border-radius:4px;background:#60a5fa22;color:#93c5fd}
`;

// Plain ES5-ish script: no template literals, so it can live inside this one.
const SCRIPT = `
(function () {
  'use strict';
  var MAX_ROWS = 500;
  var rows = document.getElementById('log-rows');
  var empty = document.getElementById('log-empty');
  var count = document.getElementById('log-count');
  var filterBox = document.getElementById('filter');
  var cards = document.getElementById('upstreams');
  var live = document.getElementById('live');
  var healthNote = document.getElementById('health-note');
  var byTarget = {};
  var filter = '';
  document.getElementById('origin').textContent = location.origin + '/';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function pad(n, w) { n = String(n); while (n.length < w) n = '0' + n; return n; }
  function clock(d) { return pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' + pad(d.getSeconds(), 2); }
  function ms(v) { return v < 10 ? v.toFixed(1) + ' ms' : Math.round(v) + ' ms'; }
  function bytes(b) {
    if (b === null || b === undefined) return '-';
    if (b < 1024) return b + ' B';
    if (b < 1048576) return (b / 1024).toFixed(1) + ' kB';
    return (b / 1048576).toFixed(1) + ' MB';
  }
  function ago(iso) {
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  }
  function statusClass(s) { return s >= 500 ? 's5' : s >= 400 ? 's4' : s >= 300 ? 's3' : s >= 200 ? 's2' : 's1'; }

  // Request log: newest first, at most MAX_ROWS rows.
  function visible(tr) { return !filter || tr.dataset.search.indexOf(filter) !== -1; }
  function updateCount() {
    var total = rows.rows.length, shown = 0;
    for (var i = 0; i < total; i++) if (!rows.rows[i].hidden) shown++;
    count.textContent = filter ? shown + ' of ' + total + ' match' : total + (total === 1 ? ' request' : ' requests');
    empty.hidden = total > 0;
  }
  function addRequest(r) {
    var tr = el('tr', 'fresh');
    tr.addEventListener('animationend', function () { tr.className = ''; });
    var time = new Date(r.time);
    tr.dataset.owner = r.owner;
    tr.dataset.status = String(r.status);
    tr.dataset.path = r.path;
    tr.dataset.search = (r.method + ' ' + r.path + ' ' + r.owner + ' ' + r.status).toLowerCase();
    tr.appendChild(el('td', 'time', clock(time) + '.' + pad(time.getMilliseconds(), 3)));
    tr.appendChild(el('td', 'method', r.method));
    tr.appendChild(el('td', 'status ' + statusClass(r.status), String(r.status)));
    tr.appendChild(el('td', 'owner', r.owner));
    var path = el('td', 'path', r.path);
    path.title = r.path;
    tr.appendChild(path);
    tr.appendChild(el('td', 'num', ms(r.ms)));
    tr.appendChild(el('td', 'num', bytes(r.bytes)));
    tr.hidden = !visible(tr);
    rows.insertBefore(tr, rows.firstChild);
    while (rows.rows.length > MAX_ROWS) rows.deleteRow(-1);
    updateCount();
  }
  filterBox.addEventListener('input', function () {
    filter = filterBox.value.trim().toLowerCase();
    for (var i = 0; i < rows.rows.length; i++) rows.rows[i].hidden = !visible(rows.rows[i]);
    updateCount();
  });
  document.getElementById('clear').addEventListener('click', function () {
    rows.textContent = '';
    updateCount();
  });

  // Upstream cards, one per target; updated by polling and by health events.
  function card(u) {
    var c = byTarget[u.target];
    if (c) return c;
    if (!Object.keys(byTarget).length) cards.textContent = '';
    c = el('div', 'card');
    c.dataset.target = u.target;
    var head = el('div', 'head');
    c.nameEl = head.appendChild(el('span', 'name'));
    c.stateEl = head.appendChild(el('span', 'state'));
    c.appendChild(head);
    c.appendChild(el('div', 'target', u.target));
    var meta = el('div', 'meta');
    c.sinceEl = meta.appendChild(el('span', 'since'));
    c.latencyEl = meta.appendChild(el('span', 'latency muted'));
    c.appendChild(meta);
    c.errorEl = c.appendChild(el('div', 'error'));
    cards.appendChild(c);
    byTarget[u.target] = c;
    return c;
  }
  function showUpstream(u) {
    var c = card(u);
    c.status = u;
    c.dataset.up = String(u.up);
    c.nameEl.textContent = u.name;
    c.stateEl.textContent = u.up === true ? 'up' : u.up === false ? 'down' : 'unknown';
    c.latencyEl.textContent = u.up && u.latencyMs !== null ? 'connect ' + ms(u.latencyMs) : '';
    c.errorEl.textContent = u.up === false && u.error ? u.error : '';
    tickCard(c);
    updateTitle();
  }
  function tickCard(c) {
    var u = c.status;
    if (!u.since) { c.sinceEl.textContent = 'not checked yet'; c.sinceEl.title = ''; return; }
    c.sinceEl.textContent = (u.up ? 'up for ' : 'down for ') + ago(u.since) + ' · since ' + clock(new Date(u.since));
    c.sinceEl.title = u.since;
  }
  function updateTitle() {
    var down = 0;
    for (var t in byTarget) if (byTarget[t].status.up === false) down++;
    document.title = down ? 'rxroute · ' + down + ' down' : 'rxroute';
  }
  var processes = processPanel({ el: el, clock: clock, ago: ago });
  setInterval(function () {
    for (var t in byTarget) tickCard(byTarget[t]);
    processes.tick();
  }, 1000);

  var events = new EventSource('/__rxroute/events');
  // Bumped each time the stream opens: a /health requested while the current
  // stream was open has every output line the stream has not sent.
  var streamGen = 0;
  function loadHealth() {
    var gen = events.readyState === 1 ? streamGen : -1;
    var mark = processes.mark();
    return fetch('/__rxroute/health', { cache: 'no-store' })
      .then(function (res) { return res.json(); })
      .then(function (h) {
        healthNote.textContent = '';
        var list = h.upstreams || [];
        if (!list.length) cards.textContent = 'No upstreams: every route is answered by rxroute itself.';
        list.forEach(showUpstream);
        processes.health(h.processes || [], gen !== -1 && gen === streamGen && events.readyState === 1, mark);
      }, function () {
        healthNote.textContent = 'rxroute is not answering';
      });
  }
  function poll() {
    loadHealth().then(function () { setTimeout(poll, 2000); });
  }
  poll();

  function setLive(state, text) { live.dataset.state = state; live.textContent = text; }
  events.onopen = function () {
    setLive('live', 'live');
    streamGen++;
    processes.resync();
    loadHealth();
  };
  events.onerror = function () { setLive('offline', 'reconnecting…'); };
  events.addEventListener('request', function (e) { addRequest(JSON.parse(e.data)); });
  events.addEventListener('health', function (e) { showUpstream(JSON.parse(e.data)); });
  events.addEventListener('process', function (e) {
    var p = JSON.parse(e.data);
    if (p.kind === 'state') processes.state(p.process);
    else if (p.kind === 'output') processes.output(p);
  });
  // The server skipped output lines while this page lagged behind a flood:
  // the last lines come again from /health, at most every 300 ms.
  // A notice that arrives while a re-read is under way may cover lines that
  // re-read's snapshot does not have yet: read once more after it.
  var resyncTimer = 0;
  var resyncAgain = false;
  function resyncLines() {
    if (resyncTimer) {
      resyncAgain = true;
      return;
    }
    processes.resync();
    function done() {
      resyncTimer = 0;
      if (resyncAgain) {
        resyncAgain = false;
        resyncLines();
      }
    }
    resyncTimer = setTimeout(function () { loadHealth().then(done, done); }, 300);
  }
  events.addEventListener('dropped', resyncLines);
  updateCount();
})();
`;
