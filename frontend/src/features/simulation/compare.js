// Two runs side by side (e.g. a branch against the baseline): KPIs with their CIs and the difference,
// flagged when the confidence intervals do not overlap; utilisation per station matched by name; both
// throughput series in one chart.
import { h, fmt } from '../../util/dom.js';
import { lineChart, destroyChart, fmtDuration } from './charts.js';
import { utilBar, pct } from './results.js';

const METRICS = [
  { key: 'throughput_per_hour', label: 'Throughput /h', f: (v) => fmt(v, 1), better: 1 },
  { key: 'lead_time_s', label: 'Lead time', f: fmtDuration, better: -1 },
  { key: 'wip', label: 'WIP (parts)', f: (v) => fmt(v, 1), better: -1 },
];

export function runLabel(run, layoutName) {
  return `#${run.id}${layoutName ? ` · ${layoutName}` : ''} · ${new Date(run.created_at).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })}`;
}

export class CompareView {
  constructor({ a, b, labelA, labelB, onClose }) {
    this.box = h('div', { class: 'fx-chart-box' });
    const rows = METRICS.map((m) => {
      const va = a.results[m.key];
      const vb = b.results[m.key];
      const diff = vb.mean - va.mean;
      const separate = Math.abs(diff) > (va.ci95 || 0) + (vb.ci95 || 0);
      const good = diff * m.better > 0;
      const rel = va.mean ? ` (${diff >= 0 ? '+' : ''}${((diff / va.mean) * 100).toFixed(1)}%)` : '';
      return h(
        'tr',
        { testid: `sim-compare-${m.key}` },
        h('th', {}, m.label),
        h('td', {}, `${m.f(va.mean)} ± ${m.f(va.ci95)}`),
        h('td', {}, `${m.f(vb.mean)} ± ${m.f(vb.ci95)}`),
        h('td', { class: separate ? (good ? 'fx-better' : 'fx-worse') : 'muted', title: separate ? 'The 95% confidence intervals do not overlap.' : 'Within the confidence intervals: no clear difference.' }, `${diff >= 0 ? '+' : ''}${m.f(diff)}${rel}`),
      );
    });
    const byName = new Map((b.results.stations || []).map((s) => [s.name, s]));
    const stations = (a.results.stations || []).filter((s) => s.kind !== 'sink');
    const names = new Set(stations.map((s) => s.name));
    const extra = (b.results.stations || []).filter((s) => s.kind !== 'sink' && !names.has(s.name));
    const urows = [...stations, ...extra].map((s) => {
      const sa = names.has(s.name) ? s : null;
      const sb = byName.get(s.name) || null;
      return h(
        'div',
        { class: 'fx-crow' },
        h('span', { class: 'fx-uname' }, s.name, sa && sa.asset === a.results.bottleneck ? h('b', { class: 'fx-bn' }, ' A⚑') : '', sb && sb.asset === b.results.bottleneck ? h('b', { class: 'fx-bn' }, ' B⚑') : ''),
        sa ? utilBar(sa.utilization) : h('span', { class: 'muted small' }, 'not in A'),
        sb ? utilBar(sb.utilization) : h('span', { class: 'muted small' }, 'not in B'),
        h('span', { class: 'fx-upct' }, `${sa ? pct(sa.utilization.working) : '—'}→${sb ? pct(sb.utilization.working) : '—'}`),
      );
    });
    const close = h('button', { class: 'small-btn', testid: 'sim-compare-close', onclick: onClose }, 'Close comparison');
    this.el = h(
      'div',
      { class: 'fx-compare', testid: 'sim-compare-view' },
      h('div', { class: 'fx-rhead' }, h('h4', {}, 'Comparison'), close),
      h('table', { class: 'fx-ctable' }, h('tr', {}, h('th', {}), h('th', {}, 'A ', h('small', { class: 'muted' }, labelA)), h('th', {}, 'B ', h('small', { class: 'muted' }, labelB)), h('th', {}, 'B − A')), rows),
      h('p', { class: 'muted small' }, 'Green/red: the 95% confidence intervals do not overlap (a real difference); grey: within the noise.'),
      h('h5', {}, 'Utilisation per station (A | B)'),
      h('div', { class: 'fx-util' }, urows),
      h('h5', {}, 'Throughput over simulated time'),
      this.box,
    );
    this.a = a;
    this.b = b;
  }

  mounted() {
    const ta = this.a.results.timeseries;
    const tb = this.b.results.timeseries;
    // Different horizons: plot both against their own bins on a shared axis (union of times).
    const xs = [...new Set([...ta.t, ...tb.t])].sort((x, y) => x - y);
    const at = (ts) => {
      const m = new Map(ts.t.map((t, i) => [t, ts.throughput_per_hour[i]]));
      return xs.map((t) => (m.has(t) ? m.get(t) : null));
    };
    lineChart(this.box, { testid: 'sim-compare-chart', x: xs, series: [{ label: 'A', color: '#0369a1', values: at(ta), spanGaps: true }, { label: 'B', color: '#db2777', values: at(tb), spanGaps: true }], height: 140 });
  }

  destroy() {
    destroyChart(this.box);
    this.el.remove();
  }
}
