// Presenter flow: the presenting engineer tours the changes and then the open comment pins; reviewers
// follow the presenter's camera with the room's follow mode (poses), or step through on their own.
import { h, clear } from '../../util/dom.js';

export class Presenter {
  constructor({ editor, socket, hooks, changes, comments }) {
    this.editor = editor;
    this.socket = socket;
    this.hooks = hooks;
    this.changes = changes;
    this.comments = comments;
    this.index = -1;
    this.who = h('select', { testid: 'presenter-select', 'aria-label': 'Presenter to follow' });
    this.followBtn = h('button', { class: 'small-btn', testid: 'follow-presenter' }, 'Follow');
    this.followBtn.addEventListener('click', () => this.toggleFollow());
    this.pos = h('span', { class: 'muted small', testid: 'tour-position' }, 'Tour: changes, then open comments.');
    const prev = h('button', { class: 'small-btn', testid: 'tour-prev' }, '◀');
    const next = h('button', { class: 'small-btn primary', testid: 'tour-next' }, 'Next stop ▶');
    prev.addEventListener('click', () => this.step(-1));
    next.addEventListener('click', () => this.step(1));
    this.el = h(
      'div',
      { class: 'presenter', testid: 'presenter' },
      h('div', { class: 'vp-head' }, h('span', {}, 'Review session')),
      h('div', { class: 'rv-row' }, h('span', { class: 'muted small' }, 'Follow'), this.who, this.followBtn),
      h('div', { class: 'rv-row' }, prev, next, this.pos),
    );
    if (socket) socket.signals.presence.add(() => this.renderMembers());
    this.renderMembers();
    setInterval(() => this.syncFollow(), 500);
  }

  renderMembers() {
    const me = this.socket && this.socket.me ? this.socket.me.id : null;
    const members = this.socket ? this.socket.members.filter((m) => m.id !== me) : [];
    const keep = this.who.value;
    clear(this.who);
    if (!members.length) this.who.append(h('option', { value: '' }, 'nobody else here'));
    // Engineers first: they usually present their scenario.
    members.sort((a, b) => (a.role === 'engineer' ? -1 : 0) - (b.role === 'engineer' ? -1 : 0));
    for (const m of members) this.who.append(h('option', { value: m.id }, `${m.username} (${m.role})`));
    if (keep && members.some((m) => String(m.id) === keep)) this.who.value = keep;
    this.followBtn.disabled = !members.length || !this.hooks.follow;
    this.syncFollow();
  }

  // The room's follow bar tells whether we follow someone (hooks.following is a copied value, not live).
  get following() {
    const bar = document.querySelector('[data-testid=follow-bar]');
    return !!bar && !bar.hidden;
  }

  syncFollow() {
    const on = this.following;
    this.followBtn.textContent = on ? 'Stop following' : 'Follow';
    this.followBtn.classList.toggle('active', on);
  }

  toggleFollow() {
    if (this.following) this.hooks.stopFollow();
    else if (this.who.value) this.hooks.follow(Number(this.who.value));
    this.syncFollow();
  }

  stops() {
    const out = this.changes.items.map((it, i) => ({ kind: 'change', i, label: `change ${i + 1}: ${it.title}` }));
    this.comments.roots().forEach((c, i) => {
      if (!c.resolved) out.push({ kind: 'comment', id: c.id, label: `comment ${i + 1} by ${c.author}` });
    });
    return out;
  }

  step(d) {
    const stops = this.stops();
    if (!stops.length) {
      this.pos.textContent = 'Nothing to show: turn Compare on, or add comments.';
      return null;
    }
    if (this.following) this.hooks.stopFollow();
    this.index = (((this.index < 0 && d < 0 ? 0 : this.index) + d) % stops.length + stops.length) % stops.length;
    const stop = stops[this.index];
    if (stop.kind === 'change') this.changes.go(stop.i);
    else this.comments.goTo(stop.id);
    this.pos.textContent = `${this.index + 1} / ${stops.length}: ${stop.label}`;
    return stop;
  }
}
