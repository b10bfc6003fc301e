// The list of changes against the compared layout: pick what to compare with, step through the changes
// (each one framed in 3D), numbered markers in the scene. Refreshes itself when the layout is edited.
import { h, clear } from '../../util/dom.js';
import { ReviewApi, STATUS_LABEL } from './api.js';
import { DiffOverlay, DIFF_COLORS } from './DiffOverlay.js';
import { Markers } from './Markers.js';
import { frameBox } from './camera.js';
import { num } from './kpi.js';

const PARAM_LABEL = {
  cycle_time_s: 'cycle time', cycle_cv: 'cycle CV', mtbf_s: 'MTBF', mttr_s: 'MTTR', capacity: 'capacity', interarrival_s: 'interarrival', interarrival_cv: 'interarrival CV',
  // CONTRACT §7 (the diff shows an operator pool by its name)
  mix: 'product mix', cycle_time_by_type: 'cycle time by type', setup_time_s: 'setup time', setup_cv: 'setup CV', scrap_rate: 'scrap rate',
  operator: 'operator pool', repair_operator: 'repair crew', length_m: 'belt length', speed_mps: 'belt speed', spacing_m: 'part spacing', output_type: 'output type',
};

const show = (v) => (v === null || v === undefined ? '—' : typeof v === 'number' ? num(v, 2) : typeof v === 'object' ? JSON.stringify(v) : String(v));

// The diff response as a flat, ordered list of {kind, entry, title, detail}.
export function diffItems(diff) {
  if (!diff) return [];
  const out = [];
  for (const m of diff.moved || []) {
    const d = Math.hypot(m.to.x - m.from.x, m.to.z - m.from.z);
    const rot = Math.abs(m.to.rotation_deg - m.from.rotation_deg) > 1e-6 ? `, rotated ${show(m.from.rotation_deg)}° → ${show(m.to.rotation_deg)}°` : '';
    out.push({ kind: 'moved', entry: m, title: m.name, detail: `${d > 1e-6 ? `moved ${num(d, 1)} m (x ${show(m.from.x)} → ${show(m.to.x)}, z ${show(m.from.z)} → ${show(m.to.z)})` : 'turned'}${rot}` });
  }
  for (const a of diff.added || []) out.push({ kind: 'added', entry: a, title: a.name, detail: `added at (${show(a.x)}, ${show(a.z)})` });
  for (const r of diff.removed || []) out.push({ kind: 'removed', entry: r, title: r.name, detail: `removed from (${show(r.x)}, ${show(r.z)})` });
  for (const c of diff.changed || []) {
    const fields = Object.entries(c.fields || {}).map(([k, v]) => `${PARAM_LABEL[k.replace('params.', '')] || k.replace('params.', '')} ${show(v.from)} → ${show(v.to)}`);
    out.push({ kind: 'changed', entry: c, title: c.name, detail: fields.join('; ') });
  }
  const conns = diff.connections || {};
  for (const c of conns.added || []) out.push({ kind: 'added', connection: true, entry: c, title: `${c.source} → ${c.target}`, detail: 'new connection' });
  for (const c of conns.removed || []) out.push({ kind: 'removed', connection: true, entry: c, title: `${c.source} → ${c.target}`, detail: 'connection removed' });
  for (const c of conns.changed || []) {
    const fields = Object.entries(c.fields || {}).map(([k, v]) => `${k.replace(/_/g, ' ')} ${show(v.from)} → ${show(v.to)}`);
    out.push({ kind: 'changed', connection: true, entry: c, title: `${c.source} → ${c.target}`, detail: fields.join('; ') });
  }
  return out;
}

export class ChangesPanel {
  constructor({ editor, view, state, notify, insetLeft = () => 0 }) {
    this.insetLeft = insetLeft;
    this.editor = editor;
    this.view = view;
    this.state = state;
    this.notify = notify;
    this.overlay = new DiffOverlay(view, editor);
    this.markers = new Markers(view, 'diff-markers');
    this.markers.setVisible(false);
    this.items = [];
    this.index = -1;
    this.active = false;
    this.select = h('select', { testid: 'compare-against', 'aria-label': 'Compare with' });
    this.select.addEventListener('change', () => state.setAgainst(Number(this.select.value) || null));
    this.summary = h('div', { class: 'rv-summary', testid: 'diff-summary' });
    this.list = h('ol', { class: 'diff-list', testid: 'diff-list' });
    this.pos = h('span', { class: 'muted small', testid: 'diff-position' });
    const prev = h('button', { class: 'small-btn', testid: 'diff-prev', title: 'Previous change ([)' }, '◀ Prev');
    const next = h('button', { class: 'small-btn', testid: 'diff-next', title: 'Next change (])' }, 'Next ▶');
    prev.addEventListener('click', () => this.step(-1));
    next.addEventListener('click', () => this.step(1));
    this.el = h(
      'div',
      { class: 'rv-changes' },
      h('label', { class: 'rv-row' }, h('span', { class: 'muted small' }, 'Compare with'), this.select),
      h('div', { class: 'rv-legend' }, ...Object.entries(DIFF_COLORS).map(([k, c]) => h('span', {}, h('i', { style: { background: c } }), k))),
      this.summary,
      h('div', { class: 'rv-row rv-stepper' }, prev, this.pos, next),
      this.list,
    );
    state.againstChanged.add(() => this.refresh());
    state.layoutsLoaded.add(() => this.renderOptions());
    // Edits (mine or remote) change the diff: refetch shortly after the last one.
    const s = editor.signals;
    const soon = () => {
      if (!this.active) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.refresh(), 600);
    };
    for (const sig of [s.assetAdded, s.assetChanged, s.assetRemoved, s.connectionAdded, s.connectionRemoved, s.connectionChanged]) sig.add(soon);
    window.addEventListener('keydown', (e) => {
      if (!this.active || e.target.matches('input, textarea, select')) return;
      if (e.key === ']') this.step(1);
      if (e.key === '[') this.step(-1);
    });
  }

  renderOptions() {
    clear(this.select);
    this.select.append(h('option', { value: '' }, '— nothing —'));
    for (const l of this.state.layouts) {
      if (l.id === this.editor.layout.id) continue;
      const tag = l.id === this.state.baselineId ? ' (baseline)' : l.id === this.editor.layout.parent ? ' (parent)' : '';
      this.select.append(h('option', { value: l.id, selected: l.id === this.state.against }, `${l.name}${tag} · ${STATUS_LABEL[l.status] || l.status}`));
    }
    this.select.value = this.state.against ? String(this.state.against) : '';
  }

  setActive(on) {
    this.active = on;
    this.overlay.setVisible(on);
    this.markers.setVisible(on);
    this.frameOnLoad = on;
    if (on) this.refresh();
  }

  async refresh() {
    const against = this.state.against;
    this.select.value = against ? String(against) : '';
    if (!against) {
      this.diff = null;
      this.apply([]);
      this.summary.textContent = 'Choose a layout to compare with.';
      return;
    }
    try {
      const diff = await ReviewApi.diff(this.editor.layout.id, against);
      if (against !== this.state.against) return; // a newer choice won
      this.diff = diff;
      this.apply(diffItems(diff));
    } catch (err) {
      this.summary.textContent = `Could not load the changes: ${err.message}`;
    }
  }

  apply(items) {
    const keep = this.index >= 0 && this.items[this.index] ? this.key(this.items[this.index]) : null;
    this.items = items;
    this.overlay.show(items.filter((it) => !it.connection));
    this.index = keep ? items.findIndex((it) => this.key(it) === keep) : -1;
    const counts = { moved: 0, added: 0, removed: 0, changed: 0 };
    for (const it of items) counts[it.kind]++;
    const name = this.state.againstName();
    this.summary.textContent = items.length ? `${items.length} change${items.length === 1 ? '' : 's'} against ${name}: ${Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(', ')}.` : `No changes against ${name}.`;
    this.render();
    if (this.frameOnLoad && items.length) {
      // First look at a comparison: show all the changes at once, beside the drawer.
      this.frameOnLoad = false;
      this.frameAll();
    }
  }

  frameAll(animate = true) {
    const boxes = this.items.map((it) => this.boxOf(it)).filter(Boolean);
    if (!boxes.length) return;
    const box = { minX: Math.min(...boxes.map((b) => b.minX)), maxX: Math.max(...boxes.map((b) => b.maxX)), minZ: Math.min(...boxes.map((b) => b.minZ)), maxZ: Math.max(...boxes.map((b) => b.maxZ)), height: Math.max(...boxes.map((b) => b.height || 1)) };
    frameBox(this.view, box, animate, this.insetLeft());
  }

  key(it) {
    return `${it.kind}:${it.connection ? `${it.entry.source_uid}>${it.entry.target_uid}` : it.entry.uid}`;
  }

  render() {
    clear(this.list);
    this.markers.clear();
    this.items.forEach((it, i) => {
      const row = h(
        'li',
        { class: `diff-item kind-${it.kind}${i === this.index ? ' current' : ''}`, testid: 'diff-item', dataset: { kind: it.kind, uid: it.entry.uid || '', name: it.title }, tabindex: 0 },
        h('span', { class: 'diff-num', style: { background: DIFF_COLORS[it.kind] } }, String(i + 1)),
        h('div', {}, h('div', { class: 'diff-title' }, it.title, h('span', { class: `diff-kind k-${it.kind}` }, it.connection ? `${it.kind} link` : it.kind)), h('div', { class: 'muted small' }, it.detail)),
      );
      row.addEventListener('click', () => this.go(i));
      row.addEventListener('keydown', (e) => e.key === 'Enter' && this.go(i));
      this.list.appendChild(row);
      const p = this.anchor(it);
      if (p) {
        const m = h('button', { class: `diff-marker k-${it.kind}${i === this.index ? ' current' : ''}`, testid: 'diff-marker', style: { background: DIFF_COLORS[it.kind] }, title: `${it.title}: ${it.detail}` }, String(i + 1));
        m.addEventListener('click', () => this.go(i));
        this.markers.set(i, m, p);
      }
    });
    this.pos.textContent = this.items.length ? `${this.index >= 0 ? this.index + 1 : '–'} / ${this.items.length}` : '0 / 0';
  }

  // Where an item's number floats: above the asset (new place for a move), or the link's midpoint.
  anchor(it) {
    const box = this.boxOf(it);
    // Stacked by kind so that a moved-and-changed asset shows both numbers (comment pins sit lower).
    const lift = { moved: 1.2, added: 1.2, removed: 1.2, changed: 2.2 }[it.kind] || 1.2;
    return box ? [(box.minX + box.maxX) / 2, (box.height || 1) + lift, (box.minZ + box.maxZ) / 2] : null;
  }

  boxOf(it) {
    if (it.connection) {
      const byUid = new Map([...this.editor.assets.values()].map((a) => [a.uid, a]));
      const ends = [byUid.get(it.entry.source_uid), byUid.get(it.entry.target_uid)].filter(Boolean);
      if (!ends.length) return null;
      return { minX: Math.min(...ends.map((a) => a.x)) - 1, maxX: Math.max(...ends.map((a) => a.x)) + 1, minZ: Math.min(...ends.map((a) => a.z)) - 1, maxZ: Math.max(...ends.map((a) => a.z)) + 1, height: 1 };
    }
    const drawn = this.overlay.items.find((d) => d.entry === it.entry);
    return drawn ? drawn.box : null;
  }

  go(i, animate = true) {
    if (!this.items.length) return null;
    this.index = ((i % this.items.length) + this.items.length) % this.items.length;
    const it = this.items[this.index];
    const box = this.boxOf(it);
    if (box) frameBox(this.view, box, animate, this.insetLeft());
    if (!it.connection && it.kind !== 'removed' && this.editor.assets.has(it.entry.id)) this.editor.select([it.entry.id]);
    else this.editor.select([]);
    this.render();
    const row = this.list.children[this.index];
    if (row && row.scrollIntoView) row.scrollIntoView({ block: 'nearest' });
    return it;
  }

  step(d) {
    return this.go(this.index < 0 ? (d > 0 ? 0 : this.items.length - 1) : this.index + d);
  }
}
