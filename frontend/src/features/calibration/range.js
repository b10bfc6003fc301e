// A time-range picker for windows of the plant's history: presets ending now, or a custom from/to in local
// time. `value()` gives ISO instants for the API; a preset is re-anchored to "now" each time it is read.
import { h } from '../../util/dom.js';

const HOUR = 3600 * 1000;
export const RANGE_PRESETS = [
  { key: '1h', label: '1 h', ms: HOUR },
  { key: '8h', label: '8 h', ms: 8 * HOUR },
  { key: '24h', label: '24 h', ms: 24 * HOUR },
  { key: '7d', label: '7 days', ms: 7 * 24 * HOUR },
];

// <input type=datetime-local> speaks local wall-clock time without a zone.
const localInput = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);

export class RangePicker {
  constructor({ testid, presets = RANGE_PRESETS, initial = '8h', custom = true, onChange }) {
    this.presets = presets;
    this.onChange = onChange;
    this.preset = presets.find((p) => p.key === initial) || presets[0];
    this.buttons = presets.map((p) => {
      const b = h('button', { type: 'button', class: 'small-btn', testid: `${testid}-${p.key}`, title: `The last ${p.label}` }, p.label);
      b.addEventListener('click', () => this.choose(p));
      return b;
    });
    this.from = h('input', { type: 'datetime-local', testid: `${testid}-from`, 'aria-label': 'From' });
    this.to = h('input', { type: 'datetime-local', testid: `${testid}-to`, 'aria-label': 'To' });
    this.error = h('span', { class: 'fx-ferr', testid: `${testid}-error`, hidden: true });
    for (const input of [this.from, this.to]) {
      input.addEventListener('change', () => this.choose(null));
      input.addEventListener('keydown', (e) => e.stopPropagation());
    }
    this.customBtn = custom ? h('button', { type: 'button', class: 'small-btn', testid: `${testid}-custom` }, 'Custom') : null;
    if (this.customBtn) this.customBtn.addEventListener('click', () => this.choose(null));
    this.customRow = h('div', { class: 'pl-range-custom', hidden: true }, this.from, h('span', { class: 'muted' }, '→'), this.to, this.error);
    this.el = h('div', { class: 'pl-range', testid }, h('span', { class: 'pl-range-label muted small' }, 'Last'), this.buttons, this.customBtn, this.customRow);
    this.sync();
  }

  choose(preset) {
    if (preset === null && this.preset) {
      // Entering custom mode starts from the preset's window, so the inputs never open empty.
      const { from, to } = this.window();
      if (!this.from.value) this.from.value = localInput(from);
      if (!this.to.value) this.to.value = localInput(to);
    }
    this.preset = preset;
    this.sync();
    if (this.value()) this.onChange?.(this.value());
  }

  sync() {
    for (const [i, b] of this.buttons.entries()) b.classList.toggle('active', this.presets[i] === this.preset);
    if (this.customBtn) this.customBtn.classList.toggle('active', !this.preset);
    this.customRow.hidden = !!this.preset;
  }

  window() {
    if (this.preset) {
      const to = new Date();
      return { from: new Date(to.getTime() - this.preset.ms), to };
    }
    return { from: new Date(this.from.value), to: new Date(this.to.value) };
  }

  // {from, to} as ISO strings, or null (with the reason shown) when the custom window is not valid.
  value() {
    const { from, to } = this.window();
    let why = '';
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) why = 'Enter both dates.';
    else if (to <= from) why = '"To" must be after "from".';
    this.error.textContent = why;
    this.error.hidden = !why;
    return why ? null : { from: from.toISOString(), to: to.toISOString() };
  }

  get label() {
    if (this.preset) return `the last ${this.preset.label}`;
    const v = this.window();
    return `${v.from.toLocaleString()} – ${v.to.toLocaleString()}`;
  }
}
