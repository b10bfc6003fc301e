// uPlot wrappers shared by the simulation results and the twin history: sized to their container, resized
// with it, destroyed when replaced. Charts carry data-testid and data-points so tests can see them.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../../util/dom.js';
import { duration } from '../../util/format.js';

const charts = new WeakMap();

// The workspace's one duration formatter (util/format.js), under the name the panels import.
export const fmtDuration = duration;

// A line chart. `series`: [{label, color, values, dash?, points?, band?}]; x in seconds (simulated or epoch).
export function lineChart(container, { testid, title, x, series, time = false, height = 140, yLabel = '', bands = [] }) {
  destroyChart(container);
  const width = Math.max(200, Math.floor(container.clientWidth || 300));
  const opts = {
    width,
    height,
    title: title || undefined,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    scales: { x: { time } },
    axes: [
      { stroke: '#64748b', grid: { stroke: '#eef2f6' }, ticks: { stroke: '#e2e8f0' }, size: 32, values: time ? undefined : (u, vals) => vals.map((v) => fmtDuration(v)) },
      { stroke: '#64748b', grid: { stroke: '#eef2f6' }, ticks: { stroke: '#e2e8f0' }, size: 44, label: yLabel || undefined, labelSize: yLabel ? 14 : 0 },
    ],
    series: [
      { label: time ? 'time' : 'sim time', value: (u, v) => (v === null || v === undefined ? '—' : time ? new Date(v * 1000).toLocaleTimeString() : fmtDuration(v)) },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.width ?? 1.6,
        dash: s.dash,
        fill: s.fill,
        spanGaps: s.spanGaps ?? false,
        paths: s.pointsOnly ? () => null : undefined,
        points: s.pointsOnly ? { show: true, size: 8, fill: s.color, stroke: '#fff', width: 1 } : { show: false },
        value: (u, v) => (v === null || v === undefined ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)),
      })),
    ],
    bands,
  };
  const el = h('div', { class: 'fx-chart', testid });
  container.appendChild(el);
  const plot = new uPlot(opts, [x, ...series.map((s) => s.values)], el);
  el.dataset.points = String(x.length);
  const ro = new ResizeObserver(() => {
    const w = Math.floor(container.clientWidth);
    if (w > 100 && Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height });
  });
  ro.observe(container);
  charts.set(container, { plot, ro, el });
  return plot;
}

export function destroyChart(container) {
  const c = charts.get(container);
  if (!c) return;
  c.ro.disconnect();
  c.plot.destroy();
  c.el.remove();
  charts.delete(container);
}
