// Active alarms of the factory: listed, live through `alarm` frames, acknowledged by engineers and up,
// with an unread badge on the toolbar and the alarmed assets pulsing in 3D.
import { h, clear, fmt } from '../../util/dom.js';
import { TwinApi } from './api.js';
import { AlarmRules } from './rules.js';
import { FX_ICONS } from '../simulation/icons.js';

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };

export class AlarmPanel {
  constructor({ editor, view, ui, socket, pulse, twinKey }) {
    this.editor = editor;
    this.view = view;
    this.pulse = pulse;
    this.twinKey = twinKey; // (twin id) -> key or null
    this.alarms = new Map(); // id -> alarm
    this.unread = 0;
    this.badge = h('span', { class: 'badge-count', testid: 'alarm-unread', hidden: true }, '0');
    this.btn = h('button', { class: 'tool fx-tool', testid: 'alarm-toggle', title: 'Alarms', 'aria-label': 'Alarms', html: FX_ICONS.bell });
    this.btn.append(this.badge);
    this.btn.addEventListener('click', () => this.toggle());
    ui.connBanner.parentNode.insertBefore(this.btn, ui.connBanner);
    this.list = h('div', { class: 'fx-alarms' });
    this.count = h('span', { class: 'muted small', testid: 'alarm-count' });
    const close = h('button', { class: 'ghost small', testid: 'alarm-close', title: 'Close', onclick: () => this.toggle(false) }, '×');
    this.rules = editor.roleRank >= 3 ? new AlarmRules({ editor }) : null;
    this.el = h(
      'section',
      { class: 'fx-panel fx-alarm-panel', testid: 'alarm-panel', hidden: true, 'aria-label': 'Alarms' },
      h('div', { class: 'fx-head' }, h('span', {}, 'Active alarms ', this.count), close),
      h('div', { class: 'fx-scroll' }, this.list, this.rules ? this.rules.el : ''),
    );
    ui.overlays.appendChild(this.el);
    if (socket) {
      socket.signals.alarm.add((a) => this.onAlarm(a));
      socket.signals.welcome.add((m, reconnect) => reconnect && this.load());
    }
    editor.signals.sceneLoaded.add(() => this.render());
  }

  get canAck() {
    return this.editor.roleRank >= 1;
  }

  toggle(force) {
    const open = force === undefined ? this.el.hidden : force;
    this.el.hidden = !open;
    this.btn.classList.toggle('active', open);
    if (open) {
      this.setUnread(0);
      if (this.rules) this.rules.load();
    }
  }

  setUnread(n) {
    this.unread = n;
    this.badge.textContent = n > 99 ? '99+' : String(n);
    this.badge.hidden = n === 0;
    this.btn.classList.toggle('fx-alarmed', [...this.alarms.values()].some((a) => a.active));
  }

  async load() {
    try {
      const list = await TwinApi.alarms(this.editor.factory.id);
      this.alarms = new Map(list.map((a) => [a.id, a]));
      this.setUnread(this.el.hidden ? list.filter((a) => !a.acked_at).length : 0);
      this.render();
    } catch (err) {
      this.list.replaceChildren(h('p', { class: 'fx-error' }, `Could not load alarms: ${err.message}`));
    }
  }

  onAlarm(a) {
    if (!a || a.id === undefined) return;
    const prev = this.alarms.get(a.id);
    const merged = { ...(prev || {}), ...a };
    if (!merged.key && merged.twin !== undefined) merged.key = this.twinKey(merged.twin);
    if (merged.active === false) this.alarms.delete(a.id);
    else this.alarms.set(a.id, merged);
    if (!prev && merged.active !== false && this.el.hidden) this.setUnread(this.unread + 1);
    else this.setUnread(this.unread);
    this.render();
  }

  assetsOf(key) {
    const out = [];
    if (!key) return out;
    for (const asset of this.editor.assets.values()) if (asset.twin_key === key) out.push(asset.id);
    return out;
  }

  render() {
    clear(this.list);
    const alarms = [...this.alarms.values()].sort((a, b) => (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) || String(b.raised_at).localeCompare(String(a.raised_at)));
    this.count.textContent = `(${alarms.length})`;
    const pulsing = new Map();
    for (const a of alarms) for (const id of this.assetsOf(a.key)) if (!pulsing.has(id)) pulsing.set(id, a.severity);
    this.pulse.set(pulsing);
    if (!alarms.length) this.list.append(h('p', { class: 'muted small', testid: 'alarm-empty' }, 'No active alarms.'));
    for (const a of alarms) {
      const ids = this.assetsOf(a.key);
      const ack = a.acked_at
        ? h('span', { class: 'muted small', testid: 'alarm-acked' }, `acked by ${a.acked_by || '?'}`)
        : this.canAck
          ? h('button', { class: 'small-btn', testid: 'alarm-ack' }, 'Ack')
          : h('span', { class: 'muted small' }, 'unacknowledged');
      if (ack.tagName === 'BUTTON') ack.addEventListener('click', (e) => {
        e.stopPropagation();
        this.ack(a.id, ack);
      });
      const row = h(
        'div',
        { class: `fx-arow sev-${a.severity}${a.acked_at ? ' acked' : ''}`, testid: 'alarm-row', dataset: { alarm: String(a.id), key: a.key || '', severity: a.severity || '', kind: a.kind || 'threshold' }, title: ids.length ? 'Show in 3D' : 'Not in this layout' },
        h('span', { class: `fx-sev ${a.severity}` }, a.severity),
        // A drift alarm (CONTRACT §9) is about a layout's output against its plan, shown on its first sink's twin.
        h('span', { class: 'fx-akey' }, a.kind === 'drift' ? h('b', { testid: 'alarm-drift' }, 'drift · ') : '', a.key || `twin ${a.twin}`, ids.length ? '' : h('span', { class: 'muted small' }, ' · not in this layout')),
        h('span', { class: 'fx-atime muted small' }, a.raised_at ? new Date(a.raised_at).toLocaleTimeString() : ''),
        h('span', { class: 'fx-amsg' }, a.message, a.value !== null && a.value !== undefined && !String(a.message).includes(fmt(a.value, 2)) ? h('span', { class: 'muted' }, ` (${fmt(a.value, 2)})`) : ''),
        ack,
      );
      if (ids.length) row.addEventListener('click', () => {
        this.editor.select(ids);
        this.view.frameAssets(ids);
      });
      this.list.append(row);
    }
  }

  async ack(id, btn) {
    btn.disabled = true;
    try {
      this.onAlarm(await TwinApi.ack(id));
    } catch (err) {
      btn.disabled = false;
      this.editor.notify(`Acknowledge failed: ${err.message}`, 'error');
    }
  }
}
