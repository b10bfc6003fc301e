// The "new experiment" form: factors, objective, search (grid or optimise with a budget) and the run
// settings in friendly units (hours, minutes), checked before anything is sent. Server field errors
// land next to what they name; the size of the experiment is shown as it is typed.
import { h } from '../../util/dom.js';
import { FactorRow, simulatedAssets } from './factors.js';

export const MAX_TOTAL_REPLICATIONS = 20_000; // CONTRACT §8
const MAX_FACTORS = 8;
const MAX_BUDGET = 1000;
export const KPIS = [
  { key: 'throughput_per_hour', label: 'Throughput', sense: 'max' },
  { key: 'lead_time_s', label: 'Lead time', sense: 'min' },
  { key: 'wip', label: 'WIP', sense: 'min' },
];
const SETTINGS = [
  { key: 'horizon', api: 'horizon_s', label: 'Horizon', unit: 'h', scale: 3600, value: '8', step: '0.25' },
  { key: 'warmup', api: 'warmup_s', label: 'Warm-up', unit: 'min', scale: 60, value: '30', step: '1' },
  { key: 'replications', api: 'replications', label: 'Replications', unit: '', scale: 1, value: '5', step: '1' },
  { key: 'seed', api: 'seed', label: 'Seed', unit: '', scale: 1, value: '', step: '1', placeholder: 'random' },
];

function stopKeys(input) {
  input.addEventListener('keydown', (e) => e.stopPropagation());
  return input;
}

export class ExperimentForm {
  constructor({ editor, onChange }) {
    this.editor = editor;
    this.onChange = onChange;
    this.rows = [];
    this.inputs = {};
    this.errors = {};
    this.name = stopKeys(h('input', { testid: 'exp-name', placeholder: 'e.g. Buffers of line B', 'aria-label': 'Experiment name', maxlength: 200 }));
    this.factorBox = h('div', { class: 'exp-factors', testid: 'exp-factors' });
    this.addBtn = h('button', { type: 'button', class: 'small-btn', testid: 'exp-add-factor', onclick: () => this.addFactor(this.selectedTarget()) }, '+ Add a factor');
    this.factorError = h('div', { class: 'fx-ferr', testid: 'exp-factors-error', hidden: true });
    this.kpi = h('select', { testid: 'exp-kpi', 'aria-label': 'Objective KPI' }, KPIS.map((k) => h('option', { value: k.key }, k.label)));
    this.sense = h('select', { testid: 'exp-sense', 'aria-label': 'Maximise or minimise' }, h('option', { value: 'max' }, 'maximise'), h('option', { value: 'min' }, 'minimise'));
    this.kpi.addEventListener('change', () => {
      this.sense.value = KPIS.find((k) => k.key === this.kpi.value).sense;
      this.changed();
    });
    this.method = h('select', { testid: 'exp-method', 'aria-label': 'Search' }, h('option', { value: 'grid' }, 'every combination (grid)'), h('option', { value: 'optimize' }, 'optimise within a budget'));
    this.budget = stopKeys(h('input', { testid: 'exp-budget', type: 'number', min: 1, max: MAX_BUDGET, step: 1, value: '12', 'aria-label': 'Budget (points)' }));
    this.budgetBox = h('label', { class: 'exp-inline', hidden: true }, 'budget', this.budget, 'points');
    this.method.addEventListener('change', () => {
      this.budgetBox.hidden = this.method.value !== 'optimize';
      this.changed();
    });
    this.budget.addEventListener('input', () => this.changed());
    const settings = SETTINGS.map((f) => {
      const input = stopKeys(h('input', { type: 'number', inputmode: 'decimal', step: f.step, min: 0, value: f.value, placeholder: f.placeholder || '', testid: `exp-${f.key}`, 'aria-label': `${f.label}${f.unit ? ` (${f.unit})` : ''}` }));
      input.addEventListener('input', () => {
        this.setError(f.key, '');
        this.changed();
      });
      this.inputs[f.key] = input;
      this.errors[f.key] = h('div', { class: 'fx-ferr', testid: `exp-${f.key}-error`, hidden: true });
      return h('label', { class: 'fx-field' }, h('span', { class: 'fx-flabel' }, f.label), h('span', { class: 'fx-finput' }, input, f.unit ? h('span', { class: 'fx-unit' }, f.unit) : ''), this.errors[f.key]);
    });
    this.size = h('div', { class: 'exp-size small', testid: 'exp-size' });
    this.el = h(
      'div',
      { class: 'exp-form' },
      h('label', { class: 'fx-field' }, h('span', { class: 'fx-flabel' }, 'Name'), this.name),
      h('div', { class: 'exp-fhead' }, h('span', { class: 'fx-flabel' }, 'Factors: what to vary'), this.addBtn),
      this.factorBox,
      this.factorError,
      h('div', { class: 'exp-objective' }, h('span', { class: 'fx-flabel' }, 'Objective'), this.sense, this.kpi),
      h('div', { class: 'exp-objective' }, h('span', { class: 'fx-flabel' }, 'Search'), this.method, this.budgetBox),
      h('div', { class: 'fx-form' }, settings),
      this.size,
    );
    this.offSel = editor.signals.selectionChanged.add(() => this.renderAddLabel());
    this.renderAddLabel();
    this.changed();
  }

  // "Vary this": the asset (or connection) selected in 3D, when the simulation models it.
  selectedTarget() {
    const e = this.editor;
    if (e.selectedConnection !== null && e.selectedConnection !== undefined && e.connections.has(e.selectedConnection)) return `c:${e.selectedConnection}`;
    const modelled = new Set(simulatedAssets(e).map((x) => x.asset.id));
    const id = e.selection.find((i) => modelled.has(i));
    return id !== undefined ? `a:${id}` : null;
  }

  renderAddLabel() {
    const [k, id] = (this.selectedTarget() || '').split(':');
    const asset = k === 'a' ? this.editor.assets.get(Number(id)) : null;
    this.addBtn.textContent = asset ? `+ Vary ${asset.name}` : k === 'c' ? '+ Vary the selected connection' : '+ Add a factor';
    this.addBtn.disabled = !!this.disabled || this.rows.length >= MAX_FACTORS;
  }

  addFactor(target = null) {
    if (this.rows.length >= MAX_FACTORS) return null;
    const row = new FactorRow({ editor: this.editor, target, onChange: () => this.changed(), onRemove: (r) => this.removeFactor(r) });
    this.rows.push(row);
    this.factorBox.append(row.el);
    this.renderAddLabel();
    this.changed();
    row.focus();
    return row;
  }

  removeFactor(row) {
    this.rows = this.rows.filter((r) => r !== row);
    row.el.remove();
    this.renderAddLabel();
    this.changed();
  }

  setError(key, message) {
    const el = this.errors[key];
    if (!el) return;
    el.textContent = message || '';
    el.hidden = !message;
    this.inputs[key].classList.toggle('invalid', !!message);
  }

  setDisabled(disabled) {
    this.disabled = disabled;
    for (const el of this.el.querySelectorAll('input, select, button')) el.disabled = disabled;
  }

  // Nothing typed yet (the panel may fold the form away to show what runs).
  get pristine() {
    return !this.name.value.trim() && this.rows.every((r) => r.read().blank);
  }

  points() {
    const counts = this.rows.map((r) => r.read().values.length);
    const combos = counts.length ? counts.reduce((a, b) => a * b, 1) : 0;
    if (this.method.value !== 'optimize') return combos;
    const budget = Number(this.budget.value);
    return Number.isInteger(budget) && budget > 0 ? Math.min(budget, combos) : combos;
  }

  changed() {
    const points = this.points();
    const reps = Number(this.inputs.replications.value);
    const total = Number.isInteger(reps) && reps > 0 ? points * reps : null;
    const over = total !== null && total > MAX_TOTAL_REPLICATIONS;
    this.size.classList.toggle('fx-ferr', over);
    this.size.textContent = !points
      ? 'Add a factor and its values to see the size of the experiment.'
      : `${points} point${points === 1 ? '' : 's'}${total !== null ? ` × ${reps} replications = ${total.toLocaleString('en-US')} replications` : ''}${over ? ` — more than the ${MAX_TOTAL_REPLICATIONS.toLocaleString('en-US')} allowed; use fewer values or replications.` : ', spread over the workers.'}`;
    if (this.onChange) this.onChange();
  }

  // -> the POST body (without `layout`) or null, with the problems shown next to their fields.
  read() {
    let ok = true;
    const fail = (key, message) => {
      if (key === 'factors') {
        this.factorError.textContent = message;
        this.factorError.hidden = false;
      } else this.setError(key, message);
      ok = false;
    };
    this.factorError.hidden = true;
    for (const f of SETTINGS) this.setError(f.key, '');
    const factors = [];
    if (!this.rows.length) fail('factors', 'Add at least one factor: pick what to vary and type its values.');
    for (const [k, row] of this.rows.entries()) {
      const r = row.read();
      if (r.error) fail('factors', `Factor ${k + 1}: ${r.error}`);
      else if (r.blank) fail('factors', `Factor ${k + 1}: type the values to try, e.g. 2, 4, 8.`);
      else factors.push(r.factor);
    }
    const key = (f) => (f.asset !== undefined ? `a${f.asset}.${f.param}` : `c${f.connection}.${f.field}`);
    if (ok && new Set(factors.map(key)).size !== factors.length) fail('factors', 'Two factors vary the same setting; remove one of them.');
    const num = (k) => (this.inputs[k].value.trim() === '' ? null : Number(this.inputs[k].value));
    const horizon = num('horizon');
    const warmup = num('warmup') ?? 0;
    const reps = num('replications');
    const seed = num('seed');
    if (horizon === null || !Number.isFinite(horizon) || horizon <= 0) fail('horizon', 'Enter a horizon above 0 hours.');
    if (!Number.isFinite(warmup) || warmup < 0) fail('warmup', 'The warm-up cannot be negative.');
    else if (horizon && warmup * 60 >= horizon * 3600) fail('warmup', 'Make the warm-up shorter than the horizon.');
    if (reps === null || !Number.isInteger(reps) || reps < 1) fail('replications', 'A whole number of at least 1.');
    if (seed !== null && (!Number.isSafeInteger(seed) || seed < 0)) fail('seed', 'A whole number ≥ 0, or empty for a random seed.');
    const search = this.method.value === 'optimize' ? { method: 'optimize', budget: Number(this.budget.value) } : { method: 'grid' };
    if (search.method === 'optimize' && (!Number.isInteger(search.budget) || search.budget < 1 || search.budget > MAX_BUDGET)) fail('factors', `The budget is a whole number of points from 1 to ${MAX_BUDGET}.`);
    if (ok && this.points() * reps > MAX_TOTAL_REPLICATIONS) fail('replications', `At most ${MAX_TOTAL_REPLICATIONS.toLocaleString('en-US')} replications in all; use fewer values or replications.`);
    if (!ok) return null;
    const body = {
      factors,
      objective: { kpi: this.kpi.value, sense: this.sense.value },
      search,
      horizon_s: Math.round(horizon * 3600 * 1000) / 1000,
      warmup_s: Math.round(warmup * 60 * 1000) / 1000,
      replications: reps,
    };
    if (this.name.value.trim()) body.name = this.name.value.trim();
    if (seed !== null) body.seed = seed;
    return body;
  }

  // Server field errors ({horizon_s: [...], factors: [...]}) next to what they name; true if any matched.
  showServerErrors(body) {
    if (!body) return false;
    let any = false;
    const text = (v) => (Array.isArray(v) ? v.join(' ') : String(v));
    for (const f of SETTINGS) {
      if (!body[f.api]) continue;
      this.setError(f.key, text(body[f.api]));
      any = true;
    }
    for (const k of ['factors', 'objective', 'search', 'name']) {
      if (!body[k]) continue;
      this.factorError.textContent = `${body.detail || text(body[k])}`;
      this.factorError.hidden = false;
      any = true;
    }
    return any;
  }

  destroy() {
    this.offSel();
  }
}
