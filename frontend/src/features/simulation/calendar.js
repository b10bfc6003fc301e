// The shift calendar of a run (CONTRACT §7 `calendar`): presets and custom on-intervals within a period, in
// hours, checked as the server checks them. "Always on" sends no calendar at all (the §4 behaviour).
import { h } from '../../util/dom.js';
import { fmtDuration } from './charts.js';

const H = 3600;
const DAY = 24 * H;
const WEEK = 7 * DAY;
const TWO_SHIFTS = [[6 * H, 14 * H], [14 * H, 22 * H]]; // early and late shift, as the demo plant works
const weekdays = (day) => [0, 1, 2, 3, 4].flatMap((d) => day.map(([a, b]) => [d * DAY + a, d * DAY + b]));

export const PRESETS = [
  { key: 'always', label: 'Always on', calendar: null },
  { key: 'two', label: 'Two shifts, 06–22 h every day', calendar: { period_s: DAY, on: TWO_SHIFTS } },
  { key: 'one', label: 'One shift of 8 h, 06–14 h every day', calendar: { period_s: DAY, on: [[6 * H, 14 * H]] } },
  { key: 'two-weekdays', label: 'Two shifts, 06–22 h Monday to Friday', calendar: { period_s: WEEK, on: weekdays(TWO_SHIFTS) } },
  { key: 'custom', label: 'Custom intervals…', calendar: null },
];
const MAX_INTERVALS = 1000;

const same = (a, b) => !!a && !!b && a.period_s === b.period_s && a.on.length === b.on.length && a.on.every((iv, i) => iv[0] === b.on[i][0] && iv[1] === b.on[i][1]);
const hours = (s) => String(+(s / H).toFixed(4));

// Checks a calendar as twins/simulation/validate.py does; returns an error text or null.
export function calendarError(cal) {
  if (!(cal.period_s > 0)) return 'The period must be longer than 0 h.';
  if (!cal.on.length) return 'Add at least one interval when the line works.';
  if (cal.on.length > MAX_INTERVALS) return `At most ${MAX_INTERVALS} intervals.`;
  let last = 0;
  for (const [a, b] of cal.on) {
    if (!Number.isFinite(a) || !Number.isFinite(b)) return 'Every interval needs a start and an end.';
    if (a < 0 || b > cal.period_s) return `Intervals lie within the period (0–${hours(cal.period_s)} h).`;
    if (!(a < b)) return `An interval must end after it starts (${hours(a)}–${hours(b)} h).`;
    if (a < last) return 'Intervals must be in order and must not overlap.';
    last = b;
  }
  return null;
}

export class CalendarEditor {
  constructor() {
    this.preset = h('select', { testid: 'sim-calendar', 'aria-label': 'Shift calendar' }, PRESETS.map((p) => h('option', { value: p.key }, p.label)));
    this.period = h('input', { type: 'number', min: 0, step: '1', value: '24', testid: 'sim-calendar-period', 'aria-label': 'Calendar period (h)' });
    this.rows = h('div', { class: 'fx-cal-rows', testid: 'sim-calendar-rows' });
    this.add = h('button', { type: 'button', class: 'small-btn', testid: 'sim-calendar-add' }, '+ Interval');
    this.strip = h('div', { class: 'fx-cal-strip', testid: 'sim-calendar-strip', title: 'When the line works within one period' });
    this.summary = h('span', { class: 'muted small', testid: 'sim-calendar-summary' });
    this.error = h('div', { class: 'fx-ferr', testid: 'sim-calendar-error', hidden: true });
    this.custom = h('div', { class: 'fx-cal-custom', hidden: true }, h('label', { class: 'fx-cal-period' }, 'Period', this.period, 'h'), h('div', { class: 'fx-cal-row muted small' }, h('span', {}, 'on from (h)'), h('span', {}), h('span', {}, 'to (h)'), h('span', {})), this.rows, this.add);
    this.el = h('div', { class: 'fx-calendar' }, h('div', { class: 'fx-calendar-head' }, h('span', {}, 'Shifts'), this.preset), this.custom, this.strip, this.summary, this.error);
    for (const input of [this.preset, this.period]) input.addEventListener('keydown', (e) => e.stopPropagation());
    this.preset.addEventListener('change', () => this.choose(this.preset.value));
    this.period.addEventListener('input', () => this.draw());
    this.add.addEventListener('click', () => {
      const on = this.intervals();
      const last = on.length ? on[on.length - 1][1] : 0;
      const period = Number(this.period.value) * H;
      this.addRow(Math.min(last, period), Math.min(last + 8 * H, period));
      this.draw();
    });
    this.choose('always');
  }

  choose(key) {
    this.preset.value = key;
    const preset = PRESETS.find((p) => p.key === key);
    if (key !== 'custom' && preset.calendar) this.load(preset.calendar);
    if (key === 'custom' && !this.rows.children.length) this.load(PRESETS[1].calendar);
    this.custom.hidden = key !== 'custom';
    this.draw();
  }

  load(cal) {
    this.period.value = hours(cal.period_s);
    this.rows.replaceChildren();
    for (const [a, b] of cal.on) this.addRow(a, b);
  }

  addRow(a, b) {
    const i = this.rows.children.length;
    const input = (v, which) => {
      const el = h('input', { type: 'number', min: 0, step: '0.25', value: hours(v), testid: `sim-calendar-${which}-${i}`, 'aria-label': `Interval ${i + 1} ${which} (h)` });
      el.addEventListener('keydown', (e) => e.stopPropagation());
      el.addEventListener('input', () => this.draw());
      return el;
    };
    const remove = h('button', { type: 'button', class: 'ghost small', title: 'Remove this interval', 'aria-label': 'Remove interval' }, '×');
    const row = h('div', { class: 'fx-cal-row' }, input(a, 'from'), h('span', {}, '–'), input(b, 'to'), remove);
    remove.addEventListener('click', () => {
      row.remove();
      this.draw();
    });
    this.rows.append(row);
  }

  intervals() {
    return [...this.rows.children].map((row) => [...row.querySelectorAll('input')].map((el) => (el.value.trim() === '' ? NaN : Number(el.value) * H)));
  }

  current() {
    const preset = PRESETS.find((p) => p.key === this.preset.value);
    if (preset.key !== 'custom') return preset.calendar;
    return { period_s: Number(this.period.value) * H, on: this.intervals() };
  }

  draw() {
    const cal = this.current();
    this.setError('');
    if (!cal) {
      this.strip.replaceChildren(h('span', { style: { left: '0%', width: '100%' } }));
      this.summary.textContent = 'The line never stops.';
      return;
    }
    const problem = calendarError(cal);
    if (problem && this.preset.value === 'custom') this.setError(problem);
    const on = cal.on.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && b > a);
    this.strip.replaceChildren(...on.map(([a, b]) => h('span', { style: { left: `${(a / cal.period_s) * 100}%`, width: `${((b - a) / cal.period_s) * 100}%` } })));
    const total = on.reduce((s, [a, b]) => s + (b - a), 0);
    this.summary.textContent = problem ? '' : `Works ${fmtDuration(total)} of every ${fmtDuration(cal.period_s)} (${Math.round((total / cal.period_s) * 100)} %); outside, work pauses and resumes.`;
  }

  setError(message) {
    this.error.textContent = message || '';
    this.error.hidden = !message;
  }

  setDisabled(disabled) {
    for (const el of this.el.querySelectorAll('input, select, button')) el.disabled = disabled;
  }

  // -> {calendar: null | {period_s, on}} or {error}
  read() {
    const cal = this.current();
    if (!cal) return { calendar: null };
    const problem = calendarError(cal);
    if (problem) {
      this.setError(problem);
      return { error: problem };
    }
    return { calendar: { period_s: cal.period_s, on: cal.on.map(([a, b]) => [a, b]) } };
  }

  // A run's calendar back into the editor: its preset when it is one, else custom intervals.
  fill(cal) {
    if (!cal) return this.choose('always');
    const preset = PRESETS.find((p) => p.calendar && same(p.calendar, cal));
    if (preset) return this.choose(preset.key);
    this.load(cal);
    this.choose('custom');
  }
}
