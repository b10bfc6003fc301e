// The review pack: a printable page for one scenario (`/layouts/{id}/?view=review-pack`) with the list of
// changes, a top view rendered from the 3D scene, the KPI comparison with its chart and the comment threads.
// The browser's print dialog turns it into a PDF (print CSS in features-review.css).
import * as THREE from 'three';
import { h } from '../../util/dom.js';
import { STATUS_LABEL } from './api.js';
import { DIFF_COLORS } from './DiffOverlay.js';
import { kpiChart } from './kpi.js';
import { kpiTable, runNote } from './KpiPanel.js';
import { mentionText } from './CommentsPanel.js';

const v = new THREE.Vector3();

// Render the whole floor from straight above into a PNG, with the change numbers and comment pins drawn on.
export function topViewImage(view, { width = 1600, height = 1000, marks = [] } = {}) {
  const b = view.floor ? view.floor.bounds : { cx: 30, cz: 20, width: 60, depth: 40 };
  const aspect = width / height;
  let w = b.width + 6;
  let d = b.depth + 6;
  if (w / d > aspect) d = w / aspect;
  else w = d * aspect;
  const cam = new THREE.OrthographicCamera(-w / 2, w / 2, d / 2, -d / 2, 0.1, 2000);
  cam.up.set(0, 0, -1);
  cam.position.set(b.cx, 500, b.cz);
  cam.lookAt(b.cx, 0, b.cz);
  cam.updateMatrixWorld();
  const r = view.renderer;
  const ratio = r.getPixelRatio();
  const fog = view.scene.fog;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  try {
    view.scene.fog = null;
    r.setPixelRatio(1);
    r.setSize(width, height, false);
    view.updateDetail(cam); // draw what the plan camera sees, not what the workspace camera culled to
    r.render(view.scene, cam);
    ctx.drawImage(r.domElement, 0, 0, width, height); // same task as the render: the buffer is still there
  } finally {
    view.scene.fog = fog;
    r.setPixelRatio(ratio);
    view.resize();
  }
  for (const m of marks) {
    v.set(...m.pos).project(cam);
    const x = ((v.x + 1) / 2) * width;
    const y = ((1 - v.y) / 2) * height;
    ctx.beginPath();
    ctx.arc(x, y, 15, 0, Math.PI * 2);
    ctx.fillStyle = m.color;
    ctx.fill();
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#ffffff';
    ctx.stroke();
    ctx.fillStyle = '#ffffff';
    ctx.font = 'bold 16px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(m.text, x, y + 1);
  }
  return canvas.toDataURL('image/png');
}

function section(title, ...children) {
  return h('section', { class: 'pack-section' }, h('h2', {}, title), ...children);
}

function threadView(c, replies, number, editor, me) {
  const where = c.asset ? (editor.assets.get(c.asset) || {}).name || `asset ${c.asset}` : c.position ? `point (${c.position.map((x) => x.toFixed(1)).join(', ')})` : 'layout';
  const line = (x) => h('div', { class: 'pack-comment' }, h('div', { class: 'muted small' }, h('b', {}, x.author), ` · ${new Date(x.created_at).toLocaleString()}`), h('div', {}, mentionText(x.text, x.mentions, me)));
  return h('li', { class: `pack-thread${c.resolved ? ' resolved' : ''}`, testid: 'pack-thread' }, h('div', { class: 'pack-thread-head' }, h('span', { class: 'pin-num' }, String(number)), ` pinned to ${where}`, c.resolved ? h('span', { class: 'chip resolved' }, 'resolved') : h('span', { class: 'chip open' }, 'open')), line(c), ...replies.map((r) => h('div', { class: 'pack-reply' }, line(r))));
}

export async function renderReviewPack({ editor, view, state, changes, kpi, comments, user }) {
  document.body.classList.add('review-pack-mode');
  const root = h('div', { class: 'review-pack-page', testid: 'review-pack-page' }, h('div', { class: 'pack-loading muted' }, 'Preparing the review pack…'));
  document.body.appendChild(root);
  changes.setActive(true);
  await Promise.all([changes.refresh(), comments.load(), kpi.refresh()]);
  const layout = editor.layout;
  const items = changes.items;
  const roots = comments.roots();
  const marks = [];
  items.forEach((it, i) => {
    const p = changes.anchor(it);
    if (p) marks.push({ pos: p, text: String(i + 1), color: DIFF_COLORS[it.kind] });
  });
  roots.forEach((c, i) => {
    const p = comments.pinOf(c);
    if (p && !c.resolved) marks.push({ pos: p, text: `C${i + 1}`, color: '#7c3aed' });
  });
  comments.markers.setVisible(false);
  changes.markers.setVisible(false);
  view.labels.visible = false;
  editor.select([]);
  let image = null;
  try {
    image = topViewImage(view, { marks });
  } catch (err) {
    image = null;
    console.warn('top view failed', err);
  }
  view.labels.visible = true;
  const printBtn = h('button', { class: 'primary', testid: 'review-pack-print' }, 'Print / PDF');
  printBtn.addEventListener('click', () => window.print());
  const back = h('a', { class: 'small-btn btn-link', href: location.pathname, testid: 'review-pack-back' }, 'Back to the 3D view');
  const against = kpi.data ? kpi.data.against : null;
  const againstName = state.againstName();
  const me = user ? user.username : null;
  const data = kpi.data;
  const changeRows = items.map((it, i) =>
    h('tr', { testid: 'pack-change', class: `kind-${it.kind}` }, h('td', {}, h('span', { class: 'diff-num', style: { background: DIFF_COLORS[it.kind] } }, String(i + 1))), h('td', {}, it.connection ? `${it.kind} link` : it.kind), h('td', {}, it.title), h('td', {}, it.detail)),
  );
  root.replaceChildren(
    h('div', { class: 'pack-toolbar no-print' }, back, h('span', { class: 'spacer' }), printBtn),
    h(
      'header',
      { class: 'pack-header' },
      h('div', { class: 'muted small' }, `${editor.factory.name || 'Factory'} · review pack`),
      h('h1', { testid: 'pack-title' }, layout.name),
      h('div', { class: 'pack-meta' }, h('span', { class: `chip status-${layout.status}` }, STATUS_LABEL[layout.status] || layout.status), ` revision ${layout.revision} · by ${layout.created_by || '—'} · compared with `, h('b', {}, againstName), against ? ` (${STATUS_LABEL[against.status] || against.status}, revision ${against.revision})` : '', ` · generated ${new Date().toLocaleString()}${me ? ` by ${me}` : ''}`),
      layout.description ? h('p', {}, layout.description) : null,
      layout.status === 'rejected' && layout.reject_reason ? h('p', { class: 'sc-reason' }, `Rejected: ${layout.reject_reason}`) : null,
    ),
    section(
      'Top view',
      image ? h('img', { class: 'pack-image', src: image, alt: `Top view of ${layout.name}`, testid: 'pack-top-view' }) : h('p', { class: 'muted' }, 'The 3D view could not be rendered here.'),
      h('div', { class: 'rv-legend' }, ...Object.entries(DIFF_COLORS).map(([k, c]) => h('span', {}, h('i', { style: { background: c } }), k)), h('span', {}, h('i', { style: { background: '#7c3aed' } }), 'open comment (C)')),
    ),
    section(
      `Changes against ${againstName} (${items.length})`,
      items.length ? h('table', { class: 'pack-table', testid: 'pack-changes' }, h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Kind'), h('th', {}, 'What'), h('th', {}, 'Detail'))), h('tbody', {}, changeRows)) : h('p', { class: 'muted' }, 'No changes.'),
    ),
    section(
      'KPI comparison',
      data ? kpiTable(data, { testid: 'pack-kpis' }) : h('p', { class: 'muted' }, 'No comparison available.'),
      data && data.runs && (data.runs.layout || data.runs.against) ? kpiChart(data.kpis, { labels: [data.layout.name, data.against.name], width: 640 }) : null,
      ...(data ? runNote(data).map((t) => h('p', { class: 'muted small' }, t)) : []),
      data ? h('p', { class: 'muted small' }, `Significance: Welch's t-test at ${Math.round((1 - data.alpha) * 100)} % from each run's mean, 95 % half-width and replications.`) : null,
    ),
    section(`Comments (${roots.filter((c) => !c.resolved).length} open, ${roots.length} threads)`, roots.length ? h('ol', { class: 'pack-threads' }, roots.map((c, i) => threadView(c, comments.repliesOf(c.id), `C${i + 1}`, editor, me))) : h('p', { class: 'muted' }, 'No comments.')),
  );
  document.title = `Review pack · ${layout.name}`;
  document.documentElement.dataset.reviewPackReady = 'true';
  return root;
}
