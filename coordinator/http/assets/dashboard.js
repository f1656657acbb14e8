// The coordinator dashboard: polls the JSON API every two seconds and draws fleet status, round
// progress, accuracy and traffic over time, and the latest synthetic samples. No libraries, no CDN.
'use strict';
const $ = (id) => document.getElementById(id);
const traffic = []; // [time ms, total bytes] samples taken by this page
let shownRound = -1;

const short = (id) => `${id.slice(0, 8)}…${id.slice(-4)}`;
const bytes = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`);
const ago = (t) => (t ? `${Math.max(0, Math.round((Date.now() - t) / 1000))} s ago` : '—');

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function renderDevices(devices) {
  const body = $('devices');
  body.replaceChildren(...devices.map((d) => {
    const tr = document.createElement('tr');
    tr.dataset.device = d.id;
    const caps = d.capabilities;
    tr.append(cell(short(d.id), 'id'), cell(d.status), cell(d.online ? 'yes' : 'no'), cell(caps ? String(caps.labelHistogram.reduce((a, b) => a + b, 0)) : '—'), cell(caps?.backend ?? '—'), cell(bytes(d.bytesIn)), cell(bytes(d.bytesOut)), cell(ago(d.lastSeen)));
    return tr;
  }));
}

/** A polyline chart of [x, y] points into an SVG element, with min/max labels. */
function chart(svg, points, fmtY) {
  const W = 320, H = 160, P = 24;
  svg.replaceChildren();
  const ns = 'http://www.w3.org/2000/svg';
  const el = (name, attrs, text) => {
    const e = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  el('line', { class: 'axis', x1: P, y1: H - P, x2: W - 4, y2: H - P });
  el('line', { class: 'axis', x1: P, y1: 4, x2: P, y2: H - P });
  if (!points.length) return;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(0, ...ys), Math.max(...ys)];
  const sx = (x) => P + ((x - x0) / (x1 - x0 || 1)) * (W - P - 8);
  const sy = (y) => H - P - ((y - y0) / (y1 - y0 || 1)) * (H - P - 8);
  el('polyline', { class: 'line', points: points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ') });
  el('text', { x: 2, y: 12 }, fmtY(y1));
  el('text', { x: 2, y: H - P }, fmtY(y0));
  svg.dataset.points = String(points.length);
}

async function get(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

async function refresh() {
  const [status, devices] = await Promise.all([get('/api/status'), get('/api/devices')]);
  const job = status.job;
  $('ident').textContent = `${status.fleet} · ${short(status.coordinatorId)}`;
  $('job-state').textContent = `${job.name}: ${job.state}, round ${job.round} of ${job.rounds}` + (job.accuracy != null ? `, student accuracy ${(job.accuracy * 100).toFixed(1)}%` : '');
  $('job-state').dataset.round = String(job.round);
  $('round-bar').style.width = `${(100 * job.round) / job.rounds}%`;
  $('step-bar').style.width = job.step ? `${(100 * job.step.step) / job.step.steps}%` : '0';
  $('fleet-counts').textContent = `(${status.devices.online} online of ${status.devices.total}; ${status.devices.active} active, ${status.devices.pending} pending)`;
  renderDevices(devices);
  chart($('accuracy'), job.history.filter((r) => r.studentAccuracy != null).map((r) => [r.round, r.studentAccuracy]), (y) => `${(y * 100).toFixed(0)}%`);
  traffic.push([Date.now(), devices.reduce((a, d) => a + d.bytesIn + d.bytesOut, 0)]);
  if (traffic.length > 300) traffic.shift();
  chart($('bytes'), traffic.map(([t, b]) => [t / 1000, b]), bytes);
  if (job.round !== shownRound && job.round > 0) {
    shownRound = job.round;
    $('samples-img').src = `/api/samples.png?round=${job.round}`;
  }
}

async function loop() {
  try {
    await refresh();
    document.body.dataset.error = '';
  } catch (e) {
    document.body.dataset.error = String(e);
  }
  setTimeout(loop, 2000);
}
loop();
