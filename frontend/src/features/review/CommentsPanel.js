// Comment threads pinned to an asset or a 3D point, each carrying its author's camera: a panel with the
// threads (reply, resolve/reopen, delete), numbered pins in the scene, @mentions highlighted, live updates.
import { h, clear } from '../../util/dom.js';
import { Picking } from '../../scene/Picking.js';
import { ReviewApi, ROLE_RANK } from './api.js';
import { Markers } from './Markers.js';
import { goToSavedView, currentCamera } from './camera.js';

const when = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
};

// Text with @mentions of members as highlighted spans (plain text otherwise: never HTML).
export function mentionText(text, mentions = [], me = null) {
  const names = new Set(mentions || []);
  const out = [];
  let last = 0;
  for (const m of String(text).matchAll(/(?<![\w@.+-])@([\w.@+-]{1,150})/g)) {
    let name = m[1];
    if (!names.has(name) && names.has(name.replace(/\.+$/, ''))) name = name.replace(/\.+$/, '');
    if (!names.has(name)) continue;
    out.push(text.slice(last, m.index), h('span', { class: `mention${me && name === me ? ' me' : ''}`, testid: 'mention' }, `@${name}`));
    last = m.index + 1 + name.length;
  }
  out.push(text.slice(last));
  return out;
}

export class CommentsPanel {
  constructor({ editor, view, viewport, user, notify, stopFollow }) {
    this.editor = editor;
    this.view = view;
    this.user = user;
    this.notify = notify;
    this.stopFollow = stopFollow || (() => {});
    this.comments = new Map();
    this.currentId = null;
    this.picked = null;
    this.showResolved = false;
    this.markers = new Markers(view, 'comment-pins');
    this.picking = new Picking(view);
    this.onCount = () => {};

    this.input = h('textarea', { class: 'comment-input', testid: 'comment-input', rows: 3, maxlength: 4000, placeholder: 'Comment on this layout… @name to mention someone. Ctrl+Enter sends.' });
    this.pinInfo = h('span', { class: 'muted small', testid: 'comment-pin-target' });
    const pickBtn = h('button', { class: 'small-btn', testid: 'comment-pick-point', title: 'Click a point in the scene to pin the comment there' }, 'Pick point');
    pickBtn.addEventListener('click', () => this.startPicking());
    this.submitBtn = h('button', { class: 'primary small-btn', testid: 'comment-submit' }, 'Comment');
    this.submitBtn.addEventListener('click', () => this.submit());
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) this.submit();
    });
    const resolvedToggle = h('input', { type: 'checkbox', testid: 'comments-show-resolved' });
    resolvedToggle.addEventListener('change', () => {
      this.showResolved = resolvedToggle.checked;
      this.render();
    });
    this.list = h('div', { class: 'comment-list', testid: 'comment-list' });
    this.el = h(
      'div',
      { class: 'comments-panel', testid: 'comments-panel' },
      h('div', { class: 'comment-compose' }, this.input, h('div', { class: 'rv-row' }, this.pinInfo, h('span', { class: 'spacer' }), pickBtn, this.submitBtn)),
      h('label', { class: 'rv-row muted small' }, resolvedToggle, 'Show resolved'),
      this.list,
    );
    editor.signals.selectionChanged.add(() => this.updatePinInfo());
    this.updatePinInfo();
    // Picking a point: the next click in the viewport, before the editor's own handlers see it.
    viewport.addEventListener(
      'pointerdown',
      (e) => {
        if (!this.picking.active || e.button !== 0 || e.target !== view.renderer.domElement) return;
        e.stopPropagation();
        e.preventDefault();
        const hit = this.picking.any(e.clientX, e.clientY);
        const p = hit && hit.point ? hit.point : this.picking.floor(e.clientX, e.clientY);
        this.picking.active = false;
        viewport.classList.remove('rv-picking');
        if (!p) return;
        this.picked = { position: [p.x, p.y + 0.2, p.z].map((v) => Math.round(v * 1000) / 1000), asset: hit && hit.kind === 'asset' ? hit.id : null };
        this.updatePinInfo();
        this.renderPins();
        this.input.focus();
      },
      true,
    );
  }

  startPicking() {
    this.picking.active = true;
    this.view.container.classList.add('rv-picking');
    this.notify('Click the point in the scene to pin your comment to.', 'info');
  }

  // What a new comment gets pinned to: a picked point, else the single selected asset, else the view centre.
  pinTarget() {
    if (this.picked) return { ...this.picked, label: this.picked.asset ? `point on ${this.assetName(this.picked.asset)}` : 'picked point' };
    const sel = this.editor.selection;
    if (sel.length === 1 && this.editor.assets.has(sel[0])) {
      const a = this.editor.assets.get(sel[0]);
      const t = this.editor.typeOf(a);
      return { asset: a.id, position: [a.x, (t ? t.height_m : 1) + 0.3, a.z], label: a.name };
    }
    const t = this.view.controls.target;
    return { asset: null, position: [t.x, Math.max(0.3, t.y), t.z].map((v) => Math.round(v * 1000) / 1000), label: 'centre of the view' };
  }

  assetName(id) {
    const a = this.editor.assets.get(id);
    return a ? a.name : `asset ${id}`;
  }

  updatePinInfo() {
    this.pinInfo.textContent = `Pin: ${this.pinTarget().label}`;
  }

  async load() {
    try {
      const rows = await ReviewApi.comments(this.editor.layout.id);
      this.comments = new Map(rows.map((c) => [c.id, c]));
      this.render();
    } catch (err) {
      clear(this.list).append(h('div', { class: 'form-error' }, `Could not load comments: ${err.message}`));
    }
  }

  async submit(parent = null, text = null, input = this.input) {
    const body = (text ?? input.value).trim();
    if (!body) return null;
    const data = { layout: this.editor.layout.id, text: body, camera: currentCamera(this.view) };
    if (parent) data.parent = parent;
    else {
      const pin = this.pinTarget();
      data.position = pin.position;
      if (pin.asset) data.asset = pin.asset;
    }
    try {
      const c = await ReviewApi.addComment(data);
      this.comments.set(c.id, c);
      input.value = '';
      if (!parent) {
        this.picked = null;
        this.updatePinInfo();
      }
      this.render();
      return c;
    } catch (err) {
      this.notify(`Comment not saved: ${err.message}`, 'error');
      return null;
    }
  }

  // Room event {"type":"comment","action","comment"}.
  onEvent(frame) {
    const c = frame.comment || {};
    if (c.layout !== undefined && c.layout !== this.editor.layout.id) return;
    const isNew = frame.action === 'created' && !this.comments.has(c.id);
    if (frame.action === 'deleted') {
      this.comments.delete(c.id);
      for (const r of c.replies || []) this.comments.delete(r);
    } else this.comments.set(c.id, c);
    this.render();
    const mine = this.user && c.author_id === this.user.id;
    if (isNew && !mine) {
      const mentioned = this.user && (c.mentions || []).includes(this.user.username);
      this.notify(`${mentioned ? `${c.author} mentioned you` : `${c.author} commented`}: ${String(c.text).slice(0, 90)}`, mentioned ? 'warn' : 'info');
    }
  }

  roots() {
    return [...this.comments.values()].filter((c) => !c.parent).sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id - b.id));
  }

  repliesOf(id) {
    return [...this.comments.values()].filter((c) => c.parent === id).sort((a, b) => a.id - b.id);
  }

  pinOf(c) {
    if (Array.isArray(c.position)) return c.position;
    const a = c.asset ? this.editor.assets.get(c.asset) : null;
    if (!a) return null;
    const t = this.editor.typeOf(a);
    return [a.x, (t ? t.height_m : 1) + 0.3, a.z];
  }

  goTo(id, animate = true) {
    const c = this.comments.get(id);
    if (!c) return false;
    this.stopFollow();
    this.currentId = id;
    const pin = this.pinOf(c);
    if (!goToSavedView(this.view, c.camera, pin, animate) && pin) {
      this.view.flyTo(this.view.camera.position.clone().set(pin[0] + 8, pin[1] + 10, pin[2] + 12), this.view.controls.target.clone().set(...pin), animate);
    }
    if (c.asset && this.editor.assets.has(c.asset)) this.editor.select([c.asset]);
    this.render();
    return true;
  }

  canModerate(c) {
    const rank = ROLE_RANK[this.editor.role] ?? 0;
    const mine = this.user && c.author_id === this.user.id;
    return { resolve: mine || rank >= 1, remove: mine || rank >= 2 };
  }

  async act(fn, what) {
    try {
      const res = await fn();
      if (res && res.id) this.comments.set(res.id, res);
      this.render();
    } catch (err) {
      this.notify(`${what} failed: ${err.message}`, 'error');
    }
  }

  commentBody(c, { root = false, number = null } = {}) {
    const me = this.user ? this.user.username : null;
    const may = this.canModerate(c);
    const actions = h('div', { class: 'comment-actions' });
    if (root && may.resolve) {
      const btn = h('button', { class: 'link small', testid: c.resolved ? 'comment-reopen' : 'comment-resolve' }, c.resolved ? 'Reopen' : 'Resolve');
      btn.addEventListener('click', (e) => {
        e.stopPropagation();
        this.act(() => ReviewApi.resolveComment(c.id, !c.resolved), c.resolved ? 'Reopen' : 'Resolve');
      });
      actions.append(btn);
    }
    if (may.remove) {
      const del = h('button', { class: 'link small danger-link', testid: 'comment-delete' }, 'Delete');
      del.addEventListener('click', (e) => {
        e.stopPropagation();
        if (!window.confirm('Delete this comment' + (root ? ' and its replies?' : '?'))) return;
        this.act(async () => {
          await ReviewApi.deleteComment(c.id);
          this.comments.delete(c.id);
          for (const r of this.repliesOf(c.id)) this.comments.delete(r.id);
        }, 'Delete');
      });
      actions.append(del);
    }
    const where = root ? (c.asset ? this.assetName(c.asset) : c.position ? 'point' : 'layout') : null;
    return [
      h('div', { class: 'comment-meta' }, number ? h('span', { class: 'pin-num' }, String(number)) : null, h('b', {}, c.author), h('span', { class: 'muted small' }, ` ${when(c.created_at)}`), where ? h('span', { class: 'muted small' }, ` · ${where}`) : null, c.resolved ? h('span', { class: 'chip resolved' }, 'resolved') : null),
      h('div', { class: `comment-text${me && (c.mentions || []).includes(me) ? ' mentions-me' : ''}` }, mentionText(c.text, c.mentions, me)),
      actions,
    ];
  }

  render() {
    clear(this.list);
    const roots = this.roots();
    const open = roots.filter((c) => !c.resolved).length;
    this.onCount(open, roots.length);
    const shown = roots.filter((c) => this.showResolved || !c.resolved);
    if (!shown.length) this.list.append(h('div', { class: 'muted small empty' }, roots.length ? 'All threads are resolved.' : 'No comments yet. Select an asset or pick a point, write, and your current view is saved with it.'));
    roots.forEach((c, i) => {
      if (!this.showResolved && c.resolved) return;
      const replyInput = h('input', { class: 'reply-input', testid: 'comment-reply-input', placeholder: 'Reply…', maxlength: 4000 });
      replyInput.addEventListener('click', (e) => e.stopPropagation());
      replyInput.addEventListener('keydown', (e) => {
        e.stopPropagation();
        if (e.key === 'Enter') this.submit(c.id, null, replyInput);
      });
      const replies = this.repliesOf(c.id).map((r) => h('div', { class: 'comment-reply', testid: 'comment-reply' }, this.commentBody(r)));
      const row = h('div', { class: `comment-row${c.resolved ? ' resolved' : ''}${c.id === this.currentId ? ' current' : ''}`, testid: 'comment-row', dataset: { commentId: c.id }, title: 'Click to go to the view it was written from' }, this.commentBody(c, { root: true, number: i + 1 }), replies, replyInput);
      row.addEventListener('click', (e) => {
        if (e.target.closest('button, input')) return;
        this.goTo(c.id);
      });
      this.list.append(row);
    });
    this.renderPins(roots);
  }

  renderPins(roots = this.roots()) {
    this.markers.clear();
    roots.forEach((c, i) => {
      if (c.resolved && !this.showResolved) return;
      const pos = this.pinOf(c);
      if (!pos) return;
      const pin = h('button', { class: `comment-pin${c.resolved ? ' resolved' : ''}${c.id === this.currentId ? ' current' : ''}`, testid: 'comment-pin', dataset: { commentId: c.id }, title: `${c.author}: ${c.text.slice(0, 120)}` }, h('span', {}, String(i + 1)));
      pin.addEventListener('click', () => this.goTo(c.id));
      this.markers.set(`c${c.id}`, pin, pos);
    });
    if (this.picked) this.markers.set('picked', h('span', { class: 'comment-pin picked', testid: 'comment-pin-new' }, h('span', {}, '+')), this.picked.position);
  }
}
