import { Hono } from 'hono';

// The sample "frontend" (standing in for Vite): one self-contained page for
// every path, which exercises what rxroute routes elsewhere — a WebSocket to
// /_event, an upload to /_upload, links to Django and the status page.

export function sampleFrontend(): Hono {
  const app = new Hono();
  app.get('*', (c) => c.html(DEMO_PAGE));
  return app;
}

const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rxroute demo</title>
<style>
:root{--ink:#1d1b2f;--muted:#6b6880;--line:#e6e4ef;--accent:#5b3df5;--ok:#11845b;--bg:#f6f5fb}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);background:var(--bg)}
header{background:linear-gradient(120deg,#2b1b7a,#5b3df5);color:#fff;padding:28px max(20px,calc((100% - 1000px)/2)) 30px}
header h1{margin:0;font-size:26px;letter-spacing:-.01em}
header p{margin:6px 0 0;opacity:.85;max-width:760px}
.badge{display:inline-block;font-size:12px;font-weight:600;background:#ffffff26;border-radius:99px;padding:2px 10px;margin-left:10px;vertical-align:middle}
main{max-width:1040px;margin:24px auto;padding:0 20px;display:grid;grid-template-columns:1fr 1fr;gap:20px}
@media (max-width:820px){main{grid-template-columns:1fr}}
.card{background:#fff;border:1px solid var(--line);border-radius:12px;padding:18px 20px;box-shadow:0 1px 2px #1d1b2f0d}
.card h2{margin:0 0 4px;font-size:17px}
.card .sub{margin:0 0 14px;color:var(--muted);font-size:13px}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0eefa;border-radius:4px;padding:1px 5px}
.state{font-size:12px;font-weight:600;border-radius:99px;padding:2px 9px;float:right;background:#eee;color:var(--muted)}
.state.open{background:#e2f6ee;color:var(--ok)}
.state.closed{background:#fde8e8;color:#b42318}
#log{height:190px;overflow:auto;border:1px solid var(--line);border-radius:8px;padding:8px 10px;margin:0 0 10px;list-style:none;font:13px/1.6 ui-monospace,Menlo,monospace;background:#fbfbfe}
#log li.out{color:var(--accent)}#log li.in{color:var(--ok)}#log li.sys{color:var(--muted)}
form{display:flex;gap:8px}
input[type=text]{flex:1;border:1px solid var(--line);border-radius:8px;padding:8px 10px;font:inherit}
button,.file{border:0;border-radius:8px;padding:8px 16px;font:inherit;font-weight:600;background:var(--accent);color:#fff;cursor:pointer}
button:disabled{opacity:.5;cursor:default}
.file{display:inline-block}.file input{display:none}
progress{width:100%;height:12px;margin:14px 0 6px;accent-color:var(--accent)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:10px 0 0;font-size:14px}
dt{color:var(--muted)}dd{margin:0;word-break:break-all}
.links{grid-column:1/-1;display:grid;grid-template-columns:repeat(3,1fr);gap:20px}
@media (max-width:820px){.links{grid-template-columns:1fr}}
.links a{display:block;text-decoration:none;color:inherit}
.links a:hover{border-color:var(--accent)}
.links strong{color:var(--accent)}
footer{max-width:1040px;margin:0 auto 30px;padding:0 20px;color:var(--muted);font-size:13px}
</style>
</head>
<body>
<header>
  <h1>rxroute demo <span class="badge">sample upstreams</span></h1>
  <p>One URL, three servers. This page comes from a sample frontend (where Vite would be); the
  WebSocket and the upload go to a sample Reflex backend; <code style="background:#ffffff26;color:#fff">/admin</code>
  goes to a sample Django. rxroute routes each request by path.</p>
</header>
<main>
  <section class="card">
    <span id="ws-state" class="state">connecting…</span>
    <h2>WebSocket echo</h2>
    <p class="sub"><code>/_event</code> → backend, relayed by rxroute</p>
    <ul id="log"></ul>
    <form id="send-form">
      <input id="message" type="text" placeholder="Type a message" autocomplete="off">
      <button id="send" type="submit" disabled>Send</button>
    </form>
  </section>
  <section class="card">
    <h2>Streaming upload</h2>
    <p class="sub"><code>POST /_upload</code> → backend, which hashes the body as it streams in</p>
    <label class="file">Choose a file…<input id="file" type="file"></label>
    <progress id="progress" value="0" max="1"></progress>
    <div id="upload-status" class="sub">No file chosen.</div>
    <dl>
      <dt>File</dt><dd id="file-name">–</dd>
      <dt>Bytes</dt><dd id="upload-bytes">–</dd>
      <dt>SHA-256</dt><dd><code id="upload-sha">–</code></dd>
    </dl>
  </section>
  <div class="links">
    <a class="card" href="/admin"><h2><strong>/admin</strong> →</h2><p class="sub">A sample Django page showing the Host and X-Forwarded-* headers it got.</p></a>
    <a class="card" href="/api/hello"><h2><strong>/api</strong> →</h2><p class="sub">Also Django's: every prefix in <code>django_prefix</code>.</p></a>
    <a class="card" href="/__rxroute/"><h2><strong>/__rxroute/</strong> →</h2><p class="sub">rxroute's status page: routes, upstream health, live requests.</p></a>
  </div>
</main>
<footer>This is <code>rxroute demo</code>: nothing here is your app. Run <code>rxroute</code> in your Reflex project to route to your own servers.</footer>
<script>
(() => {
  const log = document.getElementById('log');
  const state = document.getElementById('ws-state');
  const send = document.getElementById('send');
  const input = document.getElementById('message');
  const line = (text, kind) => {
    const li = document.createElement('li');
    li.className = kind;
    li.textContent = text;
    log.append(li);
    log.scrollTop = log.scrollHeight;
  };
  const setState = (text, cls) => { state.textContent = text; state.className = 'state ' + cls; };
  let ws;
  const connect = () => {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/_event');
    ws.onopen = () => { setState('connected', 'open'); send.disabled = false; };
    ws.onmessage = (event) => {
      let msg;
      try { msg = JSON.parse(event.data); } catch { msg = { type: 'echo', text: String(event.data) }; }
      line(msg.type === 'hello' ? '· ' + msg.text : '← ' + msg.text, msg.type === 'hello' ? 'sys' : 'in');
    };
    ws.onclose = () => {
      setState('disconnected', 'closed');
      send.disabled = true;
      line('· socket closed; reconnecting in 2 s', 'sys');
      setTimeout(connect, 2000);
    };
  };
  connect();
  document.getElementById('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || ws.readyState !== WebSocket.OPEN) return;
    ws.send(text);
    line('→ ' + text, 'out');
    input.value = '';
  });

  const progress = document.getElementById('progress');
  const status = document.getElementById('upload-status');
  const fmt = (n) => n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
  document.getElementById('file').addEventListener('change', (event) => {
    const file = event.target.files[0];
    if (!file) return;
    document.getElementById('file-name').textContent = file.name + ' (' + fmt(file.size) + ')';
    document.getElementById('upload-bytes').textContent = '–';
    document.getElementById('upload-sha').textContent = '–';
    progress.value = 0;
    const started = performance.now();
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/_upload');
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      progress.value = e.loaded / e.total;
      status.textContent = 'Uploading… ' + fmt(e.loaded) + ' of ' + fmt(e.total);
    };
    xhr.onload = () => {
      if (xhr.status !== 200) { status.textContent = 'Upload failed: HTTP ' + xhr.status; return; }
      const result = JSON.parse(xhr.responseText);
      progress.value = 1;
      const seconds = (performance.now() - started) / 1000;
      status.textContent = 'Done in ' + seconds.toFixed(1) + ' s; the backend reports:';
      status.dataset.done = '1';
      document.getElementById('upload-bytes').textContent = result.bytes.toLocaleString('en-US') + ' (' + fmt(result.bytes) + ')';
      document.getElementById('upload-sha').textContent = result.sha256;
    };
    xhr.onerror = () => { status.textContent = 'Upload failed: the connection broke'; };
    status.textContent = 'Uploading…';
    delete status.dataset.done;
    xhr.send(file);
  });
})();
</script>
</body>
</html>`;
