// One experiment's results: the best point, a sortable table of every point with its 95% CIs, the main
// effects per factor, a heat map for two factors, "apply as a branch" and the CSV / JSON export.
import { h, fmt } from '../../util/dom.js';
import { fmtDuration } from '../simulation/charts.js';
import { effectsChart, heatMap } from './charts.js';
import { exportExperiment } from './export.js';
import { valueText as specValueText, connectionSpec, settingLabel } from './factors.js';
import { KPIS } from './form.js';
import { ACTIVE } from './api.js';

export const KPI_FORMAT = {
  throughput_per_hour: { label: 'Throughput', unit: '/h', f: (v) => `${fmt(v, 1)} /h`, n: (v) => fmt(v, 1) },
  lead_time_s: { label: 'Lead time', unit: '', f: fmtDuration, n: fmtDuration },
  wip: { label: 'WIP', unit: 'parts', f: (v) => `${fmt(v, 1)} parts`, n: (v) => fmt(v, 1) },
  scrap_per_hour: { label: 'Scrap', unit: '/h', f: (v) => `${fmt(v, 2)} /h`, n: (v) => fmt(v, 2) },
};

// "107.4 /h ± 2.3"; in the table, where the unit is in the heading, "107.4 ± 2.3".
export function statText(key, s, { unit = true } = {}) {
  if (!s || s.mean === null || s.mean === undefined) return '—';
  const k = KPI_FORMAT[key];
  const mean = unit ? k.f(s.mean) : k.n(s.mean);
  return s.ci95 === null || s.ci95 === undefined ? mean : `${mean} ± ${k.n(s.ci95)}`;
}

// A table cell: the mean, and its 95% half-width on a second line (keeps the table inside the panel).
function cellStat(key, s) {
  if (!s || s.mean === null || s.mean === undefined) return '—';
  const k = KPI_FORMAT[key];
  return [h('span', { class: 'exp-mean' }, k.n(s.mean)), s.ci95 === null || s.ci95 === undefined ? '' : h('span', { class: 'exp-ci' }, `± ${k.n(s.ci95)}`)];
}

function factorValueText(v, factor) {
  return specValueText(v, factor.field ? connectionSpec(factor.field) : { nullText: 'none' });
}

export function objectiveText(obj) {
  const k = KPIS.find((x) => x.key === obj.kpi);
  return `${obj.sense === 'max' ? 'maximise' : 'minimise'} ${(k ? k.label : obj.kpi).toLowerCase()}`;
}

// A factor's column heading: who (asset, or source → target) over what, in the inspector's words.
function factorHead(f) {
  const key = f.param || f.field;
  const who = f.label.endsWith(`.${key}`) ? f.label.slice(0, -key.length - 1) : f.label;
  return [who, settingLabel(key)];
}

export class ExperimentView {
  constructor({ editor, exp, sort, canApply, onSort, onApply }) {
    this.editor = editor;
    this.exp = exp;
    this.sort = sort || { key: 'index', dir: 1 };
    this.canApply = canApply;
    this.onSort = onSort;
    this.onApply = onApply;
    this.disposers = [];
    this.heatPair = [0, 1];
    this.el = h('div', { class: 'fx-results exp-results', testid: 'exp-results', dataset: { experiment: String(exp.id), status: exp.status } });
    this.applyBox = h('div', { class: 'exp-apply', testid: 'exp-apply-box', hidden: true }); // survives updates
    this.render();
  }

  // Fresh figures of the same experiment (points finishing): redraw, keeping the sort and an open apply box.
  update(exp) {
    this.exp = exp;
    this.disposeCharts();
    this.render();
    this.mounted();
  }

  render() {
    const exp = this.exp;
    const p = exp.params || {};
    const pts = exp.points || [];
    const finished = pts.filter((x) => x.results).length;
    const exports = h(
      'div',
      { class: 'fx-exports' },
      h('button', { type: 'button', class: 'fx-btn', testid: 'exp-export-csv', onclick: () => exportExperiment(this.exp, 'csv') }, 'Export CSV'),
      h('button', { type: 'button', class: 'fx-btn', testid: 'exp-export-json', onclick: () => exportExperiment(this.exp, 'json') }, 'Export JSON'),
    );
    const search = exp.search.method === 'grid' ? 'grid (every combination)' : `optimiser, budget ${exp.search.budget}`;
    const meta = h('div', { class: 'muted small', testid: 'exp-meta' }, `${search} · ${exp.total} points × ${p.replications} replications · ${fmtDuration(p.horizon_s)} (warm-up ${fmtDuration(p.warmup_s)}) · seed ${p.seed} · same random numbers at every point · ${objectiveText(exp.objective)}`);
    const content = this.editor.contentRevision || 0;
    const stale = exp.layout === this.editor.layout.id && exp.layout_revision < content
      ? h('div', { class: 'fx-stale small', testid: 'exp-stale' }, `The layout has changed since this experiment (revision ${exp.layout_revision} → ${content}): its figures describe the layout as it was.`)
      : '';
    this.table = h('div', { class: 'exp-table-wrap' });
    this.effects = h('div', { class: 'exp-effects', testid: 'exp-effects' });
    this.heat = h('div', { class: 'exp-heat-box' });
    this.el.dataset.status = exp.status;
    this.el.dataset.points = String(finished);
    this.el.replaceChildren(
      h('div', { class: 'fx-rhead' }, h('h4', {}, `Results of “${exp.name}”`), exports),
      meta,
      stale,
      this.bestBox(),
      this.applyBox,
      h('h5', {}, `Points (${finished} of ${exp.total} with results) — click a heading to sort`),
      this.table,
      exp.factors.length ? h('h5', {}, `Main effects on ${KPI_FORMAT[exp.objective.kpi].label.toLowerCase()} (mean over the other factors)`) : '',
      this.effects,
      exp.factors.length >= 2 ? h('h5', {}, `Heat map: ${KPI_FORMAT[exp.objective.kpi].label.toLowerCase()} by two factors`) : '',
      this.heat,
    );
    this.renderTable();
    this.renderHeat();
  }

  bestBox() {
    const exp = this.exp;
    const best = exp.best !== null && exp.best !== undefined ? (exp.points || []).find((x) => x.index === exp.best) : null;
    if (!best) return h('div', { class: 'exp-best muted small', testid: 'exp-best' }, exp.status === 'failed' ? `No point finished: ${exp.error || 'every run failed'}.` : 'The best point appears here once the first points have finished.');
    const values = exp.factors.map((f) => `${factorHead(f).join(' ')} = ${factorValueText(best.values[f.label], f)}`).join(' · ');
    const btn = h('button', { class: 'primary small-btn', testid: 'exp-apply-best', hidden: !this.canApply, onclick: () => this.askApply(best.index) }, 'Apply as a branch');
    return h(
      'div',
      { class: 'exp-best', testid: 'exp-best', dataset: { point: String(best.index) } },
      h('div', {}, h('b', {}, `${ACTIVE.has(exp.status) ? 'Best so far' : 'Best'}: point ${best.index}`), ACTIVE.has(exp.status) ? h('span', { class: 'muted small' }, ' (the experiment is still running)') : ''),
      h('div', { class: 'small' }, values),
      h('div', { class: 'exp-best-kpi' }, `${KPI_FORMAT[exp.objective.kpi].label}: `, h('b', { testid: 'exp-best-value' }, statText(exp.objective.kpi, best.results[exp.objective.kpi]))),
      btn,
    );
  }

  columns() {
    const exp = this.exp;
    const hasScrap = (exp.points || []).some((x) => x.results && x.results.scrap_per_hour && x.results.scrap_per_hour.mean > 0);
    const kpis = ['throughput_per_hour', 'lead_time_s', 'wip', ...(hasScrap ? ['scrap_per_hour'] : [])];
    return [
      { key: 'index', head: '#', value: (x) => x.index, cell: (x) => String(x.index) },
      ...exp.factors.map((f) => {
        const [who, what] = factorHead(f);
        return { key: `f:${f.label}`, factor: true, head: h('span', { title: f.label }, who, h('br'), h('span', { class: 'muted' }, what)), value: (x) => (x.values[f.label] === null ? Infinity : x.values[f.label]), cell: (x) => factorValueText(x.values[f.label], f) };
      }),
      ...kpis.map((k) => ({
        key: k,
        head: h('span', { title: `${KPI_FORMAT[k].label}: mean ± 95% confidence half-width${k === exp.objective.kpi ? ' (the objective)' : ''}` }, KPI_FORMAT[k].label, k === exp.objective.kpi ? ' ◆' : '', KPI_FORMAT[k].unit ? h('br') : '', KPI_FORMAT[k].unit ? h('span', { class: 'muted' }, KPI_FORMAT[k].unit) : ''),
        value: (x) => (x.results && x.results[k] ? x.results[k].mean : null),
        cell: (x) => cellStat(k, x.results[k]),
        num: true,
      })),
    ];
  }

  renderTable() {
    const exp = this.exp;
    const cols = this.columns();
    const { key, dir } = this.sort;
    const col = cols.find((c) => c.key === key) || cols[0];
    const rows = [...(exp.points || [])].sort((a, b) => {
      const va = col.value(a);
      const vb = col.value(b);
      if (va === null && vb === null) return a.index - b.index;
      if (va === null) return 1; // points without results last, whichever way
      if (vb === null) return -1;
      return va === vb ? a.index - b.index : (va < vb ? -1 : 1) * dir; // ties keep the points' order
    });
    const head = h(
      'tr',
      {},
      cols.map((c) => {
        const th = h('th', { class: c.num ? 'num' : c.factor ? 'exp-fcol' : '', testid: `exp-sort-${c.key}`, 'aria-sort': c.key === col.key ? (dir > 0 ? 'ascending' : 'descending') : 'none', tabindex: 0, title: 'Sort by this column' }, c.head, c.key === col.key ? h('span', { class: 'exp-sortmark' }, dir > 0 ? ' ▲' : ' ▼') : '');
        const go = () => {
          this.sort = { key: c.key, dir: c.key === col.key ? -dir : c.num ? -1 : 1 };
          if (this.onSort) this.onSort(this.sort);
          this.renderTable();
        };
        th.addEventListener('click', go);
        th.addEventListener('keydown', (e) => {
          e.stopPropagation();
          if (e.key === 'Enter' || e.key === ' ') go();
        });
        return th;
      }),
      this.canApply ? h('th', {}, '') : '',
    );
    const body = rows.map((x) =>
      h(
        'tr',
        { class: x.index === exp.best ? 'best' : '', testid: 'exp-row', dataset: { point: String(x.index), status: x.status, best: String(x.index === exp.best) } },
        x.results
          ? cols.map((c) => h('td', { class: c.num ? 'num' : '' }, c.cell(x)))
          : [...cols.filter((c) => !c.num).map((c) => h('td', {}, c.cell(x))), h('td', { colspan: cols.filter((c) => c.num).length, class: 'exp-pending' }, h('span', { class: `fx-chip ${x.status}` }, x.status))],
        this.canApply
          ? h('td', {}, x.results ? h('button', { class: 'small-btn', testid: 'exp-apply-row', title: `A new draft with point ${x.index}'s values`, onclick: () => this.askApply(x.index) }, 'Branch') : '')
          : '',
      ),
    );
    this.table.replaceChildren(h('table', { class: 'fx-ctable exp-table', testid: 'exp-table' }, h('thead', {}, head), h('tbody', {}, body)));
  }

  mounted() {
    const exp = this.exp;
    const k = KPI_FORMAT[exp.objective.kpi];
    exp.factors.forEach((f, i) => {
      const means = exp.effects[f.label] || [];
      const box = h('div', { class: 'fx-chart-box' });
      this.effects.append(box);
      if (!means.some((m) => m !== null && m !== undefined)) return box.append(h('p', { class: 'muted small' }, `${f.label}: no finished point yet.`));
      this.disposers.push(effectsChart(box, { testid: `exp-effect-${i}`, title: `${k.label}${k.unit ? ` (${k.unit})` : ''} by ${f.label}`, labels: f.values.map((v) => factorValueText(v, f)), means, format: k.n }));
    });
  }

  renderHeat() {
    const exp = this.exp;
    if (exp.factors.length < 2) return this.heat.replaceChildren();
    const [r, c] = this.heatPair;
    const pick = (which) => {
      const sel = h('select', { testid: `exp-heat-${which}`, 'aria-label': which === 'rows' ? 'Factor down the rows' : 'Factor across the columns' }, exp.factors.map((f, i) => h('option', { value: i }, f.label)));
      sel.value = String(which === 'rows' ? r : c);
      sel.addEventListener('change', () => {
        const v = Number(sel.value);
        const other = which === 'rows' ? c : r;
        this.heatPair = which === 'rows' ? [v, v === other ? r : other] : [v === other ? c : other, v];
        this.renderHeat();
      });
      return sel;
    };
    const pickers = exp.factors.length > 2 ? h('div', { class: 'fx-prow small' }, 'Rows', pick('rows'), 'Columns', pick('cols')) : '';
    const hasAny = (exp.points || []).some((x) => x.results);
    const map = hasAny
      ? heatMap({ rowFactor: exp.factors[r], colFactor: exp.factors[c], points: exp.points || [], objective: exp.objective, best: exp.best, format: KPI_FORMAT[exp.objective.kpi].f, valueText: factorValueText })
      : h('p', { class: 'muted small' }, 'The heat map fills in as points finish.');
    const means = (exp.points || []).filter((x) => x.results && x.results[exp.objective.kpi]).map((x) => x.results[exp.objective.kpi].mean);
    const f = KPI_FORMAT[exp.objective.kpi].f;
    const [lo, hi] = [Math.min(...means), Math.max(...means)];
    const [worst, bestv] = exp.objective.sense === 'max' ? [lo, hi] : [hi, lo];
    const legend = hasAny ? h('div', { class: 'exp-hlegend small muted' }, h('i', { class: 'worst' }), `worst ${f(worst)}`, h('i', { class: 'bestc' }), `best ${f(bestv)}`, h('i', { class: 'outline' }), 'best point') : '';
    this.heat.replaceChildren(pickers, h('div', { class: 'exp-heat-scroll' }, map), legend);
  }

  askApply(index) {
    const exp = this.exp;
    const input = h('input', { testid: 'exp-apply-name', value: `${exp.name} · point ${index}`, 'aria-label': 'Name of the new draft', maxlength: 200 });
    const ok = h('button', { class: 'primary small-btn', testid: 'exp-apply-confirm' }, 'Create the draft');
    const cancel = h('button', { class: 'small-btn', testid: 'exp-apply-cancel', onclick: () => (this.applyBox.hidden = true) }, 'Cancel');
    const status = h('div', { class: 'small', testid: 'exp-apply-status' });
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') ok.click();
      if (e.key === 'Escape') cancel.click();
    });
    ok.addEventListener('click', async () => {
      ok.disabled = true;
      status.textContent = 'Creating the draft…';
      status.className = 'small';
      const result = await this.onApply(index, input.value.trim() || `${exp.name} · point ${index}`);
      if (result.error) {
        ok.disabled = false;
        status.className = 'fx-error small';
        status.textContent = result.error;
        return;
      }
      const draft = result.draft;
      this.applyBox.replaceChildren(
        h('div', { class: 'exp-applied', testid: 'exp-applied', dataset: { layout: String(draft.id) } },
          h('span', {}, `Draft “${draft.name}” created with point ${index}'s values. The manager can review it like any draft.`),
          h('div', { class: 'fx-prow' },
            h('a', { class: 'fx-btn primary', href: `/layouts/${draft.id}/`, testid: 'exp-open-branch' }, 'Open the draft'),
            h('button', { class: 'small-btn', testid: 'exp-applied-close', onclick: () => (this.applyBox.hidden = true) }, 'Stay here'))),
      );
    });
    this.applyBox.replaceChildren(h('div', { class: 'small' }, `A new draft branched from this layout, with point ${index}'s values set:`), h('div', { class: 'fx-prow' }, input), h('div', { class: 'fx-prow' }, cancel, ok), status);
    this.applyBox.hidden = false;
    input.focus();
    input.select();
  }

  disposeCharts() {
    for (const d of this.disposers) d();
    this.disposers = [];
  }

  destroy() {
    this.disposeCharts();
    this.el.remove();
  }
}
