// One station's observed cycle times as a histogram (bars) with the fitted distribution's expected counts
// drawn over it (a line), from the 20-bin `histogram {edges, counts, fitted}` of the calibration API.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../../util/dom.js';
import { fmtDuration } from '../simulation/charts.js';

const plots = new WeakMap();

export function histogramChart(container, { testid, histogram, distribution, height = 130 }) {
  destroyHistogram(container);
  const { edges, counts, fitted } = histogram;
  const x = counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  const width = Math.max(220, Math.floor(container.clientWidth || 320));
  const bars = uPlot.paths.bars({ size: [0.92, Infinity], align: 0 });
  const opts = {
    width,
    height,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false }, points: { size: 5 } },
    scales: { x: { time: false, range: [edges[0], edges[edges.length - 1]] } },
    axes: [
      { stroke: '#64748b', grid: { show: false }, ticks: { stroke: '#e2e8f0' }, size: 28, values: (u, vals) => vals.map((v) => fmtDuration(v)) },
      { stroke: '#64748b', grid: { stroke: '#eef2f6' }, ticks: { stroke: '#e2e8f0' }, size: 36 },
    ],
    series: [
      { label: 'cycle time', value: (u, v) => (v === null || v === undefined ? '—' : fmtDuration(v)) },
      { label: 'observed', stroke: '#0369a1', fill: 'rgba(3,105,161,.28)', width: 1, paths: bars, points: { show: false } },
      { label: `fitted (${distribution})`, stroke: '#ea580c', width: 2, points: { show: true, size: 4, fill: '#ea580c' } },
    ],
  };
  const el = h('div', { class: 'fx-chart', testid, dataset: { bins: String(counts.length), observed: String(counts.reduce((a, b) => a + b, 0)), fitted: fitted ? 'true' : 'false' } });
  container.appendChild(el);
  const plot = new uPlot(opts, [x, counts, fitted || counts.map(() => null)], el);
  const ro = new ResizeObserver(() => {
    const w = Math.floor(container.clientWidth);
    if (w > 100 && Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height });
  });
  ro.observe(container);
  plots.set(container, { plot, ro, el });
  return plot;
}

export function destroyHistogram(container) {
  const c = plots.get(container);
  if (!c) return;
  c.ro.disconnect();
  c.plot.destroy();
  c.el.remove();
  plots.delete(container);
}
