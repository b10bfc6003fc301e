// Inspector editors for the part types of CONTRACT §7: a {TYPE: number} table (a source's mix, a station's
// per-type cycle times), the type chips of a connection's `part_types`, and the operator-pool select.
// Each returns {el, refresh(value)}: refresh redraws from the editor's state unless the user is typing in it.
import { h } from '../util/dom.js';
import '../styles/line-model.css';
import { parseValue, typeNameError, MAX_TYPES } from '../editor/params.js';

export const TYPES_DATALIST = 'part-type-names';

// Every part type the layout mentions, for suggestions: mixes, per-type cycle times, assembly outputs, routes.
export function knownPartTypes(editor) {
  const names = new Set();
  for (const a of editor.assets.values()) {
    const p = a.params || {};
    for (const key of ['mix', 'cycle_time_by_type']) if (p[key] && typeof p[key] === 'object') Object.keys(p[key]).forEach((n) => names.add(n));
    if (typeof p.output_type === 'string') names.add(p.output_type);
    else if (editor.typeOf(a)?.kind === 'assembly') names.add(a.name);
  }
  for (const c of editor.connections.values()) for (const n of c.part_types || []) names.add(n);
  return [...names].sort((x, y) => x.localeCompare(y));
}

export function typesDatalist(editor) {
  return h('datalist', { id: TYPES_DATALIST }, knownPartTypes(editor).map((n) => h('option', { value: n })));
}

const stop = (ev) => ev.stopPropagation(); // the workspace's shortcuts must not fire while typing

// Rows of (type, number). `spec` checks the number (unit, minimum); an empty table commits undefined
// (the param is removed, so the type default or the §3 behaviour applies).
export function typeTable({ key, typeLabel = 'Type', spec, value, disabled, onCommit, addLabel = 'Add a type', share = false }) {
  const rowsEl = h('div', { class: 'tt-rows' });
  const error = h('div', { class: 'field-error', testid: `error-${key}` });
  const add = h('button', { type: 'button', class: 'small-btn', testid: `${key}-add`, disabled }, `+ ${addLabel}`);
  const total = h('div', { class: 'muted small tt-total', testid: `${key}-total` });
  const el = h('div', { class: 'type-table', testid: `${key}-table` }, h('div', { class: 'tt-head muted small' }, h('span', {}, typeLabel), h('span', {}, `${spec.label}${spec.unit ? ` (${spec.unit})` : ''}`)), rowsEl, error, h('div', { class: 'tt-foot' }, add, total));
  let rows = [];
  let committed = JSON.stringify(value || {});

  const read = () => {
    const found = new Map(); // not a plain object: a type may be called "constructor"
    const problems = [];
    rows.forEach((r, i) => {
      const name = r.name.value.trim() === '' ? '' : r.name.value;
      const text = r.num.value.trim();
      if (name === '' && text === '') return;
      const nameError = typeNameError(name);
      const parsed = parseValue(spec, text);
      const numError = parsed.error || (parsed.empty || parsed.value === null ? 'Enter a number' : null);
      r.name.classList.toggle('invalid', !!nameError);
      r.num.classList.toggle('invalid', !!numError);
      if (nameError) problems.push(`Row ${i + 1}: ${nameError}`);
      else if (found.has(name)) problems.push(`'${name}' is listed twice`);
      if (numError) problems.push(`Row ${i + 1}: ${numError}`);
      if (!nameError && !numError) found.set(name, parsed.value);
    });
    if (found.size > MAX_TYPES) problems.push(`At most ${MAX_TYPES} types`);
    return { out: Object.fromEntries(found), problems };
  };

  const showShares = (out) => {
    const sum = Object.values(out).reduce((a, b) => a + b, 0);
    rows.forEach((r) => {
      const v = Object.hasOwn(out, r.name.value) ? out[r.name.value] : undefined;
      r.share.textContent = share && sum > 0 && v !== undefined ? `${Math.round((v / sum) * 100)} %` : '';
    });
    total.textContent = share && sum > 0 ? `${Object.keys(out).length} type${Object.keys(out).length === 1 ? '' : 's'}; shares of new parts` : '';
  };

  const commit = () => {
    const { out, problems } = read();
    error.textContent = problems.join(' · ');
    showShares(out);
    if (problems.length) return;
    const text = JSON.stringify(out);
    if (text === committed) return;
    committed = text;
    onCommit(Object.keys(out).length ? out : undefined);
  };

  const addRow = (name = '', num = '') => {
    const i = rows.length;
    const r = {
      name: h('input', { type: 'text', list: TYPES_DATALIST, testid: `${key}-type-${i}`, 'aria-label': `${typeLabel} ${i + 1}`, autocomplete: 'off', spellcheck: 'false', disabled, placeholder: 'type name', value: name }),
      num: h('input', { type: 'text', inputmode: 'decimal', testid: `${key}-value-${i}`, 'aria-label': `${spec.label} ${i + 1}`, autocomplete: 'off', disabled, value: num }),
      share: h('span', { class: 'tt-share muted small' }),
    };
    const remove = h('button', { type: 'button', class: 'ghost small', testid: `${key}-remove-${i}`, title: 'Remove this type', 'aria-label': 'Remove', disabled }, '×');
    r.el = h('div', { class: 'tt-row' }, r.name, h('span', { class: 'field-input' }, r.num, spec.unit ? h('span', { class: 'unit' }, spec.unit) : null), r.share, remove);
    for (const input of [r.name, r.num]) {
      input.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') input.blur();
        stop(ev);
      });
      input.addEventListener('input', () => read());
      input.addEventListener('change', commit);
    }
    remove.addEventListener('click', () => {
      rows = rows.filter((x) => x !== r);
      r.el.remove();
      commit();
    });
    rows.push(r);
    rowsEl.append(r.el);
    return r;
  };

  const shown = (v) => String(+(spec.scale ? v * spec.scale : v).toPrecision(10));
  const refresh = (next, { force = false } = {}) => {
    if (!force && el.contains(document.activeElement)) return;
    committed = JSON.stringify(next || {});
    rows = [];
    rowsEl.replaceChildren();
    error.textContent = '';
    for (const [name, v] of Object.entries(next || {})) addRow(name, shown(v));
    showShares(next || {});
  };
  add.addEventListener('click', () => addRow().name.focus());
  refresh(value, { force: true });
  return { el, refresh };
}

// Chips of the part types a connection accepts; no chip = every type (`null`).
export function typeChips({ key, value, disabled, onCommit }) {
  const chips = h('span', { class: 'chips', testid: `${key}-chips` });
  const input = h('input', { type: 'text', list: TYPES_DATALIST, testid: `${key}-input`, 'aria-label': 'Add a part type', placeholder: 'add a type…', autocomplete: 'off', spellcheck: 'false', disabled });
  const error = h('div', { class: 'field-error', testid: `error-${key}` });
  const hint = h('div', { class: 'muted small', testid: `${key}-hint` });
  const el = h('div', { class: 'type-chips' }, h('div', { class: 'chip-box' }, chips, input), error, hint);
  let current = value ? [...value] : [];

  const draw = () => {
    chips.replaceChildren(
      ...current.map((name) => {
        const x = h('button', { type: 'button', class: 'chip-x', title: `Stop accepting ${name}`, 'aria-label': `Remove ${name}`, disabled }, '×');
        x.addEventListener('click', () => set(current.filter((n) => n !== name)));
        return h('span', { class: 'chip type-chip', testid: 'part-type-chip', dataset: { type: name } }, name, x);
      }),
    );
    hint.textContent = current.length ? 'Only these part types take this connection.' : 'Every part type takes this connection.';
  };
  const set = (next) => {
    current = next;
    draw();
    onCommit(current.length ? [...current] : null);
  };
  const addTyped = () => {
    const names = input.value.split(',').map((n) => n.trim()).filter(Boolean);
    if (!names.length) return;
    for (const name of names) {
      const problem = typeNameError(name);
      if (problem) return (error.textContent = problem);
    }
    if (current.length + names.length > MAX_TYPES) return (error.textContent = `At most ${MAX_TYPES} types`);
    error.textContent = '';
    input.value = '';
    const next = [...current];
    for (const name of names) if (!next.includes(name)) next.push(name);
    if (next.length !== current.length) set(next);
  };
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ',') {
      ev.preventDefault();
      addTyped();
    }
    if (ev.key === 'Backspace' && input.value === '' && current.length) set(current.slice(0, -1));
    stop(ev);
  });
  input.addEventListener('change', addTyped);
  draw();
  return {
    el,
    refresh(next) {
      if (el.contains(document.activeElement) && input.value) return;
      current = next ? [...next] : [];
      draw();
    },
  };
}

// A select of the layout's operator pools; '' = no operator needed (the param is removed).
export function operatorSelect({ key, editor, value, disabled, onCommit, noneText }) {
  const select = h('select', { name: key, testid: key, disabled });
  const fill = (v) => {
    const pools = [...editor.assets.values()].filter((a) => editor.typeOf(a)?.kind === 'operator').sort((a, b) => a.name.localeCompare(b.name));
    const capacity = (a) => (a.params && a.params.capacity) ?? (editor.typeOf(a)?.defaults || {}).capacity ?? 1;
    const options = [h('option', { value: '' }, noneText)];
    for (const a of pools) options.push(h('option', { value: String(a.id) }, `${a.name} (${capacity(a)} worker${capacity(a) === 1 ? '' : 's'})`));
    if (v !== undefined && v !== null && !pools.some((a) => a.id === v)) options.push(h('option', { value: String(v) }, `missing asset ${v}`));
    select.replaceChildren(...options);
    select.value = v === undefined || v === null ? '' : String(v);
  };
  select.addEventListener('change', () => onCommit(select.value === '' ? undefined : Number(select.value)));
  fill(value);
  return {
    el: select,
    refresh(v) {
      if (document.activeElement !== select) fill(v);
    },
  };
}
