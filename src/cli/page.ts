/**
 * The hub's page at `GET /`: plain HTML and a module script, no build step. It subscribes with
 * ssekit's own browser client (`/ssekit-client.js`, built from src/client) and publishes with fetch.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ssekit hub</title>
<style>
  :root { --fg: #1d232b; --muted: #66707c; --line: #dde2e8; --ok: #1a7f37; --warn: #b35900; --bad: #c62828; --accent: #3558d4; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #f6f8fa; }
  header { display: flex; align-items: baseline; gap: 1rem; padding: .9rem 1.4rem; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 1.15rem; }
  header span { color: var(--muted); font-size: .9rem; }
  main { max-width: 1040px; margin: 0 auto; padding: 1.2rem 1.4rem; display: grid; gap: 1rem; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; }
  h2 { margin: 0 0 .7rem; font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
  form { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin: 0; }
  label { display: grid; gap: .2rem; font-size: .8rem; color: var(--muted); }
  input { font: inherit; padding: .4rem .55rem; border: 1px solid var(--line); border-radius: 6px; min-width: 9rem; color: var(--fg); }
  input.wide { min-width: 22rem; }
  button { font: inherit; padding: .42rem 1rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
  button.secondary { background: #e9edf2; color: var(--fg); }
  .status { display: flex; flex-wrap: wrap; gap: 1.4rem; align-items: center; margin-top: .8rem; font-size: .9rem; }
  .status b { font-weight: 600; }
  #state::before { content: ""; display: inline-block; width: .6rem; height: .6rem; border-radius: 50%; margin-right: .4rem; background: var(--muted); vertical-align: middle; }
  #state[data-state="open"] { color: var(--ok); } #state[data-state="open"]::before { background: var(--ok); }
  #state[data-state="connecting"], #state[data-state="reconnecting"], #state[data-state="waiting"] { color: var(--warn); }
  #state[data-state="connecting"]::before, #state[data-state="reconnecting"]::before, #state[data-state="waiting"]::before { background: var(--warn); }
  #state[data-state="error"] { color: var(--bad); } #state[data-state="error"]::before { background: var(--bad); }
  #note, #published { color: var(--muted); font-size: .85rem; }
  table { width: 100%; border-collapse: collapse; font-size: .88rem; }
  th { text-align: left; font-weight: 600; color: var(--muted); font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; border-bottom: 1px solid var(--line); padding: .35rem .5rem; }
  td { border-bottom: 1px solid #eef1f4; padding: .35rem .5rem; vertical-align: top; }
  td.time, td.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--muted); white-space: nowrap; }
  td.type { white-space: nowrap; }
  td.data { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-word; }
  tr.reset td { background: #fff6e5; }
  tr.notice td { color: var(--muted); font-style: italic; background: #f8fafc; }
  #empty { color: var(--muted); padding: .6rem .5rem; }
</style>
</head>
<body>
<header><h1>ssekit hub</h1><span>Server-Sent Events: watch a stream live, publish to it</span></header>
<main>
  <section>
    <h2>Watch</h2>
    <form id="watch-form">
      <label>Stream <input id="stream" name="stream" value="demo" required autocomplete="off"></label>
      <label>Token (optional) <input id="token" name="token" class="wide" placeholder="JWT or publish token" autocomplete="off"></label>
      <button id="watch" type="submit">Watch</button>
      <button id="stop" type="button" class="secondary">Stop</button>
    </form>
    <div class="status">
      <span id="state" data-state="loading">loading</span>
      <span>connects <b id="connects">0</b></span>
      <span>reconnects <b id="reconnects">0</b></span>
      <span>last id <b id="last-id">–</b></span>
      <span id="note"></span>
    </div>
  </section>
  <section>
    <h2>Publish</h2>
    <form id="publish-form">
      <label>Data <input id="data" class="wide" value="hello from the page" autocomplete="off"></label>
      <label>Event type <input id="event-type" placeholder="message" autocomplete="off"></label>
      <button id="publish" type="submit">Publish</button>
      <span id="published"></span>
    </form>
  </section>
  <section>
    <h2>Events <span id="count"></span></h2>
    <table>
      <thead><tr><th>time</th><th>id</th><th>type</th><th>data</th></tr></thead>
      <tbody id="events"></tbody>
    </table>
    <div id="empty">No events yet. Publish one above, or: <code id="curl"></code></div>
  </section>
</main>
<script>
  // A module that fails to load reports nothing on the page: say so.
  setTimeout(() => {
    const state = document.getElementById('state');
    if (state.dataset.state !== 'loading') return;
    state.dataset.state = 'error';
    state.textContent = 'error';
    document.getElementById('note').textContent = 'could not load /ssekit-client.js (is the package built?)';
  }, 5000);
</script>
<script type="module">
import { SSEClient } from '/ssekit-client.js';

const $ = (id) => document.getElementById(id);
const MAX_ROWS = 500;
let controller;
let retryTimer;
let connects = 0;
let received = 0;
let lastEventId = '';

const params = new URLSearchParams(location.search);
if (params.get('stream')) $('stream').value = params.get('stream');
if (params.get('token')) $('token').value = params.get('token');

function setState(state, note = '') {
  $('state').dataset.state = state;
  $('state').textContent = state;
  $('note').textContent = note;
}

function authHeaders() {
  const token = $('token').value.trim();
  return token ? { Authorization: 'Bearer ' + token } : {};
}

function time() {
  const d = new Date();
  return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

function addRow(cells, className = '') {
  const tr = document.createElement('tr');
  if (className) tr.className = className;
  for (const [cls, value] of cells) {
    const td = document.createElement('td');
    td.className = cls;
    td.textContent = value;
    tr.append(td);
  }
  $('events').prepend(tr);
  while ($('events').rows.length > MAX_ROWS) $('events').deleteRow(-1);
  $('empty').hidden = true;
}

function onEvent(e) {
  received++;
  if (e.id) lastEventId = e.id;
  $('last-id').textContent = lastEventId || '–';
  $('count').textContent = '(' + received + ')';
  const row = addRow([['time', time()], ['id', e.id], ['type', e.event], ['data', e.data]], e.event === 'reset' ? 'reset' : '');
  return row;
}

function notice(text) {
  addRow([['time', time()], ['id', ''], ['type', ''], ['data', text]], 'notice');
}

function stop(state = 'stopped') {
  clearTimeout(retryTimer);
  controller?.abort();
  controller = undefined;
  setState(state);
}

function watch() {
  stop('connecting');
  const stream = $('stream').value.trim();
  const url = new URL(location.href);
  url.searchParams.set('stream', stream);
  history.replaceState(null, '', url);
  $('curl').textContent = "curl -d 'hello' '" + location.origin + '/publish?stream=' + encodeURIComponent(stream) + "'";
  const ctrl = new AbortController();
  controller = ctrl;
  const client = new SSEClient('/events', {
    headers: authHeaders,
    lastEventId,
    reconnect: { initialDelayMs: 500, maxDelayMs: 5000 },
    onConnect() {
      connects++;
      $('connects').textContent = connects;
      $('reconnects').textContent = Math.max(0, connects - 1);
      if (connects > 1) notice('reconnected; resuming after id ' + (lastEventId || '(none)'));
      setState('open', 'watching "' + stream + '"');
    },
    onDisconnect(error) {
      if (ctrl.signal.aborted) return;
      setState('reconnecting', error ? String(error.message || error) : 'the server ended the stream');
      notice('disconnected: ' + (error ? String(error.message || error) : 'the server ended the stream'));
    },
  });
  setState('connecting', 'stream "' + stream + '"');
  client.subscribe(stream, onEvent, { signal: ctrl.signal }).then(
    () => { if (controller === ctrl) setState('stopped'); },
    (err) => {
      if (controller !== ctrl) return;
      if (err && err.status === 404) {
        // The stream appears once someone publishes to it: look again shortly.
        setState('waiting', 'stream "' + stream + '" does not exist yet: publish to create it');
        retryTimer = setTimeout(watch, 2000);
        return;
      }
      const why = err && err.status === 401 ? 'a token is needed (or the token was refused)'
        : err && err.status === 403 ? 'this token may not watch this stream' : String(err && err.message || err);
      setState('error', why);
    },
  );
}

async function publish() {
  const stream = $('stream').value.trim();
  const data = $('data').value;
  const type = $('event-type').value.trim();
  const headers = authHeaders();
  let body = data;
  if (type) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify({ data, event: type });
  } else {
    headers['Content-Type'] = 'text/plain; charset=utf-8';
  }
  $('published').textContent = 'publishing…';
  try {
    const res = await fetch('/publish?stream=' + encodeURIComponent(stream), { method: 'POST', headers, body });
    if (!res.ok) {
      $('published').textContent = 'refused (' + res.status + '): ' + (await res.text()).trim();
      return;
    }
    const { ids } = await res.json();
    $('published').textContent = 'published, id ' + ids.join(', ');
    if ($('state').dataset.state === 'waiting') watch();
  } catch (err) {
    $('published').textContent = 'failed: ' + err.message;
  }
}

$('watch-form').addEventListener('submit', (e) => { e.preventDefault(); lastEventId = ''; connects = 0; watch(); });
$('stop').addEventListener('click', () => stop());
$('publish-form').addEventListener('submit', (e) => { e.preventDefault(); publish(); });
watch();
</script>
</body>
</html>
`;
