// Toasts for notices and errors, and the conflict dialog that shows the other person's change
// next to the user's own value and lets the user keep theirs or take the current one.
import { h, clear, fmt } from '../util/dom.js';

export class Notices {
  constructor(root, editor) {
    this.editor = editor;
    this.stack = h('div', { class: 'toasts', testid: 'toasts', 'aria-live': 'polite' });
    root.appendChild(this.stack);
    this.dialogs = h('div', { class: 'conflicts', testid: 'conflicts' });
    root.appendChild(this.dialogs);
    editor.signals.notice.add((n) => this.toast(n.message, n.level));
    editor.signals.conflict.add((c) => this.conflict(c));
  }

  toast(message, level = 'info', timeout = level === 'error' ? 9000 : 4500) {
    const el = h('div', { class: `toast toast-${level}`, role: level === 'error' ? 'alert' : 'status', testid: `toast-${level}` }, h('span', {}, message));
    const close = h('button', { class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
    close.addEventListener('click', () => el.remove());
    el.appendChild(close);
    this.stack.appendChild(el);
    while (this.stack.children.length > 5) this.stack.firstChild.remove();
    if (timeout) setTimeout(() => el.remove(), timeout);
    return el;
  }

  conflict(c) {
    const rows = [];
    const current = c.current || {};
    const mine = c.mine || {};
    if (c.kind === 'delete') {
      rows.push(h('tr', {}, h('td', {}, 'you'), h('td', { colspan: 2 }, 'deleted it')));
    } else {
      // Every field the user changed, plus every field the other person changed since the user's version.
      const base = c.base || {};
      const keys = new Set(Object.keys(mine));
      for (const k of ['name', 'x', 'z', 'rotation_deg', 'twin_key', 'asset_type', 'params', 'buffer_capacity', 'transport_speed_mps', 'weight']) {
        if (k in current && k in base && JSON.stringify(base[k]) !== JSON.stringify(current[k])) keys.add(k);
      }
      for (const key of keys) {
        const yours = key in mine ? mine[key] : base[key];
        if (key === 'params') {
          const pk = new Set([...Object.keys(yours || {}), ...Object.keys(current.params || {})]);
          for (const k of pk) {
            const a = (yours || {})[k];
            const b = (current.params || {})[k];
            if (JSON.stringify(a) !== JSON.stringify(b)) rows.push(row(`params.${k}`, a, b));
          }
        } else rows.push(row(key, yours, current[key]));
      }
      if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: 3 }, 'Same values; only the version changed.')));
    }
    const keep = h('button', { class: 'primary', testid: 'conflict-keep-mine' }, c.kind === 'delete' ? 'Delete anyway' : 'Keep mine');
    const theirs = h('button', { testid: 'conflict-use-theirs' }, c.kind === 'delete' ? 'Keep it' : 'Use theirs');
    const el = h(
      'div',
      { class: 'conflict-dialog', role: 'alertdialog', testid: 'conflict-dialog' },
      h('div', { class: 'conflict-title' }, `Someone else changed ${c.label} while you were editing`),
      h('p', { class: 'muted small' }, 'Your change was not saved over theirs. The scene shows their version now; choose which one to keep.'),
      h('table', { class: 'conflict-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'field'), h('th', {}, 'yours'), h('th', {}, 'theirs (current)'))), h('tbody', {}, rows)),
      h('div', { class: 'actions' }, theirs, keep),
    );
    keep.addEventListener('click', () => {
      el.remove();
      c.keepMine && c.keepMine();
    });
    theirs.addEventListener('click', () => {
      el.remove();
      c.useTheirs && c.useTheirs();
    });
    this.dialogs.appendChild(el);
  }

  clear() {
    clear(this.stack);
  }
}

function row(key, mine, theirs) {
  const show = (v) => (v === undefined ? 'default' : v === null ? '—' : typeof v === 'object' ? JSON.stringify(v) : fmt(v, 3));
  return h('tr', {}, h('td', {}, key), h('td', { class: 'mine', testid: `conflict-mine-${key}` }, show(mine)), h('td', { class: 'theirs', testid: `conflict-theirs-${key}` }, show(theirs)));
}
