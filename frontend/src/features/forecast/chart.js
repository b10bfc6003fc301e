// The plant's output per hour on the clock: what the sinks' twins counted (complete hours), the plan's 95 %
// band around it, and past "now" the live forecast's throughput band. One uPlot chart, x in epoch seconds.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../../util/dom.js';

const plots = new WeakMap();
const PLAN = 'rgba(100,116,139,.22)';
const FORECAST = 'rgba(14,165,233,.22)';

// Values of one series on the union x axis: `points` is [[x, y], ...].
function onAxis(xs, points) {
  const at = new Map(points.map(([x, y]) => [x, y]));
  return xs.map((x) => (at.has(x) ? at.get(x) : null));
}

/** plan: {t (epoch s, bucket centres), actual, lo, mean, hi, outside} or null; forecast: {t, lo, mean, hi} or null. */
export function outputChart(container, { testid, plan, forecast, now, height = 170 }) {
  destroyOutputChart(container);
  const P = plan ? plan.t.map((x, i) => [x, i]) : [];
  const F = forecast ? forecast.t.map((x, i) => [x, i]) : [];
  const xs = [...new Set([...P.map(([x]) => x), ...F.map(([x]) => x), now])].sort((a, b) => a - b);
  const pick = (arr, pts) => onAxis(xs, pts.map(([x, i]) => [x, arr[i]]));
  const data = [
    xs,
    plan ? pick(plan.hi, P) : xs.map(() => null),
    plan ? pick(plan.lo, P) : xs.map(() => null),
    plan ? pick(plan.mean, P) : xs.map(() => null),
    plan ? pick(plan.actual, P) : xs.map(() => null),
    plan ? pick(plan.actual.map((v, i) => (plan.outside[i] ? v : null)), P) : xs.map(() => null),
    forecast ? pick(forecast.hi, F) : xs.map(() => null),
    forecast ? pick(forecast.lo, F) : xs.map(() => null),
    forecast ? pick(forecast.mean, F) : xs.map(() => null),
  ];
  const value = (u, v) => (v === null || v === undefined ? '—' : v.toFixed(Math.abs(v) >= 100 ? 0 : 1));
  const opts = {
    width: Math.max(240, Math.floor(container.clientWidth || 360)),
    height,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false }, points: { size: 5 } },
    scales: { x: { time: true }, y: { range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)] } },
    axes: [
      { stroke: '#64748b', grid: { stroke: '#eef2f6' }, ticks: { stroke: '#e2e8f0' }, size: 30 },
      { stroke: '#64748b', grid: { stroke: '#eef2f6' }, ticks: { stroke: '#e2e8f0' }, size: 40, label: 'parts / h', labelSize: 14 },
    ],
    series: [
      { label: 'time', value: (u, v) => (v === null || v === undefined ? '—' : new Date(v * 1000).toLocaleTimeString()) },
      { label: 'plan band', stroke: 'rgba(100,116,139,.45)', width: 1, value, points: { show: false } },
      { label: 'plan low', stroke: 'rgba(100,116,139,.45)', width: 1, value, points: { show: false } },
      { label: 'plan', stroke: '#64748b', width: 1.5, dash: [5, 4], value, points: { show: false } },
      { label: 'actual', stroke: '#0f172a', width: 2, value, points: { show: true, size: 6, fill: '#0f172a' } },
      { label: 'outside the plan', stroke: '#dc2626', width: 0, paths: () => null, value, points: { show: true, size: 9, fill: '#dc2626', stroke: '#fff', width: 1 } },
      { label: 'forecast band', stroke: 'rgba(2,132,199,.45)', width: 1, value, points: { show: false } },
      { label: 'forecast low', stroke: 'rgba(2,132,199,.45)', width: 1, value, points: { show: false } },
      { label: 'forecast', stroke: '#0284c7', width: 2, dash: [6, 3], value, points: { show: false } },
    ],
    bands: [{ series: [1, 2], fill: PLAN }, { series: [6, 7], fill: FORECAST }],
    hooks: {
      draw: [
        (u) => {
          // "now": where the counted past ends and the forecast begins.
          const x = Math.round(u.valToPos(now, 'x', true));
          const { ctx } = u;
          ctx.save();
          ctx.strokeStyle = '#0284c7';
          ctx.setLineDash([2, 3]);
          ctx.lineWidth = 1;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.fillStyle = '#0284c7';
          ctx.font = `${Math.round(10 * devicePixelRatio)}px sans-serif`;
          ctx.fillText('now', x + 3, u.bbox.top + 11 * devicePixelRatio);
          ctx.restore();
        },
      ],
    },
  };
  const el = h('div', { class: 'fx-chart pl-output', testid, dataset: { buckets: String(P.length), forecastBins: String(F.length), outside: String(plan ? plan.outside.filter(Boolean).length : 0) } });
  container.appendChild(el);
  const plot = new uPlot(opts, data, el);
  // One legend entry per band (the "low" edges would repeat it), and none for what is not drawn.
  const unused = [2, 7, ...(plan ? [] : [1, 3, 4, 5]), ...(forecast ? [] : [6, 8])];
  const items = el.querySelectorAll('.u-legend .u-series');
  const offset = items.length === opts.series.length ? 0 : 1; // without a live legend, the x series has no entry
  for (const i of unused) if (items[i - offset]) items[i - offset].style.display = 'none';
  const ro = new ResizeObserver(() => {
    const w = Math.floor(container.clientWidth);
    if (w > 100 && Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height });
  });
  ro.observe(container);
  plots.set(container, { plot, ro, el });
  return plot;
}

export function destroyOutputChart(container) {
  const c = plots.get(container);
  if (!c) return;
  c.ro.disconnect();
  c.plot.destroy();
  c.el.remove();
  plots.delete(container);
}
