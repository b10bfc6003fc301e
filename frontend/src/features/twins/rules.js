// Alarm rules of the factory, managed by owners: list, add (twin, value, > or <, threshold, severity), delete.
import { h, clear, fmt } from '../../util/dom.js';
import { TwinApi } from './api.js';

export class AlarmRules {
  constructor({ editor }) {
    this.editor = editor;
    this.list = h('div', { class: 'fx-rules', testid: 'alarm-rules' });
    this.twin = h('select', { testid: 'rule-twin', 'aria-label': 'Twin' });
    this.name = h('input', { testid: 'rule-name', placeholder: 'value, e.g. temperature', 'aria-label': 'Value name' });
    this.op = h('select', { testid: 'rule-op', 'aria-label': 'Comparison' }, h('option', { value: '>' }, '>'), h('option', { value: '<' }, '<'));
    this.threshold = h('input', { type: 'number', step: 'any', testid: 'rule-threshold', 'aria-label': 'Threshold', placeholder: 'threshold' });
    this.severity = h('select', { testid: 'rule-severity', 'aria-label': 'Severity' }, ['warning', 'critical', 'info'].map((s) => h('option', { value: s }, s)));
    this.error = h('div', { class: 'fx-ferr', hidden: true });
    const add = h('button', { class: 'small-btn primary', testid: 'rule-add' }, 'Add rule');
    add.addEventListener('click', () => this.add());
    for (const input of [this.name, this.threshold]) input.addEventListener('keydown', (e) => e.stopPropagation());
    this.el = h(
      'details',
      { class: 'fx-rules-box' },
      h('summary', {}, 'Alarm rules (owners)'),
      this.list,
      h('div', { class: 'fx-rule-form' }, this.twin, this.name, this.op, this.threshold, this.severity, add),
      this.error,
    );
    this.twins = [];
  }

  async load() {
    try {
      const [twins, rules] = await Promise.all([TwinApi.twins(this.editor.factory.id), TwinApi.rules(this.editor.factory.id)]);
      this.twins = twins;
      const chosen = this.twin.value;
      this.twin.replaceChildren(...twins.map((t) => h('option', { value: t.id }, `${t.name} (${t.key})`)));
      if (chosen) this.twin.value = chosen;
      this.render(rules);
    } catch (err) {
      this.list.replaceChildren(h('p', { class: 'fx-error' }, `Could not load rules: ${err.message}`));
    }
  }

  render(rules) {
    clear(this.list);
    const byId = new Map(this.twins.map((t) => [t.id, t]));
    if (!rules.length) this.list.append(h('p', { class: 'muted small' }, 'No rules yet.'));
    for (const r of rules) {
      const del = h('button', { class: 'ghost small', title: 'Delete rule', testid: 'rule-delete' }, '×');
      del.addEventListener('click', async () => {
        try {
          await TwinApi.deleteRule(r.id);
          this.load();
        } catch (err) {
          this.showError(err.message);
        }
      });
      const t = byId.get(r.twin);
      this.list.append(h('div', { class: 'fx-rule', testid: 'alarm-rule' }, h('span', { class: `fx-sev ${r.severity}` }, r.severity), h('span', {}, `${t ? t.key : r.twin}: ${r.name} ${r.op} ${fmt(r.threshold, 3)}`), del));
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }

  async add() {
    this.showError('');
    const threshold = Number(this.threshold.value);
    if (!this.twin.value || !this.name.value.trim() || this.threshold.value.trim() === '' || !Number.isFinite(threshold)) {
      return this.showError('Choose a twin, name the value and give a numeric threshold.');
    }
    try {
      await TwinApi.createRule({ factory: this.editor.factory.id, twin: Number(this.twin.value), name: this.name.value.trim(), op: this.op.value, threshold, severity: this.severity.value });
      this.name.value = '';
      this.threshold.value = '';
      this.load();
    } catch (err) {
      this.showError(err.message);
    }
  }
}
