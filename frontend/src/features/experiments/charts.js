// The experiment's pictures: a main-effects chart per factor (uPlot, the project's chart library: the
// mean objective at each value of the factor, over all other factors) and a heat map for two factors
// (a coloured table: uPlot draws no heat maps, and a table stays readable and testable).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../../util/dom.js';

// One effects chart: x = the factor's values in the order they were given, y = mean objective.
export function effectsChart(container, { testid, title, labels, means, format, color = '#0369a1' }) {
  const xs = labels.map((_, i) => i);
  const width = Math.max(160, Math.floor(container.clientWidth || 300));
  const el = h('div', { class: 'fx-chart exp-effect', testid, dataset: { points: String(means.filter((m) => m !== null && m !== undefined).length) } });
  container.appendChild(el);
  const opts = {
    width,
    height: 120,
    title,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    scales: { x: { time: false, range: [-0.3, Math.max(0.3, xs.length - 0.7)] } },
    axes: [
      { stroke: '#64748b', grid: { show: false }, ticks: { stroke: '#e2e8f0' }, size: 26, splits: () => xs, values: (u, splits) => splits.map((i) => labels[i] ?? '') },
      { stroke: '#64748b', grid: { stroke: '#eef2f6' }, ticks: { stroke: '#e2e8f0' }, size: 56, values: (u, vals) => vals.map((v) => format(v)) },
    ],
    series: [{}, { label: title, stroke: color, width: 1.8, spanGaps: true, points: { show: true, size: 7, fill: color, stroke: '#fff' } }],
  };
  const plot = new uPlot(opts, [xs, means.map((m) => (m === undefined ? null : m))], el);
  const ro = new ResizeObserver(() => {
    const w = Math.floor(container.clientWidth);
    if (w > 100 && Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: 120 });
  });
  ro.observe(container);
  return () => {
    ro.disconnect();
    plot.destroy();
    el.remove();
  };
}

// Colour of a value between the worst (0) and the best (1) of the table: red through amber to green.
export function heatColor(t) {
  const hue = Math.round(4 + Math.max(0, Math.min(1, t)) * 128);
  return `hsl(${hue} 70% 82%)`;
}

// Mean objective for every (row value, column value) pair, averaged over the other factors.
export function heatCells(points, rowLabel, colLabel, objective) {
  const sums = new Map();
  for (const p of points) {
    const r = p.results && p.results[objective.kpi];
    if (!r) continue;
    const key = JSON.stringify([p.values[rowLabel], p.values[colLabel]]);
    const s = sums.get(key) || { sum: 0, n: 0, indices: [] };
    s.sum += r.mean;
    s.n += 1;
    s.indices.push(p.index);
    sums.set(key, s);
  }
  return (rv, cv) => {
    const s = sums.get(JSON.stringify([rv, cv]));
    return s ? { mean: s.sum / s.n, indices: s.indices } : null;
  };
}

export function heatMap({ rowFactor, colFactor, points, objective, best, format, valueText }) {
  const cell = heatCells(points, rowFactor.label, colFactor.label, objective);
  const all = [];
  for (const rv of rowFactor.values) for (const cv of colFactor.values) {
    const c = cell(rv, cv);
    if (c) all.push(c.mean);
  }
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const score = (m) => (hi === lo ? 1 : objective.sense === 'max' ? (m - lo) / (hi - lo) : (hi - m) / (hi - lo));
  const head = h('tr', {}, h('th', { class: 'exp-hcorner', title: `${rowFactor.label} (rows) × ${colFactor.label} (columns)` }, `${rowFactor.label} ↓ · ${colFactor.label} →`), colFactor.values.map((cv) => h('th', {}, valueText(cv, colFactor))));
  const rows = rowFactor.values.map((rv) =>
    h(
      'tr',
      {},
      h('th', {}, valueText(rv, rowFactor)),
      colFactor.values.map((cv) => {
        const c = cell(rv, cv);
        if (!c) return h('td', { class: 'exp-hempty', testid: 'exp-heat-cell', dataset: { row: valueText(rv, rowFactor), col: valueText(cv, colFactor) } }, '—');
        const isBest = best !== null && c.indices.includes(best);
        return h(
          'td',
          { class: isBest ? 'exp-hbest' : '', style: { background: heatColor(score(c.mean)) }, testid: 'exp-heat-cell', title: `${rowFactor.label} = ${valueText(rv, rowFactor)}, ${colFactor.label} = ${valueText(cv, colFactor)}: ${format(c.mean)}${c.indices.length > 1 ? ` (mean of ${c.indices.length} points)` : ''}`, dataset: { row: valueText(rv, rowFactor), col: valueText(cv, colFactor), mean: String(c.mean) } },
          format(c.mean),
        );
      }),
    ),
  );
  return h('table', { class: 'exp-heat', testid: 'exp-heatmap' }, h('thead', {}, head), h('tbody', {}, rows));
}
