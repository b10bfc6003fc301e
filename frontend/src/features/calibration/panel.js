// "Calibrate from the plant" (CONTRACT §9), for engineers on a draft: pick a window of the plant's history,
// see per station what its twin's telemetry says (observations, current → fitted cycle time, CV, MTBF and
// MTTR, and the histogram of observed cycle times under the fitted curve), then write the fits into the
// draft as one change. The preview reads GET calibration per twin; Apply is the server's own POST calibrate,
// whose answer replaces the preview (it is what was written, and the room gets it as one `assets.update`).
import { h, clear, fmt } from '../../util/dom.js';
import { TwinApi } from '../twins/api.js';
import { fmtDuration } from '../simulation/charts.js';
import { CalibrationApi } from './api.js';
import { RangePicker } from './range.js';
import { histogramChart, destroyHistogram } from './histogram.js';

// What the server calibrates (twins/services/calibration.py CALIBRATED_KINDS) and the params it writes.
const STATION_KINDS = new Set(['machine', 'assembly', 'robot', 'conveyor']);
const PARAMS = [
  { key: 'cycle_time_s', label: 'Cycle time', show: fmtDuration },
  { key: 'cycle_cv', label: 'CV', show: (v) => fmt(v, 2) },
  { key: 'mtbf_s', label: 'MTBF', show: fmtDuration },
  { key: 'mttr_s', label: 'MTTR', show: fmtDuration },
];
const CONCURRENT_FITS = 4;
const round = (v, digits) => Math.round(v * 10 ** digits) / 10 ** digits;

// The four params as the engine reads them: the asset's own, else its type's default, else null.
export function effectiveParams(asset, type) {
  const merged = { ...((type && type.defaults) || {}), ...(asset.params || {}) };
  return Object.fromEntries(PARAMS.map((p) => [p.key, merged[p.key] ?? null]));
}

// What calibrate would write from one twin's fits, rounded as the server rounds them.
export function fittedParams(cal) {
  const out = {};
  if (cal.cycle_time_s) {
    out.cycle_time_s = round(cal.cycle_time_s.mean, 3);
    out.cycle_cv = round(cal.cycle_time_s.cv, 3);
  }
  if (cal.mtbf_s && cal.mttr_s) {
    out.mtbf_s = round(cal.mtbf_s.mean, 1);
    out.mttr_s = round(cal.mttr_s.mean, 1);
  }
  return out;
}

export class CalibrationPanel {
  constructor({ editor, ui, onOpen }) {
    this.editor = editor;
    this.onOpen = onOpen;
    this.rows = []; // [{asset, name, twin, before, after, observations, detail, fit}]
    this.selected = null; // asset id whose histogram is shown
    this.applied = null; // the POST answer once applied
    this.token = 0;
    this.toggleBtn = h('button', { class: 'tool fx-tool pl-tool', testid: 'calibrate-toggle', title: 'Calibrate from the plant', 'aria-label': 'Calibrate from the plant', hidden: true, html: CAL_ICON });
    this.toggleBtn.addEventListener('click', () => this.toggle());
    ui.connBanner.parentNode.insertBefore(this.toggleBtn, ui.connBanner);
    this.range = new RangePicker({ testid: 'calibrate-range', initial: '8h', onChange: () => this.preview() });
    this.status = h('p', { class: 'muted small', testid: 'calibrate-status' });
    this.table = h('div', { class: 'pl-cal-table', testid: 'calibrate-table' });
    this.chartTitle = h('div', { class: 'small', testid: 'calibrate-chart-title' });
    this.chartBox = h('div', { class: 'fx-chart-box' });
    this.chartNote = h('div', { class: 'muted small', testid: 'calibrate-chart-note' });
    this.applyBtn = h('button', { class: 'primary', testid: 'calibrate-apply', disabled: true }, 'Apply to this draft');
    this.applyBtn.addEventListener('click', () => this.apply());
    this.error = h('div', { class: 'fx-error', testid: 'calibrate-error', role: 'alert', hidden: true });
    const close = h('button', { class: 'ghost small', testid: 'calibrate-close', title: 'Close', onclick: () => this.toggle(false) }, '×');
    this.el = h(
      'section',
      { class: 'fx-panel pl-panel', testid: 'calibrate-panel', hidden: true, 'aria-label': 'Calibrate from the plant' },
      h('div', { class: 'fx-head' }, h('span', {}, 'Calibrate from the plant'), close),
      h('div', { class: 'fx-scroll' },
        h('p', { class: 'muted small' }, 'Fits each station’s cycle time, MTBF and MTTR from its twin’s telemetry in a window, and writes them into this draft as one change.'),
        this.range.el,
        this.status,
        this.table,
        h('div', { class: 'fx-actions' }, this.applyBtn),
        this.error,
        h('div', { class: 'pl-hist', testid: 'calibrate-histogram' }, this.chartTitle, this.chartBox, this.chartNote),
      ),
    );
    ui.overlays.appendChild(this.el);
    const refresh = () => {
      this.toggleBtn.hidden = !editor.canEdit;
      if (!editor.canEdit && !this.el.hidden) this.toggle(false);
    };
    editor.signals.sceneLoaded.add(refresh);
    editor.signals.layoutChanged.add(refresh);
    refresh();
  }

  get open() {
    return !this.el.hidden;
  }

  toggle(force) {
    const open = force === undefined ? this.el.hidden : force;
    this.el.hidden = !open;
    this.toggleBtn.classList.toggle('active', open);
    if (open) {
      this.onOpen?.();
      if (!this.applied) this.preview();
    }
  }

  stations() {
    const out = [];
    for (const asset of this.editor.assets.values()) {
      const type = this.editor.typeOf(asset);
      if (type && STATION_KINDS.has(type.kind)) out.push({ asset, type });
    }
    return out.sort((a, b) => a.asset.id - b.asset.id);
  }

  async preview() {
    const window = this.range.value();
    if (!window) return;
    const token = ++this.token;
    this.applied = null;
    this.error.hidden = true;
    this.applyBtn.disabled = true;
    this.status.textContent = `Fitting ${this.range.label} of telemetry…`;
    let twins;
    try {
      twins = new Map((await TwinApi.twins(this.editor.factory.id)).map((t) => [t.key, t.id]));
    } catch (err) {
      return this.fail(`Could not load the twins: ${err.message}`);
    }
    const stations = this.stations();
    const rows = stations.map(({ asset, type }) => ({ asset: asset.id, name: asset.name, twin: asset.twin_key ? twins.get(asset.twin_key) ?? null : null, before: effectiveParams(asset, type), after: null, observations: null, detail: null, fit: null }));
    for (const r of rows) if (r.twin === null) r.detail = 'No twin is bound to this asset (twin_key).';
    const queue = rows.filter((r) => r.twin !== null);
    const work = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        try {
          const cal = await CalibrationApi.fit(r.twin, window);
          r.fit = cal;
          r.after = { ...r.before, ...fittedParams(cal) };
          r.observations = { cycles: cal.cycle_time_s ? cal.cycle_time_s.n : 0, failures: cal.mtbf_s ? cal.mtbf_s.n : 0 };
          r.detail = cal.detail ? Object.values(cal.detail).join(' ') : null;
        } catch (err) {
          r.detail = `Could not fit: ${err.message}`;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_FITS }, work));
    if (token !== this.token) return;
    this.rows = rows;
    const changes = rows.filter((r) => this.changes(r)).length;
    this.status.textContent = `${this.range.label}: ${changes} of ${rows.length} station${rows.length === 1 ? '' : 's'} would change.`;
    this.applyBtn.disabled = !changes || !this.editor.canEdit;
    if (!rows.some((r) => r.asset === this.selected && r.fit && r.fit.cycle_time_s)) this.selected = (rows.find((r) => r.fit && r.fit.cycle_time_s && r.fit.cycle_time_s.histogram) || {}).asset ?? null;
    this.render();
  }

  changes(r) {
    return !!r.after && PARAMS.some((p) => r.after[p.key] !== r.before[p.key]);
  }

  async apply() {
    const window = this.range.value();
    if (!window) return;
    this.applyBtn.disabled = true;
    this.error.hidden = true;
    this.status.textContent = 'Writing the fitted values into the draft…';
    let answer;
    try {
      answer = await CalibrationApi.apply(this.editor.layout.id, window);
    } catch (err) {
      this.applyBtn.disabled = false;
      return this.fail(`Calibration failed: ${err.message}`);
    }
    this.applied = answer;
    // A skipped station keeps the values the preview showed; the fits stay for its histogram.
    const seen = new Map(this.rows.map((r) => [r.asset, r]));
    const kept = (id) => (seen.get(id) || {}).before || null;
    this.rows = [
      ...answer.changed.map((c) => ({ ...c, fit: (seen.get(c.asset) || {}).fit || null, state: 'changed' })),
      ...answer.skipped.map((s) => ({ ...s, before: kept(s.asset), after: null, fit: (seen.get(s.asset) || {}).fit || null, state: 'skipped' })),
    ].sort((a, b) => a.asset - b.asset);
    const n = answer.changed.length;
    this.status.textContent = n ? `Calibrated ${n} station${n === 1 ? '' : 's'} from ${this.range.label} as one change; ${answer.skipped.length} kept their values.` : 'Nothing changed: no station had enough new data.';
    this.editor.notify(n ? `Calibrated ${n} station${n === 1 ? '' : 's'} from the plant.` : 'Calibration changed nothing.', n ? 'info' : 'warn');
    this.render();
  }

  fail(message) {
    this.status.textContent = '';
    this.error.textContent = message;
    this.error.hidden = false;
  }

  render() {
    clear(this.table);
    const head = h('tr', {}, h('th', {}, 'Station'), h('th', { class: 'num' }, 'Obs.'), PARAMS.map((p) => h('th', {}, p.label)));
    const body = this.rows.map((r) => this.row(r));
    this.table.append(h('table', { class: 'fx-ctable pl-ctable' }, h('thead', {}, head), h('tbody', {}, body)));
    this.renderChart();
  }

  row(r) {
    const state = r.state || (this.changes(r) ? 'change' : 'keep');
    const cells = PARAMS.map((p) => {
      if (!r.after) return h('td', { class: 'muted' }, r.before ? p.show(r.before[p.key]) : '');
      const a = r.before[p.key];
      const b = r.after[p.key];
      return a === b
        ? h('td', { testid: `cal-${p.key}` }, p.show(a))
        : h('td', { class: 'pl-changed', testid: `cal-${p.key}`, dataset: { before: String(a), after: String(b) } }, h('span', { class: 'muted' }, p.show(a)), ' → ', h('b', {}, p.show(b)));
    });
    const obs = r.observations ? `${r.observations.cycles} cycles${r.observations.failures ? ` · ${r.observations.failures} failures` : ''}` : '—';
    const tr = h(
      'tr',
      { class: `pl-row ${state}${r.asset === this.selected ? ' selected' : ''}`, testid: 'calibrate-row', dataset: { asset: String(r.asset), name: r.name, state }, title: r.fit && r.fit.cycle_time_s ? 'Show its cycle-time histogram' : '' },
      h('td', {}, r.name),
      h('td', { class: 'num', testid: 'cal-observations' }, obs),
      cells,
    );
    tr.addEventListener('click', () => {
      if (!(r.fit && r.fit.cycle_time_s)) return;
      this.selected = r.asset;
      for (const el of this.table.querySelectorAll('tr.pl-row')) el.classList.toggle('selected', el.dataset.asset === String(r.asset));
      this.renderChart();
    });
    // Stations without enough data say so (what is missing keeps its value).
    if (!r.detail) return tr;
    return [tr, h('tr', { class: `pl-note ${state}` }, h('td', { colspan: 2 + PARAMS.length, class: 'muted small', testid: 'calibrate-detail' }, r.detail.replace(/\.; /g, '. ')))];
  }

  renderChart() {
    const r = this.rows.find((x) => x.asset === this.selected);
    const cal = r && r.fit && r.fit.cycle_time_s;
    if (!cal || !cal.histogram) {
      destroyHistogram(this.chartBox);
      this.chartTitle.textContent = r ? `${r.name}: ${cal ? 'every cycle took the same time (no histogram).' : 'not enough cycle times for a histogram.'}` : '';
      this.chartNote.textContent = '';
      return;
    }
    this.chartTitle.replaceChildren(h('b', {}, r.name), ` · cycle times in ${this.range.label}`);
    histogramChart(this.chartBox, { testid: 'calibrate-histogram-chart', histogram: cal.histogram, distribution: cal.distribution });
    const p = cal.ks_p === null || cal.ks_p === undefined ? 'no KS test' : `KS p = ${cal.ks_p < 0.001 ? '< 0.001' : fmt(cal.ks_p, 3)}`;
    this.chartNote.textContent = `${cal.n} cycles · mean ${fmtDuration(cal.mean)} · CV ${fmt(cal.cv, 2)} · ${cal.distribution} fit · ${p}${cal.ks_p !== null && cal.ks_p < 0.05 ? ' (the shape fits poorly)' : ''}`;
  }
}

const CAL_ICON = '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><path d="M3 20h18"/><path d="M5 20v-5M9 20v-9M13 20v-12M17 20v-7"/><path d="M4 12c3-6 6-7 9-5s5 4 7 3"/></svg>';
