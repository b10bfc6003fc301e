// KPI formatting and the comparison chart, shared by the KPI panel, the scenario list and the review pack.
// Durations and rates are written by util/format.js, as in every other panel.
import { duration, rate, stat } from '../../util/format.js';

const SVG = 'http://www.w3.org/2000/svg';

export function num(v, digits = 1) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return '—';
  const n = Number(v);
  const d = Math.abs(n) >= 1000 ? 0 : Math.abs(n) < 1 ? Math.max(digits, 2) : digits;
  return n.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: d });
}

export function fmtStat(s, unit = '') {
  if (!s || s.mean === null || s.mean === undefined) return '—';
  const u = unit === 'fraction' ? '' : unit ? ` ${unit}` : '';
  if (unit === 'fraction') return `${num(s.mean * 100, 1)} %`;
  if (unit === 's') return stat(s, 's');
  return s.ci95 !== null && s.ci95 !== undefined ? `${num(s.mean)} ± ${num(s.ci95)}${u}` : `${num(s.mean)}${u}`;
}

export function fmtDelta(row) {
  if (row.delta === null || row.delta === undefined) return '—';
  if (Math.abs(row.delta) < 1e-12) return '0';
  const sign = row.delta > 0 ? '+' : '';
  const value = row.unit === 'fraction' ? `${sign}${num(row.delta * 100, 1)} pts` : row.unit === 's' ? `${sign}${duration(row.delta)}` : `${sign}${num(row.delta)}`;
  const pct = row.delta_pct === null || row.delta_pct === undefined ? '' : ` (${row.delta_pct > 0 ? '+' : ''}${num(row.delta_pct, 1)} %)`;
  return value + pct;
}

// "better, significant" / "worse, not significant" / "no data" — what a manager needs to read at a glance.
export function verdict(row) {
  if (row.delta === null || row.delta === undefined) return { text: 'no data', cls: 'none' };
  const dir = row.improved === null || row.improved === undefined ? (row.delta === 0 ? 'same' : 'changed') : row.improved ? 'better' : 'worse';
  if (row.significant === true) return { text: `${dir}, significant${row.p_value !== null && row.p_value !== undefined ? ` (${row.p_value < 0.001 ? 'p<0.001' : `p=${row.p_value.toFixed(3)}`})` : ''}`, cls: `sig ${dir}` };
  if (row.significant === false) return { text: `${dir === 'same' ? 'same' : dir}, not significant${row.p_value !== null && row.p_value !== undefined ? ` (p=${row.p_value.toFixed(2)})` : ''}`, cls: `nsig ${dir}` };
  return { text: `${dir} (significance unknown)`, cls: `unknown ${dir}` };
}

// One-line KPI summary of a scenario row's latest simulation.
export function kpiSummary(sim) {
  if (!sim || !sim.kpis) return null;
  const k = sim.kpis;
  const parts = [];
  if (k.throughput_per_hour) parts.push(rate(k.throughput_per_hour.mean));
  if (k.lead_time_s) parts.push(`lead ${duration(k.lead_time_s.mean)}`);
  if (k.wip) parts.push(`WIP ${num(k.wip.mean)}`);
  if (k.bottleneck && k.bottleneck.name) parts.push(`bottleneck ${k.bottleneck.name}${k.bottleneck_utilization ? ` ${num(k.bottleneck_utilization.mean * 100, 0)} %` : ''}`);
  return parts.join(' · ');
}

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Paired horizontal bars per KPI (each KPI on its own scale) with 95% interval whiskers.
export function kpiChart(rows, { labels = ['Scenario', 'Baseline'], width = 520 } = {}) {
  const usable = rows.filter((r) => r.layout || r.against);
  const rowH = 46;
  const left = 150;
  const right = 90;
  const height = usable.length * rowH + 30;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', class: 'kpi-chart', role: 'img', 'aria-label': 'KPI comparison chart' });
  const plotW = width - left - right;
  usable.forEach((r, i) => {
    const y0 = 8 + i * rowH;
    const f = r.unit === 'fraction' ? 100 : 1;
    const vals = [r.layout, r.against].map((s) => (s ? { m: s.mean * f, c: (s.ci95 || 0) * f } : null));
    const max = Math.max(1e-9, ...vals.filter(Boolean).map((v) => v.m + v.c)) * 1.08;
    svg.append(el('text', { x: 0, y: y0 + 14, class: 'kc-label' }, r.label), el('text', { x: 0, y: y0 + 30, class: 'kc-unit' }, r.unit === 'fraction' ? '%' : r.unit));
    vals.forEach((v, j) => {
      const y = y0 + j * 17;
      if (!v) {
        svg.append(el('text', { x: left, y: y + 11, class: 'kc-unit' }, `${labels[j]}: no run`));
        return;
      }
      const w = Math.max(1, (v.m / max) * plotW);
      svg.append(el('rect', { x: left, y, width: w, height: 13, rx: 2, class: j === 0 ? 'kc-bar-a' : 'kc-bar-b' }));
      if (v.c > 0) {
        const x1 = left + ((v.m - v.c) / max) * plotW;
        const x2 = left + ((v.m + v.c) / max) * plotW;
        svg.append(el('line', { x1, x2, y1: y + 6.5, y2: y + 6.5, class: 'kc-ci' }), el('line', { x1, x2: x1, y1: y + 2, y2: y + 11, class: 'kc-ci' }), el('line', { x1: x2, x2, y1: y + 2, y2: y + 11, class: 'kc-ci' }));
      }
      svg.append(el('text', { x: left + plotW + 6, y: y + 11, class: 'kc-val' }, `${num(v.m)}`));
    });
  });
  const ly = height - 12;
  svg.append(el('rect', { x: left, y: ly - 9, width: 10, height: 10, class: 'kc-bar-a' }), el('text', { x: left + 14, y: ly, class: 'kc-unit' }, labels[0]));
  svg.append(el('rect', { x: left + 150, y: ly - 9, width: 10, height: 10, class: 'kc-bar-b' }), el('text', { x: left + 164, y: ly, class: 'kc-unit' }, labels[1]));
  svg.append(el('text', { x: left + 300, y: ly, class: 'kc-unit' }, 'whiskers: 95 % CI'));
  return svg;
}
