// The run parameters form: values in friendly units (hours, minutes), checked before anything is sent,
// turned into the API's seconds, and the shift calendar. Server field errors land next to the field they name.
import { h } from '../../util/dom.js';
import { CalendarEditor } from './calendar.js';
import { fmtDuration } from './charts.js';

const FIELDS = [
  { key: 'horizon', api: 'horizon_s', label: 'Horizon', unit: 'h', scale: 3600, value: '8', step: '0.25', min: 0, hint: 'Simulated time per replication.' },
  { key: 'warmup', api: 'warmup_s', label: 'Warm-up', unit: 'min', scale: 60, value: '30', step: '1', min: 0, hint: 'Statistics start after this.' },
  { key: 'replications', api: 'replications', label: 'Replications', unit: '', scale: 1, value: '10', step: '1', min: 1, hint: 'Independent runs; 95% CIs over them.' },
  { key: 'seed', api: 'seed', label: 'Seed', unit: '', scale: 1, value: '', step: '1', min: 0, hint: 'Empty: a random seed (stored with the run).', placeholder: 'random' },
];
const MAX_HORIZON_H = 90 * 24;
const MAX_REPLICATIONS = 200;

export class SimForm {
  constructor({ onSubmit }) {
    this.inputs = {};
    this.errors = {};
    const rows = FIELDS.map((f) => {
      const input = h('input', { type: 'number', inputmode: 'decimal', step: f.step, min: f.min, value: f.value, placeholder: f.placeholder || '', testid: `sim-${f.key}`, 'aria-label': `${f.label}${f.unit ? ` (${f.unit})` : ''}`, title: f.hint });
      input.addEventListener('keydown', (e) => {
        e.stopPropagation(); // the workspace's shortcuts must not fire while typing
        if (e.key === 'Enter') onSubmit();
      });
      input.addEventListener('input', () => this.setError(f.key, ''));
      this.inputs[f.key] = input;
      this.errors[f.key] = h('div', { class: 'fx-ferr', testid: `sim-${f.key}-error`, hidden: true });
      const hint = f.key === 'warmup' ? (this.warmupHint = h('div', { class: 'fx-warmup-hint', testid: 'sim-warmup-suggested', hidden: true })) : null;
      return h('label', { class: 'fx-field' }, h('span', { class: 'fx-flabel' }, f.label), h('span', { class: 'fx-finput' }, input, f.unit ? h('span', { class: 'fx-unit' }, f.unit) : ''), this.errors[f.key], hint);
    });
    this.calendar = new CalendarEditor();
    this.el = h('div', {}, h('div', { class: 'fx-form' }, rows), this.calendar.el);
  }

  // MSER-5's truncation point of a finished run (results.warmup_suggested_s), offered next to the warm-up.
  suggestWarmup(seconds) {
    const hint = this.warmupHint;
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
      hint.hidden = true;
      return;
    }
    const minutes = Math.ceil(seconds / 60);
    const use = h('button', { type: 'button', class: 'small-btn', testid: 'sim-warmup-use', disabled: this.inputs.warmup.disabled }, 'use');
    use.addEventListener('click', (e) => {
      e.preventDefault();
      this.inputs.warmup.value = String(minutes);
      this.setError('warmup', '');
    });
    hint.replaceChildren(`the data suggest ${fmtDuration(seconds)}`, use);
    hint.title = 'MSER-5 on the last shown run’s WIP: statistics before this point are biased by the empty start.';
    hint.hidden = false;
  }

  setError(key, message) {
    const el = this.errors[key];
    if (!el) return;
    el.textContent = message || '';
    el.hidden = !message;
    this.inputs[key].classList.toggle('invalid', !!message);
  }

  setDisabled(disabled) {
    for (const input of Object.values(this.inputs)) input.disabled = disabled;
    this.calendar.setDisabled(disabled);
  }

  // -> {horizon_s, warmup_s, replications, seed?} or null (errors shown).
  read() {
    let ok = true;
    const num = (key) => {
      const raw = this.inputs[key].value.trim();
      return raw === '' ? null : Number(raw);
    };
    const fail = (key, message) => {
      this.setError(key, message);
      ok = false;
    };
    for (const f of FIELDS) this.setError(f.key, '');
    const horizon = num('horizon');
    const warmup = num('warmup') ?? 0;
    const reps = num('replications');
    const seed = num('seed');
    if (horizon === null || !Number.isFinite(horizon) || horizon <= 0) fail('horizon', 'Enter a horizon above 0 hours.');
    else if (horizon > MAX_HORIZON_H) fail('horizon', `At most ${MAX_HORIZON_H} h (90 days).`);
    if (!Number.isFinite(warmup) || warmup < 0) fail('warmup', 'Warm-up cannot be negative.');
    else if (horizon !== null && Number.isFinite(horizon) && warmup * 60 >= horizon * 3600) fail('warmup', 'Warm-up must be shorter than the horizon.');
    if (reps === null || !Number.isInteger(reps) || reps < 1 || reps > MAX_REPLICATIONS) fail('replications', `A whole number from 1 to ${MAX_REPLICATIONS}.`);
    if (seed !== null && (!Number.isInteger(seed) || seed < 0 || !Number.isSafeInteger(seed))) fail('seed', 'A whole number ≥ 0, or empty for a random seed.');
    const { calendar, error } = this.calendar.read();
    if (error) ok = false;
    if (!ok) return null;
    const body = { horizon_s: Math.round(horizon * 3600 * 1000) / 1000, warmup_s: Math.round(warmup * 60 * 1000) / 1000, replications: reps };
    if (seed !== null) body.seed = seed;
    if (calendar) body.calendar = calendar; // always on = no calendar, exactly as before §7
    return body;
  }

  // Server-side field errors ({horizon_s: [...]}) next to their field; returns true if any matched.
  showServerErrors(body) {
    let any = false;
    for (const f of FIELDS) {
      const v = body && body[f.api];
      if (!v) continue;
      this.setError(f.key, Array.isArray(v) ? v.join(' ') : String(v));
      any = true;
    }
    if (body && body.calendar) {
      this.calendar.setError(Array.isArray(body.calendar) ? body.calendar.join(' ') : String(body.calendar));
      any = true;
    }
    return any;
  }

  fill(params) {
    if (!params) return;
    if (params.horizon_s) this.inputs.horizon.value = String(+(params.horizon_s / 3600).toFixed(4));
    if (params.warmup_s !== undefined) this.inputs.warmup.value = String(+(params.warmup_s / 60).toFixed(3));
    if (params.replications) this.inputs.replications.value = String(params.replications);
    if (params.seed !== undefined && params.seed !== null) this.inputs.seed.value = String(params.seed);
    this.calendar.fill(params.calendar || null);
  }
}
