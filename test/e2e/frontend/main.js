// The page the e2e suite drives. It talks to the backend the way the Reflex
// frontend does (socket.io-client 4 at /_event, WebSocket only, the Reflex
// version as subprotocol, the tab's token in the query) and exposes helpers on
// window.e2e for the suite to call.
import { io } from 'socket.io-client';
import './greeting.js';

/** Plays `reflexEnvironment.version`, which Reflex sends as the WebSocket subprotocol. */
const REFLEX_VERSION = '0.8.0';

/** Reflex keeps one token per tab in sessionStorage. */
function getToken() {
  let token = sessionStorage.getItem('token');
  if (!token) {
    token = crypto.randomUUID();
    sessionStorage.setItem('token', token);
  }
  return token;
}

const $ = (selector) => document.querySelector(selector);
const logLines = [];
function log(text) {
  logLines.push(`${new Date().toISOString().slice(11, 23)} ${text}`);
  $('#log').textContent = logLines.slice(-40).join('\n');
}

const state = {
  token: getToken(),
  /** One entry per `connect`, with the backend's `hello` that followed. */
  connects: [],
  disconnects: [],
  connectErrors: [],
  hellos: [],
  replies: [],
  loadedAt: Date.now(),
};

// As Reflex's state.js: io(EVENTURL, { path: endpoint.pathname, … }) with
// EVENTURL = ws://<rxroute>/_event (namespace and engine path both /_event).
const endpoint = new URL('/_event', location.href);
endpoint.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
const socket = io(endpoint.href, {
  path: endpoint.pathname,
  transports: ['websocket'],
  protocols: [REFLEX_VERSION],
  autoUnref: false,
  query: { token: state.token },
});

socket.on('connect', () => {
  state.connects.push({ at: Date.now(), id: socket.id });
  $('#socket').textContent = `connected (${state.connects.length}×)`;
  log(`socket connect #${state.connects.length}`);
});
socket.on('disconnect', (reason) => {
  state.disconnects.push({ at: Date.now(), reason });
  $('#socket').textContent = `disconnected: ${reason}`;
  log(`socket disconnect: ${reason}`);
});
socket.on('connect_error', (error) => {
  state.connectErrors.push({ at: Date.now(), message: String(error?.message ?? error) });
  log(`socket connect_error: ${error?.message ?? error}`);
});
socket.on('event', (event) => {
  if (event.name === 'hello') {
    state.hellos.push({ ...event, at: Date.now() });
    $('#user').textContent = event.user ?? '(anonymous)';
    $('#socket').textContent = `connected (${state.connects.length}×), backend ${event.boot}`;
    log(`hello from backend ${event.boot}: user ${event.user}`);
  } else {
    state.replies.push({ ...event, at: Date.now() });
  }
});

let seq = 0;
/** Emits a Reflex-style `event` and resolves with the backend's reply to it. */
function roundTrip(payload, timeoutMs = 10_000) {
  const n = ++seq;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('event', onEvent);
      reject(new Error(`no reply to event #${n} within ${timeoutMs} ms`));
    }, timeoutMs);
    function onEvent(event) {
      if (event.name === 'reply' && event.payload?.seq === n) {
        clearTimeout(timer);
        socket.off('event', onEvent);
        resolve({ ...event, sentAt, receivedAt: Date.now() });
      }
    }
    socket.on('event', onEvent);
    const sentAt = Date.now();
    socket.emit('event', { name: 'e2e.echo', token: state.token, payload: { seq: n, ...payload } });
  });
}

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Reads an NDJSON response, stamping each line with the time the page had it complete. */
async function readLines(response, onLine) {
  const lines = [];
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (!text) continue;
      const line = { ...JSON.parse(text), readAt: Date.now() };
      lines.push(line);
      onLine?.(line);
    }
  }
  if (pending.trim()) lines.push({ ...JSON.parse(pending), readAt: Date.now() });
  return lines;
}

/** `mib` MiB of a fixed pattern, hashed in the page, POSTed as multipart to /_upload; NDJSON progress read as it arrives. */
async function upload(mib) {
  const chunk = new Uint8Array(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + (i >> 10)) & 255;
  const blob = new Blob(Array.from({ length: mib }, () => chunk), { type: 'application/octet-stream' });
  $('#upload').textContent = `hashing ${mib} MiB…`;
  const sha256 = hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  const form = new FormData();
  form.append('files', blob, 'big.bin');
  $('#upload').textContent = `uploading ${mib} MiB…`;
  const startedAt = Date.now();
  const response = await fetch('/_upload', {
    method: 'POST',
    body: form,
    headers: { 'Reflex-Client-Token': state.token, 'Reflex-Event-Handler': 'state.handle_upload' },
  });
  const headersAt = Date.now();
  const lines = await readLines(response, (line) => {
    if (line.event === 'progress') {
      $('#upload-progress').value = line.received / blob.size;
      $('#upload').textContent = `${(line.received / 1048576).toFixed(0)} MiB received by the backend`;
    }
  });
  const done = lines.find((line) => line.event === 'done');
  const file = done?.files?.[0];
  $('#upload-progress').value = done ? 1 : 0;
  $('#upload').textContent = file
    ? `${file.bytes} bytes, sha256 ${file.sha256 === sha256 ? 'matches' : 'DIFFERS'} (${file.sha256.slice(0, 16)}…), ${lines.filter((l) => l.event === 'progress').length} progress lines`
    : `failed: ${JSON.stringify(lines.at(-1))}`;
  return { status: response.status, size: blob.size, sha256, startedAt, headersAt, finishedAt: Date.now(), lines };
}

/** Reads Django's streaming view, stamping each line with when the page read it. */
async function stream(n = 6, delay = 0.4) {
  $('#stream').textContent = 'reading…';
  const startedAt = Date.now();
  const response = await fetch(`/api/stream/?n=${n}&delay=${delay}`);
  const lines = await readLines(response, (line) => {
    $('#stream').textContent = `chunk ${line.i + 1} of ${line.of}, read ${(line.readAt - line.t).toFixed(0)} ms after Django generated it`;
  });
  return { status: response.status, contentType: response.headers.get('content-type'), startedAt, lines };
}

/** A request made while the backend is down: it should wait in rxroute and succeed. */
async function ping() {
  const startedAt = Date.now();
  $('#restart').textContent = 'GET /ping while the backend restarts…';
  const response = await fetch('/ping', { cache: 'no-store' });
  const body = await response.text();
  const result = { status: response.status, body, boot: response.headers.get('x-backend-boot'), startedAt, finishedAt: Date.now() };
  $('#restart').textContent = `GET /ping → ${result.status} ${body} from backend ${result.boot} after ${result.finishedAt - startedAt} ms`;
  return result;
}

window.e2eMarker = `page-${state.loadedAt}`;
window.e2e = { state, socket, roundTrip, upload, stream, ping, log };
log(`page loaded, token ${state.token}`);
