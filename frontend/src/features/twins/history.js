// The selected asset's twin: live status and values, and a history chart (bucketed min/max/mean with
// anomaly markers) over 15 min / 1 h / 24 h. Refreshes itself, throttled, when twin.changed arrives.
import { h, fmt } from '../../util/dom.js';
import { STATUS_COLORS } from '../../scene/AssetGeometry.js';
import { lineChart, destroyChart } from '../simulation/charts.js';
import { TwinApi } from './api.js';

const RANGES = [
  { key: '15m', label: '15 min', s: 900, bucket: 15 },
  { key: '1h', label: '1 h', s: 3600, bucket: 60 },
  { key: '24h', label: '24 h', s: 86400, bucket: 900 },
];
const REFRESH_MS = 3000;

export class TwinHistoryCard {
  constructor({ editor, container, twinId }) {
    this.editor = editor;
    this.twinId = twinId; // (key) -> id or null
    this.key = null;
    this.name = null;
    this.range = RANGES[1];
    this.status = h('div', { class: 'fx-twin-live', testid: 'twin-live-status' });
    this.names = h('select', { testid: 'twin-history-name', 'aria-label': 'Value to chart' });
    this.names.addEventListener('change', () => {
      this.name = this.names.value;
      this.load();
    });
    this.rangeBtns = RANGES.map((r) => {
      const b = h('button', { class: 'small-btn', testid: `twin-range-${r.key}` }, r.label);
      b.addEventListener('click', () => {
        this.range = r;
        this.load();
      });
      return b;
    });
    this.chartBox = h('div', { class: 'fx-chart-box' });
    this.note = h('div', { class: 'muted small', testid: 'twin-history-note' });
    this.el = h(
      'div',
      { class: 'fx-twin-card', testid: 'twin-history', hidden: true },
      h('div', { class: 'vp-head' }, h('span', {}, 'Twin history')),
      this.status,
      h('div', { class: 'fx-prow' }, this.names, h('span', { class: 'fx-ranges' }, this.rangeBtns)),
      this.chartBox,
      this.note,
    );
    container.insertBefore(this.el, container.firstChild);
    editor.signals.selectionChanged.add(() => this.follow());
    editor.signals.sceneLoaded.add(() => this.follow());
    editor.signals.twinsChanged.add((keys) => {
      if (!this.key || !keys.includes(this.key)) return;
      this.renderLive();
      this.scheduleReload();
    });
  }

  follow() {
    const ids = this.editor.selection;
    const asset = ids.length === 1 ? this.editor.assets.get(ids[0]) : null;
    const key = asset && asset.twin_key ? asset.twin_key : null;
    if (key === this.key) return;
    this.key = key;
    this.name = null;
    this.el.hidden = !key;
    if (!key) return destroyChart(this.chartBox);
    this.renderLive();
    this.load();
  }

  twin() {
    return this.key ? this.editor.twins.get(this.key) : null;
  }

  renderLive() {
    const twin = this.twin();
    const status = twin ? twin.status || 'unknown' : 'unknown';
    this.status.dataset.status = status;
    const when = twin && (twin.ts || twin.updated_at);
    this.status.replaceChildren(
      h('span', { class: 'fx-status', style: { background: STATUS_COLORS[status] || STATUS_COLORS.unknown } }, status),
      h('b', {}, twin ? twin.name || this.key : this.key),
      when ? h('span', { class: 'muted small' }, ` · ${new Date(when).toLocaleTimeString()}`) : '',
    );
    const numeric = Object.entries((twin && twin.values) || {}).filter(([, v]) => typeof v === 'number').map(([k]) => k).sort();
    const current = [...this.names.options].map((o) => o.value);
    if (numeric.join() !== current.join()) {
      this.names.replaceChildren(...numeric.map((n) => h('option', { value: n }, n)));
    }
    if (!this.name || !numeric.includes(this.name)) this.name = numeric.includes('temperature') ? 'temperature' : numeric[0] || null;
    if (this.name) this.names.value = this.name;
    this.names.hidden = !numeric.length;
  }

  scheduleReload() {
    if (this.timer) return;
    const wait = Math.max(0, REFRESH_MS - (performance.now() - (this.loadedAt || 0)));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load();
    }, wait);
  }

  async load() {
    for (const b of this.rangeBtns) b.classList.toggle('active', b.dataset.testid === `twin-range-${this.range.key}`);
    const key = this.key;
    const id = key ? await this.twinId(key) : null;
    if (key !== this.key) return;
    if (!id || !this.name) {
      destroyChart(this.chartBox);
      this.note.textContent = id ? 'No numeric telemetry yet.' : 'No twin with this key in the factory yet.';
      return;
    }
    const to = new Date();
    const from = new Date(to.getTime() - this.range.s * 1000);
    const name = this.name;
    const range = this.range;
    this.loadedAt = performance.now();
    let data;
    try {
      data = await TwinApi.history(id, { name, from: from.toISOString(), to: to.toISOString(), bucket_s: range.bucket });
    } catch (err) {
      this.note.textContent = `History unavailable: ${err.message}`;
      return;
    }
    if (key !== this.key || name !== this.name || range !== this.range) return;
    this.draw(data, from, to);
  }

  draw(data, from, to) {
    const t = (data.t || []).map((v) => (typeof v === 'number' ? v : Date.parse(v)) / 1000);
    const anomalies = (data.anomalies || []).map((a) => ({ t: (typeof a.t === 'number' ? a.t : Date.parse(a.t)) / 1000, v: a.value }));
    // One x axis: the buckets plus every anomaly's own time.
    const xs = [...new Set([...t, ...anomalies.map((a) => a.t)])].sort((a, b) => a - b);
    const idx = new Map(t.map((v, i) => [v, i]));
    const pick = (arr) => xs.map((x) => (idx.has(x) ? arr[idx.get(x)] ?? null : null));
    const an = new Map(anomalies.map((a) => [a.t, a.v]));
    if (!xs.length) xs.push(from.getTime() / 1000, to.getTime() / 1000);
    const series = [
      { label: 'max', color: 'rgba(3,105,161,.35)', values: pick(data.max || []), width: 1, spanGaps: true },
      { label: 'min', color: 'rgba(3,105,161,.35)', values: pick(data.min || []), width: 1, spanGaps: true },
      { label: `${this.name} (mean)`, color: '#0369a1', values: pick(data.mean || []), width: 2, spanGaps: true },
      { label: 'anomaly', color: '#dc2626', values: xs.map((x) => (an.has(x) ? an.get(x) : null)), pointsOnly: true },
    ];
    lineChart(this.chartBox, { testid: 'twin-history-chart', x: xs, series, time: true, height: 130, bands: [{ series: [1, 2], fill: 'rgba(14,165,233,.12)' }] });
    this.chartBox.querySelector('[data-testid="twin-history-chart"]').dataset.anomalies = String(anomalies.length);
    const last = (data.mean || []).filter((v) => v !== null).slice(-1)[0];
    this.note.textContent = `${t.length} buckets of ${data.bucket_s || this.range.bucket} s · ${anomalies.length} anomal${anomalies.length === 1 ? 'y' : 'ies'}${last !== undefined ? ` · last mean ${fmt(last, 2)}` : ''}`;
  }
}
