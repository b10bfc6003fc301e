// One factor of an experiment: what to vary (an asset param or a connection field, CONTRACT §8) and its
// values, typed as a list ("1, 2, 4") or a range (from / to / step), checked with the same rules as the
// inspector before anything is sent.
import { h } from '../../util/dom.js';
import { PARAM_SPECS, CONNECTION_SPECS, parseValue } from '../../editor/params.js';

export const MAX_VALUES = 100; // per factor, as the server allows

// The §7 numeric params the inspector's table does not list yet, with the kinds that use them.
const LINE_PARAMS = [
  { key: 'setup_time_s', label: 'Setup time', unit: 's', min: 0, nullable: false, kinds: ['machine', 'assembly', 'robot', 'conveyor'] },
  { key: 'setup_cv', label: 'Setup CV', unit: '', min: 0, nullable: false, kinds: ['machine', 'assembly', 'robot', 'conveyor'] },
  { key: 'scrap_rate', label: 'Scrap rate', unit: '', min: 0, max: 0.999, nullable: false, kinds: ['machine', 'assembly'] },
  { key: 'length_m', label: 'Conveyor length', unit: 'm', min: 0, exclusiveMin: true, nullable: false, kinds: ['conveyor'] },
  { key: 'speed_mps', label: 'Conveyor speed', unit: 'm/s', min: 0, exclusiveMin: true, nullable: false, kinds: ['conveyor'] },
  { key: 'spacing_m', label: 'Part spacing', unit: 'm', min: 0, exclusiveMin: true, nullable: false, kinds: ['conveyor'] },
];
const QUANTITY = { key: 'quantity', label: 'Quantity (assembly input)', unit: 'parts', min: 1, integer: true, nullable: false };
const LINK_SPECS = [...CONNECTION_SPECS, QUANTITY];
const MODEL_KINDS = new Set(['source', 'machine', 'buffer', 'conveyor', 'robot', 'assembly']);

function assetKinds(kind) {
  return kind === 'assembly' ? ['assembly', 'machine'] : [kind]; // an assembly has a machine's params
}

// Params of an asset that an experiment can vary (numbers only: a mix or a type name is not a factor).
export function variableParams(kind) {
  const kinds = assetKinds(kind);
  const specs = PARAM_SPECS.filter((s) => s.kinds.some((k) => kinds.includes(k)));
  return kind === 'operator' ? specs.filter((s) => s.key === 'capacity').map((s) => ({ ...s, label: 'Workers', unit: '' })) : [...specs, ...LINE_PARAMS.filter((s) => s.kinds.some((k) => kinds.includes(k)))];
}

// "Interarrival (s)" for `interarrival_s`: the name a person reads in the inspector.
export function settingLabel(key) {
  const spec = [...PARAM_SPECS, ...LINE_PARAMS, ...LINK_SPECS].find((s) => s.key === key);
  return spec ? `${spec.label}${spec.unit ? ` (${spec.unit})` : ''}` : key;
}

export function connectionSpec(field) {
  return LINK_SPECS.find((s) => s.key === field);
}

// Assets the simulation models: flow stations except sinks, and operator pools that some station names.
export function simulatedAssets(editor) {
  const named = new Set();
  for (const a of editor.assets.values()) {
    const p = a.params || {};
    if (p.operator) named.add(p.operator);
    if (p.repair_operator) named.add(p.repair_operator);
  }
  const out = [];
  for (const a of editor.assets.values()) {
    const t = editor.typeOf(a);
    const kind = t ? t.kind : null;
    if (MODEL_KINDS.has(kind) || (kind === 'operator' && named.has(a.id))) out.push({ asset: a, kind });
  }
  return out.sort((x, y) => x.asset.name.localeCompare(y.asset.name));
}

function connectionName(editor, c) {
  const s = editor.assets.get(c.source);
  const t = editor.assets.get(c.target);
  return `${s ? s.name : '?'} → ${t ? t.name : '?'}`;
}

const round = (v) => Math.round(v * 1e9) / 1e9;

// Text → list of values, or {error}: each value checked against the param's rules.
export function parseValues(spec, mode, { list = '', from = '', to = '', step = '' }) {
  let values = [];
  if (mode === 'list') {
    const tokens = String(list).split(/[,;\s]+/).filter(Boolean);
    if (!tokens.length) return { error: 'Type the values to try, separated by commas, e.g. 2, 4, 8.' };
    for (const t of tokens) {
      const r = parseValue(spec, t);
      if (r.error) return { error: `“${t}”: ${r.error.toLowerCase()}.` };
      values.push(r.value);
    }
  } else {
    const [a, b, s] = [from, to, step].map((x) => Number(String(x).trim().replace(',', '.')));
    if (![from, to, step].every((x) => String(x).trim() !== '') || ![a, b, s].every(Number.isFinite)) return { error: 'Fill in from, to and step with numbers.' };
    if (s <= 0) return { error: 'The step must be greater than 0.' };
    if (a > b) return { error: '“From” must not be greater than “to”.' };
    if ((b - a) / s + 1 > MAX_VALUES) return { error: `That range has more than ${MAX_VALUES} values; use a larger step.` };
    for (let k = 0; a + k * s <= b + s * 1e-9; k++) {
      const v = round(a + k * s);
      const r = parseValue(spec, String(v));
      if (r.error) return { error: `${v}: ${r.error.toLowerCase()}.` };
      values.push(r.value);
    }
  }
  if (values.length > MAX_VALUES) return { error: `At most ${MAX_VALUES} values per factor.` };
  const seen = new Set();
  for (const v of values) {
    if (seen.has(v)) return { error: `${v === null ? spec.nullText || 'none' : v} is listed twice; list each value once.` };
    seen.add(v);
  }
  return { values };
}

export function valueText(v, spec) {
  if (v === null) return (spec && spec.nullText) || 'none';
  return String(v);
}

// One row of the factor picker. `target` is 'a:ID' (an asset) or 'c:ID' (a connection).
export class FactorRow {
  constructor({ editor, target = null, onChange, onRemove }) {
    this.editor = editor;
    this.onChange = onChange;
    this.mode = 'list';
    this.targetSel = h('select', { testid: 'exp-factor-target', 'aria-label': 'What to vary' });
    this.paramSel = h('select', { testid: 'exp-factor-param', 'aria-label': 'Which setting' });
    this.list = h('input', { testid: 'exp-factor-values', placeholder: 'e.g. 2, 4, 8', 'aria-label': 'Values, separated by commas' });
    this.from = h('input', { testid: 'exp-factor-from', type: 'number', 'aria-label': 'From', placeholder: 'from' });
    this.to = h('input', { testid: 'exp-factor-to', type: 'number', 'aria-label': 'To', placeholder: 'to' });
    this.step = h('input', { testid: 'exp-factor-step', type: 'number', 'aria-label': 'Step', placeholder: 'step' });
    this.modeBtns = ['list', 'range'].map((m) => h('button', { type: 'button', class: `small-btn${m === this.mode ? ' active' : ''}`, testid: `exp-factor-mode-${m}`, onclick: () => this.setMode(m) }, m === 'list' ? 'List' : 'Range'));
    this.rangeBox = h('span', { class: 'exp-range', hidden: true }, this.from, '…', this.to, 'step', this.step);
    this.preview = h('div', { class: 'exp-fpreview small', testid: 'exp-factor-preview' });
    const remove = h('button', { type: 'button', class: 'ghost small', title: 'Remove this factor', 'aria-label': 'Remove this factor', testid: 'exp-factor-remove', onclick: () => onRemove(this) }, '×');
    for (const input of [this.list, this.from, this.to, this.step]) {
      input.addEventListener('keydown', (e) => e.stopPropagation()); // no workspace shortcuts while typing
      input.addEventListener('input', () => this.changed());
    }
    this.targetSel.addEventListener('change', () => {
      this.fillParams();
      this.changed();
    });
    this.paramSel.addEventListener('change', () => this.changed());
    this.el = h(
      'div',
      { class: 'exp-factor', testid: 'exp-factor' },
      h('div', { class: 'exp-frow' }, this.targetSel, this.paramSel, remove),
      h('div', { class: 'exp-frow' }, h('span', { class: 'exp-modes' }, this.modeBtns), this.list, this.rangeBox),
      this.preview,
    );
    this.fillTargets(target);
  }

  fillTargets(target) {
    const e = this.editor;
    const assets = simulatedAssets(e);
    const links = [...e.connections.values()].filter((c) => e.assets.has(c.source) && e.assets.has(c.target));
    this.targetSel.replaceChildren(
      h('optgroup', { label: 'Assets' }, assets.map(({ asset, kind }) => h('option', { value: `a:${asset.id}` }, `${asset.name} (${kind})`))),
      h('optgroup', { label: 'Connections' }, links.map((c) => h('option', { value: `c:${c.id}` }, connectionName(e, c)))),
    );
    if (target && [...this.targetSel.options].some((o) => o.value === target)) this.targetSel.value = target;
    this.fillParams();
  }

  fillParams() {
    const t = this.target();
    const specs = !t ? [] : t.kind === 'connection' ? LINK_SPECS : variableParams(t.assetKind);
    const keep = this.paramSel.value;
    this.specs = specs;
    this.paramSel.replaceChildren(...specs.map((s) => h('option', { value: s.key }, `${s.label}${s.unit ? ` (${s.unit})` : ''}`)));
    if (specs.some((s) => s.key === keep)) this.paramSel.value = keep;
    else if (t && t.kind === 'connection') this.paramSel.value = 'buffer_capacity';
    else if (specs.some((s) => s.key === 'capacity') && t && ['buffer', 'operator'].includes(t.assetKind)) this.paramSel.value = 'capacity';
    this.changed(false);
  }

  target() {
    const [k, id] = (this.targetSel.value || '').split(':');
    if (!id) return null;
    if (k === 'c') return this.editor.connections.has(Number(id)) ? { kind: 'connection', id: Number(id), obj: this.editor.connections.get(Number(id)) } : null;
    const asset = this.editor.assets.get(Number(id));
    if (!asset) return null;
    const t = this.editor.typeOf(asset);
    return { kind: 'asset', id: asset.id, obj: asset, assetKind: t ? t.kind : '' };
  }

  spec() {
    return (this.specs || []).find((s) => s.key === this.paramSel.value) || null;
  }

  current() {
    const t = this.target();
    const spec = this.spec();
    if (!t || !spec) return undefined;
    if (t.kind === 'connection') return t.obj[spec.key];
    return this.editor.effectiveParam(t.obj, spec.key);
  }

  setMode(mode) {
    this.mode = mode;
    this.modeBtns.forEach((b, i) => b.classList.toggle('active', ['list', 'range'][i] === mode));
    this.list.hidden = mode !== 'list';
    this.rangeBox.hidden = mode !== 'range';
    this.changed();
  }

  changed(notify = true) {
    const r = this.read();
    const now = this.current();
    const spec = this.spec();
    const nowText = now === undefined ? '' : ` · now ${valueText(now, spec)}`;
    this.preview.classList.toggle('fx-ferr', !!r.error);
    this.preview.textContent = r.error ? r.error : `${r.values.length} value${r.values.length === 1 ? '' : 's'}: ${r.values.map((v) => valueText(v, spec)).join(', ')}${nowText}`;
    if (!r.error && !r.values.length) this.preview.textContent = `No values yet${nowText}.`;
    if (notify && this.onChange) this.onChange();
  }

  // -> {factor, count} or {error}
  read() {
    const t = this.target();
    const spec = this.spec();
    if (!t || !spec) return { error: 'Pick an asset or a connection and the setting to vary.', values: [] };
    const blank = this.mode === 'list' ? !this.list.value.trim() : ![this.from, this.to, this.step].some((i) => i.value.trim());
    if (blank) return { values: [], blank: true };
    const r = parseValues(spec, this.mode, { list: this.list.value, from: this.from.value, to: this.to.value, step: this.step.value });
    if (r.error) return { ...r, values: [] };
    const factor = t.kind === 'connection' ? { connection: t.id, field: spec.key, values: r.values } : { asset: t.id, param: spec.key, values: r.values };
    return { factor, values: r.values };
  }

  focus() {
    (this.mode === 'list' ? this.list : this.from).focus();
  }
}
