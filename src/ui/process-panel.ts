// The status page's Processes panel (DESIGN §10 "Visible"): one card per
// process `rxroute dev` supervises, with its state, pid, uptime, restarts,
// last exit and last output lines. Pieces of the one status page
// (status-page.ts): markup, style, and a script function the page's script
// calls with its helpers. Hidden until /__rxroute/health lists a process.

export const PROCESS_PANEL_HTML = `<section id="processes" aria-labelledby="processes-title" hidden>
<h2 id="processes-title">Processes</h2>
<div id="process-cards" class="procs"></div>
</section>`;

// State colours: running as an up upstream, exited/backoff as a down one.
export const PROCESS_PANEL_STYLE = `
.procs{display:grid;grid-template-columns:repeat(auto-fill,minmax(30rem,1fr));gap:.8rem}
.proc[data-state=running]{border-left-color:var(--up)}
.proc[data-state=starting]{border-left-color:var(--s3)}
.proc[data-state=stopping]{border-left-color:var(--s4)}
.proc[data-state=exited],.proc[data-state=backoff]{border-left-color:var(--down);background:#1d1519}
.pstate{font:600 11px var(--mono);text-transform:uppercase;padding:.1rem .5rem;border-radius:999px;background:#8b93a122;color:var(--unknown)}
.proc[data-state=running] .pstate{background:#34d39922;color:var(--up)}
.proc[data-state=starting] .pstate{background:#60a5fa22;color:var(--s3)}
.proc[data-state=stopping] .pstate,.proc[data-state=backoff] .pstate{background:#fbbf2422;color:var(--s4)}
.proc[data-state=exited] .pstate{background:#f8717122;color:var(--down)}
.proc .command{font:12.5px var(--mono);color:var(--muted);margin:.2rem 0 .5rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.facts{display:flex;flex-wrap:wrap;gap:.35rem}
.fact{font:12px var(--mono);padding:.1rem .55rem;border:1px solid var(--line);border-radius:999px;white-space:nowrap}
.fact .k{color:var(--muted);margin-right:.35rem}
.fact .bad{color:var(--down)}
.output{margin-top:.6rem}
.output summary{cursor:pointer;font-size:12px;color:var(--muted);user-select:none}
.output summary:hover{color:var(--text)}
.lines{margin-top:.35rem;max-height:17rem;overflow:auto;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.3rem 0;font:12px/1.45 var(--mono)}
.line{display:flex;gap:.6rem;padding:0 .6rem;white-space:pre-wrap;word-break:break-word}
.line .t{flex:none;color:#5b6270}
.line[data-stream=stderr]{color:#fca5a5;box-shadow:inset 2px 0 0 var(--down)}
.line.note{color:var(--muted);font-style:italic}
`;

/**
 * `processPanel(h)`, for the status page's script: `h` gives its `el`,
 * `clock` and `ago` helpers. Returns `{ mark(), health(list, synced, mark),
 * state(info), output(event), resync(), tick() }`. ES5, no template
 * literals (it is embedded in one).
 *
 * State: from /health and from `state` events. A /health answer never
 * overwrites a state event that arrived after it was requested (`mark()`
 * taken at the request), so a slow poll cannot flip a card back.
 *
 * Output lines: /health gives the last 50 per process, the event stream
 * every line after. After `resync()` (the stream (re)opened, or it dropped
 * lines because the page fell behind a flood), the next /health requested
 * while the stream was open replaces the lines (`synced`); lines that
 * arrived in between are appended when they are newer than the snapshot
 * (a higher `seq`: every line of one chunk of a flood has the same time).
 * `mark()` also counts resyncs: a /health answer requested before the last
 * resync (a regular poll already in flight) never ends it, since lines the
 * stream skipped after it was taken would be lost for good.
 */
export const PROCESS_PANEL_SCRIPT = `
function processPanel(h) {
  var MAX_LINES = 50;
  var section = document.getElementById('processes');
  var cards = document.getElementById('process-cards');
  var byName = {};
  var linesSynced = false;
  var pending = [];
  var seq = 0;
  var resyncs = 0;

  function card(name) {
    var c = byName[name];
    if (c) return c;
    c = h.el('div', 'card proc');
    c.dataset.process = name;
    var head = h.el('div', 'head');
    head.appendChild(h.el('span', 'name', name));
    c.stateEl = head.appendChild(h.el('span', 'pstate'));
    c.appendChild(head);
    c.commandEl = c.appendChild(h.el('div', 'command'));
    var facts = c.appendChild(h.el('div', 'facts'));
    function fact(label, cls) {
      var f = facts.appendChild(h.el('span', 'fact'));
      f.appendChild(h.el('span', 'k', label));
      return f.appendChild(h.el('span', 'v ' + cls));
    }
    c.pidEl = fact('pid', 'pid');
    c.uptimeEl = fact('uptime', 'uptime');
    c.restartsEl = fact('restarts', 'restarts');
    c.exitEl = fact('last exit', 'exit');
    var details = c.appendChild(h.el('details', 'output'));
    details.open = true;
    c.summaryEl = details.appendChild(h.el('summary'));
    c.linesEl = details.appendChild(h.el('div', 'lines'));
    c.lines = [];
    c.lastExit = '';
    cards.appendChild(c);
    byName[name] = c;
    section.hidden = false;
    render(c);
    return c;
  }

  function state(p) {
    var c = card(p.name);
    c.info = p;
    c.dataset.state = p.state;
    c.stateEl.textContent = p.state;
    c.commandEl.textContent = p.command;
    c.commandEl.title = p.command;
    c.pidEl.textContent = p.pid === null ? '-' : String(p.pid);
    c.restartsEl.textContent = String(p.restarts);
    // The last run that ended stays shown while the next one runs.
    if (p.exitCode !== null) c.lastExit = 'code ' + p.exitCode;
    else if (p.exitSignal) c.lastExit = p.exitSignal;
    c.exitEl.textContent = c.lastExit || '-';
    c.exitEl.className = 'v exit' + (c.lastExit && c.lastExit !== 'code 0' ? ' bad' : '');
    tickCard(c);
  }

  function tickCard(c) {
    var p = c.info;
    if (!p) return;
    var alive = p.state === 'running' || p.state === 'starting' || p.state === 'stopping';
    c.uptimeEl.textContent = alive && p.startedAt ? h.ago(p.startedAt) : '-';
    c.uptimeEl.title = p.startedAt ? 'started ' + p.startedAt : '';
  }

  function push(c, line) {
    c.lines.push(line);
    if (c.lines.length > MAX_LINES) c.lines.splice(0, c.lines.length - MAX_LINES);
    renderSoon(c);
  }
  // A flood of lines re-renders at most every 50 ms.
  function renderSoon(c) {
    if (c.renderTimer) return;
    c.renderTimer = setTimeout(function () { c.renderTimer = 0; render(c); }, 50);
  }
  function render(c) {
    var box = c.linesEl;
    var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
    box.textContent = '';
    var shown = 0;
    c.lines.forEach(function (l) {
      var row = box.appendChild(h.el('div', 'line'));
      row.dataset.stream = l.stream;
      row.appendChild(h.el('span', 't', h.clock(new Date(l.time))));
      row.appendChild(h.el('span', 'x', l.text));
      shown++;
    });
    if (!c.lines.length) box.appendChild(h.el('div', 'line note', 'no output yet'));
    c.summaryEl.textContent = 'output · last ' + shown + (shown === 1 ? ' line' : ' lines');
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  return {
    mark: function () { return { state: seq, resyncs: resyncs }; },
    health: function (list, synced, mark) {
      list.forEach(function (p) {
        var c = byName[p.name];
        if (!c || !(c.stateSeq > mark.state)) state(p);
      });
      // A snapshot requested before the last resync() may miss lines the
      // stream skipped since: only one requested after it replaces the lines.
      if (!synced || linesSynced || mark.resyncs !== resyncs) return;
      list.forEach(function (p) {
        var c = byName[p.name];
        // The snapshot ends at its last line's seq; a flood's chunk shares one time, so seq, not time, says what is newer.
        var last = p.lines.length ? p.lines[p.lines.length - 1].seq : 0;
        var later = pending.filter(function (e) { return e.name === p.name && e.seq > last; });
        c.lines = p.lines.concat(later).slice(-MAX_LINES);
        render(c);
      });
      pending = [];
      linesSynced = true;
    },
    state: function (p) {
      state(p);
      byName[p.name].stateSeq = ++seq;
    },
    output: function (e) {
      if (linesSynced) push(card(e.name), e);
      else {
        pending.push(e);
        if (pending.length > 2 * MAX_LINES * 20) pending.splice(0, MAX_LINES * 20);
      }
    },
    resync: function () { linesSynced = false; pending = []; resyncs++; },
    tick: function () { for (var n in byName) tickCard(byName[n]); }
  };
}
`;
