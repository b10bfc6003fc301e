// Side-by-side KPIs of this layout and the compared one (latest successful runs), deltas and significance,
// and "run both": the two simulations with the same seed, horizon and replications.
import { h, clear } from '../../util/dom.js';
import { ReviewApi, ROLE_RANK } from './api.js';
import { fmtStat, fmtDelta, verdict, kpiChart, num } from './kpi.js';
import { WARMUP_UNIT } from '../../util/format.js';

const DONE = new Set(['succeeded', 'failed', 'cancelled']);

export function kpiTable(data, { testid = 'kpi-table' } = {}) {
  const body = h('tbody');
  for (const r of data.kpis || []) {
    const v = verdict(r);
    const unit = r.unit === 'fraction' ? '%' : r.unit === 's' ? '' : r.unit;
    body.append(
      h(
        'tr',
        { testid: 'kpi-row', dataset: { key: r.key, significant: String(r.significant), improved: String(r.improved) } },
        h('th', {}, r.label, h('div', { class: 'muted small' }, unit)),
        h('td', { class: 'num' }, fmtStat(r.layout, r.unit === 'fraction' || r.unit === 's' ? r.unit : '')),
        h('td', { class: 'num' }, fmtStat(r.against, r.unit === 'fraction' || r.unit === 's' ? r.unit : '')),
        h('td', { class: `num delta ${r.improved === true ? 'better' : r.improved === false ? 'worse' : ''}`, testid: `kpi-delta-${r.key}` }, fmtDelta(r), h('div', { class: `verdict ${v.cls}`, testid: `kpi-verdict-${r.key}` }, v.text)),
      ),
    );
  }
  return h('table', { class: 'kpi-table', testid }, h('thead', {}, h('tr', {}, h('th', {}, 'KPI'), h('th', {}, data.layout ? data.layout.name : 'This'), h('th', {}, data.against ? data.against.name : 'Other'), h('th', {}, 'Δ'))), body);
}

// The drawer's narrow version: one block per KPI.
export function kpiList(data) {
  return h(
    'div',
    { class: 'kpi-list', testid: 'kpi-table' },
    (data.kpis || []).map((r) => {
      const v = verdict(r);
      const unit = r.unit === 'fraction' || r.unit === 's' ? '' : r.unit;
      const fmt = (s) => fmtStat(s, r.unit === 'fraction' || r.unit === 's' ? r.unit : '');
      return h(
        'div',
        { class: 'kpi-item', testid: 'kpi-row', dataset: { key: r.key, significant: String(r.significant), improved: String(r.improved) } },
        h('div', { class: 'kpi-line' }, h('b', {}, r.label), unit ? h('span', { class: 'muted small' }, ` ${unit}`) : null, h('span', { class: 'spacer' }), h('span', { class: `delta ${r.improved === true ? 'better' : r.improved === false ? 'worse' : ''}`, testid: `kpi-delta-${r.key}` }, fmtDelta(r))),
        h('div', { class: 'kpi-vals small' }, h('span', { class: 'kpi-a' }, fmt(r.layout)), h('span', { class: 'muted' }, ' vs '), h('span', { class: 'kpi-b' }, fmt(r.against))),
        h('div', { class: `verdict ${v.cls}`, testid: `kpi-verdict-${r.key}` }, v.text),
      );
    }),
  );
}

export function runNote(data) {
  const r = data.runs || {};
  const bits = [];
  const side = (run, name) => (run ? `${name}: run #${run.id}${run.params ? ` (${num((run.params.horizon_s || 0) / 3600, 1)} h, ${run.params.replications} reps, seed ${run.params.seed})` : ''}${run.stale ? ' — stale: assets or connections changed since' : ''}` : `${name}: no successful run yet`);
  bits.push(side(r.layout, data.layout ? data.layout.name : 'this'), side(r.against, data.against ? data.against.name : 'other'));
  if (data.same_params === false) bits.push('The two runs used different parameters: prefer "Run both".');
  return bits;
}

export class KpiPanel {
  constructor({ editor, state, notify }) {
    this.editor = editor;
    this.state = state;
    this.notify = notify;
    this.data = null;
    this.content = h('div', { class: 'kpi-content' }, h('div', { class: 'muted' }, 'Loading…'));
    const field = (label, testid, value, attrs = {}) => {
      const input = h('input', { type: 'number', testid, value, ...attrs });
      return [input, h('label', { class: 'kpi-field' }, h('span', { class: 'muted small' }, label), input)];
    };
    [this.horizon, this.horizonField] = field('Horizon (h)', 'run-horizon', 8, { min: 0.1, step: 0.5 });
    [this.warmup, this.warmupField] = field(`Warm-up (${WARMUP_UNIT.unit})`, 'run-warmup', 30, { min: 0, step: 5 });
    [this.reps, this.repsField] = field('Replications', 'run-replications', 10, { min: 2, max: 200, step: 1 });
    [this.seed, this.seedField] = field('Seed', 'run-seed', 1 + Math.floor(Math.random() * 99999), { min: 0, step: 1 });
    this.runBtn = h('button', { class: 'primary', testid: 'run-both' }, 'Run both');
    this.runBtn.addEventListener('click', () => this.runBoth().catch((err) => this.notify(`Run both failed: ${err.message}`, 'error')));
    this.progress = h('div', { class: 'run-progress', testid: 'run-progress', hidden: true });
    this.el = h(
      'div',
      { class: 'kpi-compare', testid: 'kpi-compare' },
      this.content,
      h('div', { class: 'kpi-run' }, h('div', { class: 'kpi-fields' }, this.horizonField, this.warmupField, this.repsField, this.seedField), h('div', { class: 'rv-row' }, this.runBtn, h('span', { class: 'muted small' }, 'Simulates both layouts with the same seed and replications.')), this.progress),
    );
    state.againstChanged.add(() => this.refresh());
    editor.signals.layoutChanged.add(() => this.updateButton());
    this.updateButton();
  }

  updateButton() {
    const ok = (ROLE_RANK[this.editor.role] ?? 0) >= 1;
    this.runBtn.disabled = !ok || !!this.running || !this.state.against;
    this.runBtn.title = ok ? '' : 'Engineers and up run simulations.';
  }

  async refresh(runs = {}) {
    this.updateButton();
    const against = this.state.against;
    if (!against) {
      clear(this.content).append(h('div', { class: 'muted' }, 'Choose a layout to compare with (Changes tab).'));
      return null;
    }
    try {
      const data = await ReviewApi.compare(this.editor.layout.id, against, runs);
      if (against !== this.state.against) return null;
      this.data = data;
      this.render(data);
      return data;
    } catch (err) {
      clear(this.content).append(h('div', { class: 'form-error' }, `Could not compare: ${err.message}`));
      return null;
    }
  }

  render(data) {
    clear(this.content);
    const anyRun = data.runs && (data.runs.layout || data.runs.against);
    this.content.append(h('div', { class: 'kpi-legend small' }, h('span', { class: 'kpi-a' }, data.layout.name), h('span', { class: 'muted' }, ' vs '), h('span', { class: 'kpi-b' }, data.against.name)), kpiList(data));
    if (anyRun) this.content.append(kpiChart(data.kpis, { labels: [data.layout.name, data.against.name], width: 420 }));
    const bn = (side) => {
      const run = data.runs && data.runs[side];
      const b = run && run.kpis && run.kpis.bottleneck;
      return b && b.name ? `${b.name}` : '—';
    };
    this.content.append(h('div', { class: 'muted small', testid: 'kpi-bottlenecks' }, `Bottleneck: ${bn('layout')} here, ${bn('against')} in ${data.against.name}.`));
    for (const line of runNote(data)) this.content.append(h('div', { class: 'muted small' }, line));
  }

  params() {
    const hours = (input, fallback) => (Number.isFinite(Number(input.value)) && input.value !== '' ? Number(input.value) : fallback) * 3600;
    return {
      horizon_s: hours(this.horizon, 8),
      warmup_s: (Number.isFinite(Number(this.warmup.value)) && this.warmup.value !== '' ? Number(this.warmup.value) : 0) * WARMUP_UNIT.scale,
      replications: Math.max(1, Math.round(Number(this.reps.value) || 10)),
      seed: Math.max(0, Math.round(Number(this.seed.value) || 1)),
    };
  }

  // Start both runs, follow their progress, then compare exactly those two runs.
  async runBoth(overrides = {}) {
    const against = this.state.against;
    if (!against) throw new Error('Choose a layout to compare with first.');
    const params = { ...this.params(), ...overrides };
    this.running = true;
    this.updateButton();
    this.progress.hidden = false;
    try {
      const [a, b] = await Promise.all([ReviewApi.startSimulation({ layout: this.editor.layout.id, ...params }), ReviewApi.startSimulation({ layout: against, ...params })]);
      this.notify(`Running both layouts (seed ${params.seed}, ${params.replications} replications)…`, 'info');
      const runs = { layout: a, against: b };
      for (;;) {
        this.showProgress(runs);
        if (DONE.has(runs.layout.status) && DONE.has(runs.against.status)) break;
        await new Promise((r) => setTimeout(r, 700));
        const [x, y] = await Promise.all([ReviewApi.simulation(a.id), ReviewApi.simulation(b.id)]);
        runs.layout = x;
        runs.against = y;
      }
      const failed = Object.values(runs).filter((r) => r.status !== 'succeeded');
      if (failed.length) this.notify(`Simulation ${failed.map((r) => `#${r.id} ${r.status}${r.error ? `: ${r.error}` : ''}`).join(', ')}`, 'error');
      else this.notify('Both simulations finished.', 'success');
      return await this.refresh(failed.length ? {} : { layout: a.id, against: b.id });
    } finally {
      this.running = false;
      this.updateButton();
      setTimeout(() => (this.progress.hidden = true), 1500);
    }
  }

  showProgress(runs) {
    const bar = (run, name) => {
      const pct = Math.round((run.progress || 0) * 100);
      return h('div', { class: 'run-line', dataset: { status: run.status } }, h('span', {}, `${name} #${run.id}`), h('span', { class: 'bar' }, h('i', { style: { width: `${run.status === 'succeeded' ? 100 : pct}%` } })), h('span', { class: 'muted small' }, `${run.status}${run.status === 'running' ? ` ${pct}%` : ''}`));
    };
    clear(this.progress).append(bar(runs.layout, 'This'), bar(runs.against, this.state.againstName()));
  }
}
