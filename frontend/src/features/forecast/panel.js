// The live plant: the end-of-shift forecast (a live forecast run, CONTRACT §9) and the output per hour as the
// sinks' twins count it, against the plan's band and continued past "now" by the forecast's band. The latest
// forecast of the layout is shown by itself while its horizon lies ahead; engineers start a new one. A chip
// on the viewport carries the sentence for whoever opens the plant, without opening anything.
import { h, fmt } from '../../util/dom.js';
import { fmtDuration } from '../simulation/charts.js';
import { ACTIVE } from '../simulation/api.js';
import { RangePicker, RANGE_PRESETS } from '../calibration/range.js';
import { ForecastApi } from './api.js';
import { currentShift, forecastHorizon } from './shift.js';
import { outputChart } from './chart.js';

const POLL_MS = 1500;
const REFRESH_MS = 60_000;
const BUCKET_S = 3600;

const clock = (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const isForecast = (run) => (run.params || {}).initial_state === 'live';

// "Expected by the end of the shift (14:00): 312 ± 18 parts" from a finished forecast run.
export function forecastSummary(run, calendar) {
  const f = run && run.results && run.results.forecast;
  if (!f || !f.t || !f.t.length) return null;
  const k = f.t.length - 1;
  const mean = f.cumulative.mean[k];
  const half = (f.cumulative.hi[k] - f.cumulative.lo[k]) / 2;
  const start = new Date(run.created_at);
  const end = new Date(start.getTime() + Number(run.params.horizon_s) * 1000);
  const shift = currentShift(calendar, start);
  const byShiftEnd = !!shift && Math.abs(shift.end.getTime() - end.getTime()) < 60_000;
  // The run was asked for a few seconds after the horizon was measured: name the shift's own end.
  const when = byShiftEnd ? `by the end of the shift (${clock(shift.end)})` : `by ${clock(end)} (the next ${fmtDuration(run.params.horizon_s)})`;
  const n = Math.round(mean);
  const m = Math.round(half);
  return { mean, half, start, end, byShiftEnd, text: `Expected ${when}: ${fmt(n)} ± ${fmt(m)} parts` };
}

export class PlantPanel {
  constructor({ editor, ui, socket, onOpen }) {
    this.editor = editor;
    this.onOpen = onOpen;
    this.runs = [];
    this.forecast = null; // the latest forecast run (any status)
    this.pva = null;
    this.build(ui);
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    // A drift alarm of this layout raised or cleared: the panel names the active one.
    if (socket) socket.signals.alarm.add((a) => a && a.kind === 'drift' && a.layout === editor.layout.id && this.open && this.loadOutput());
  }

  get canRun() {
    return this.editor.roleRank >= 1;
  }

  get open() {
    return !this.el.hidden;
  }

  build(ui) {
    this.toggleBtn = h('button', { class: 'tool fx-tool pl-tool', testid: 'plant-toggle', title: 'Live plant: forecast, plan against actual', 'aria-label': 'Live plant', html: PLANT_ICON });
    this.toggleBtn.addEventListener('click', () => this.toggle());
    ui.connBanner.parentNode.insertBefore(this.toggleBtn, ui.connBanner);
    this.sentence = h('p', { class: 'pl-sentence', testid: 'forecast-sentence', hidden: true });
    this.fstatus = h('p', { class: 'muted small', testid: 'forecast-status' });
    this.runBtn = h('button', { class: 'primary', testid: 'forecast-run' }, 'Forecast');
    this.runBtn.addEventListener('click', () => this.start());
    this.runBtn.hidden = !this.canRun;
    this.ferror = h('div', { class: 'fx-error', testid: 'forecast-error', role: 'alert', hidden: true });
    this.range = new RangePicker({ testid: 'pva-range', presets: RANGE_PRESETS.filter((p) => p.key !== '1h'), initial: '8h', custom: false, onChange: () => this.loadOutput() });
    this.chartBox = h('div', { class: 'fx-chart-box' });
    this.summary = h('p', { class: 'small', testid: 'pva-summary' });
    this.alarm = h('div', { class: 'pl-drift', testid: 'pva-alarm', hidden: true });
    this.detail = h('p', { class: 'muted small', testid: 'pva-detail', hidden: true });
    const close = h('button', { class: 'ghost small', testid: 'plant-close', title: 'Close', onclick: () => this.toggle(false) }, '×');
    this.el = h(
      'section',
      { class: 'fx-panel pl-panel pl-live', testid: 'plant-panel', hidden: true, 'aria-label': 'Live plant' },
      h('div', { class: 'fx-head' }, h('span', {}, 'Live plant'), close),
      h('div', { class: 'fx-scroll' },
        h('h5', {}, 'Forecast from the live state'),
        this.sentence,
        h('div', { class: 'fx-actions' }, this.runBtn, this.fstatus),
        this.ferror,
        h('h5', {}, 'Output per hour: plan against actual'),
        this.range.el,
        h('div', { class: 'pl-chart', testid: 'pva' }, this.chartBox),
        this.summary,
        this.alarm,
        this.detail,
      ),
    );
    ui.overlays.appendChild(this.el);
    this.chip = h('button', { class: 'pl-chip', testid: 'forecast-chip', hidden: true, title: 'Open the live plant' });
    this.chip.addEventListener('click', () => this.toggle(true));
    ui.overlays.appendChild(this.chip);
  }

  toggle(force) {
    const open = force === undefined ? this.el.hidden : force;
    this.el.hidden = !open;
    this.toggleBtn.classList.toggle('active', open);
    this.chip.classList.toggle('pl-chip-hidden', open);
    if (open) {
      this.onOpen?.();
      this.refresh();
      this.loadOutput();
    }
  }

  // The shifts are named by the latest plan (a run that did not start from the live state) that has a calendar:
  // a quick run without one, made since, does not mean the plant stopped working in shifts.
  get calendar() {
    const plan = this.runs.find((r) => r.status === 'succeeded' && !isForecast(r) && (r.params || {}).calendar);
    return plan ? (plan.params || {}).calendar || null : null;
  }

  async refresh() {
    if (!this.editor.layout) return;
    try {
      this.runs = await ForecastApi.runs(this.editor.layout.id);
    } catch (err) {
      this.fstatus.textContent = `Runs unavailable: ${err.message}`;
      return;
    }
    const latest = this.runs.find(isForecast) || null;
    if (latest && (!this.forecast || latest.id !== this.forecast.id || latest.status !== this.forecast.status)) this.setForecast(latest);
    else this.renderForecast();
  }

  setForecast(run) {
    this.forecast = run;
    if (ACTIVE.has(run.status)) this.track(run.id);
    this.renderForecast();
    if (this.open) this.loadOutput();
  }

  track(id) {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(async () => {
      if (!this.forecast || this.forecast.id !== id) return;
      try {
        const run = await ForecastApi.run(id);
        this.setForecast(run);
      } catch {
        this.track(id);
      }
    }, POLL_MS);
  }

  // The latest forecast is current while its horizon lies ahead.
  current() {
    const run = this.forecast;
    if (!run || run.status !== 'succeeded') return null;
    const s = forecastSummary(run, this.calendar);
    return s && s.end.getTime() > Date.now() ? s : null;
  }

  renderForecast() {
    const run = this.forecast;
    const s = this.current();
    this.sentence.hidden = !s;
    this.chip.hidden = !s;
    if (s) {
      this.sentence.textContent = s.text;
      this.sentence.dataset.mean = String(s.mean);
      this.sentence.dataset.half = String(s.half);
      this.sentence.dataset.run = String(run.id);
      this.chip.textContent = s.text;
    }
    const running = run && ACTIVE.has(run.status);
    this.runBtn.disabled = running;
    const { shiftEnd } = forecastHorizon(this.calendar);
    this.runBtn.textContent = s ? 'Forecast again' : 'Forecast';
    this.runBtn.title = shiftEnd ? `Simulate from what the twins report now to the end of the shift (${clock(shiftEnd)})` : 'Simulate the next 8 h from what the twins report now';
    if (running) this.fstatus.textContent = `Forecasting from the live state… ${Math.round((run.progress || 0) * 100)} %`;
    else if (run && run.status === 'failed') this.fstatus.textContent = `The last forecast failed: ${run.error || 'no reason given'}`;
    else if (s) this.fstatus.textContent = `From the plant at ${clock(s.start)} · run #${run.id}, ${run.params.replications} replications, 95 % band`;
    else this.fstatus.textContent = this.canRun ? 'No current forecast.' : 'No current forecast; an engineer can start one.';
  }

  async start() {
    this.ferror.hidden = true;
    this.runBtn.disabled = true;
    const { horizonS } = forecastHorizon(this.calendar);
    try {
      this.setForecast(await ForecastApi.start(this.editor.layout.id, horizonS));
    } catch (err) {
      this.runBtn.disabled = false;
      this.ferror.textContent = `Forecast failed: ${err.message}`;
      this.ferror.hidden = false;
    }
  }

  async loadOutput() {
    const window = this.range.value();
    if (!window || !this.editor.layout) return;
    let pva;
    try {
      pva = await ForecastApi.planVsActual(this.editor.layout.id, { ...window, bucket_s: BUCKET_S });
    } catch (err) {
      this.summary.textContent = `Plan against actual unavailable: ${err.message}`;
      return;
    }
    this.pva = pva;
    this.drawOutput();
  }

  drawOutput() {
    const pva = this.pva;
    if (!pva) return;
    // Complete hours only: a bucket still running would read as a drop.
    const idx = pva.t.map((_, i) => i).filter((i) => pva.complete[i]);
    const plan = {
      t: idx.map((i) => pva.t[i] / 1000 + pva.bucket_s / 2),
      actual: idx.map((i) => pva.actual[i]),
      outside: idx.map((i) => !!(pva.outside && pva.outside[i])),
      lo: idx.map((i) => (pva.planned ? pva.planned.lo[i] : null)),
      mean: idx.map((i) => (pva.planned ? pva.planned.mean[i] : null)),
      hi: idx.map((i) => (pva.planned ? pva.planned.hi[i] : null)),
    };
    const s = this.current();
    let forecast = null;
    if (s) {
      const f = this.forecast.results.forecast;
      const width = f.t[0];
      const t0 = s.start.getTime() / 1000;
      forecast = { t: f.t.map((t) => t0 + t - width / 2), ...f.throughput_per_hour };
    }
    outputChart(this.chartBox, { testid: 'plan-vs-actual-chart', plan, forecast, now: Date.now() / 1000 });
    const counted = plan.actual.filter((v) => v !== null).length;
    const outside = plan.outside.filter(Boolean).length;
    const parts = pva.sinks.length ? [`${counted} complete hour${counted === 1 ? '' : 's'} counted`] : [];
    if (pva.planned && pva.sinks.length) parts.push(`${outside} outside the plan (run #${pva.run}, ${fmt(pva.run_throughput_per_hour, 1)} parts/h)`);
    if (s) parts.push('the blue band is the forecast');
    const text = parts.join(' · ');
    this.summary.textContent = text ? `${text[0].toUpperCase()}${text.slice(1)}.` : '';
    this.summary.dataset.outside = String(outside);
    this.alarm.hidden = !pva.alarm;
    this.alarm.textContent = pva.alarm ? `Drift alarm since ${new Date(pva.alarm.raised_at).toLocaleTimeString()}: ${pva.alarm.message}` : '';
    this.detail.hidden = !pva.detail;
    this.detail.textContent = pva.detail || '';
  }
}

const PLANT_ICON = '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><path d="M3 20V10l5 3V10l5 3V6l8 4v10z"/><path d="M3 20h18"/><path d="M16 3c1 1 1 2 0 3"/></svg>';
