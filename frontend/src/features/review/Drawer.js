// The review drawer on the left of the viewport: tabs for the changes, the KPIs and the comments.
import { h } from '../../util/dom.js';

export class Drawer {
  constructor(parent) {
    this.tabs = new Map();
    this.bar = h('div', { class: 'rv-tabs', role: 'tablist' });
    this.body = h('div', { class: 'rv-body' });
    const close = h('button', { class: 'ghost small rv-close', testid: 'review-close', title: 'Close', 'aria-label': 'Close the review panel' }, '×');
    close.addEventListener('click', () => this.hide());
    this.el = h('section', { class: 'rv-drawer', testid: 'review-drawer', hidden: true }, h('div', { class: 'rv-head' }, this.bar, close), this.body);
    // Keys typed in the drawer belong to its inputs, not to the workspace shortcuts.
    this.el.addEventListener('keydown', (e) => {
      if (e.target.matches('input, textarea, select')) e.stopPropagation();
    });
    parent.appendChild(this.el);
    this.current = null;
    this.onShow = () => {};
  }

  add(key, label, content) {
    const tab = h('button', { class: 'rv-tab', role: 'tab', testid: `tab-${key}` }, label);
    tab.addEventListener('click', () => this.show(key));
    const pane = h('div', { class: 'rv-pane', role: 'tabpanel', hidden: true }, content);
    this.bar.appendChild(tab);
    this.body.appendChild(pane);
    this.tabs.set(key, { tab, pane, label });
    return tab;
  }

  setLabel(key, text) {
    const t = this.tabs.get(key);
    if (t) t.tab.textContent = text;
  }

  show(key) {
    this.el.hidden = false;
    this.current = key;
    for (const [k, t] of this.tabs) {
      t.tab.classList.toggle('active', k === key);
      t.tab.setAttribute('aria-selected', String(k === key));
      t.pane.hidden = k !== key;
    }
    this.onShow(key);
  }

  hide() {
    this.el.hidden = true;
    this.current = null;
    this.onShow(null);
  }

  get visible() {
    return !this.el.hidden;
  }
}
