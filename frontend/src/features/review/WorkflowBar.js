// Workflow buttons in the workspace's top bar (submit, approve, reject with a reason, archive), kept in step
// with the layout's status; transitions made by others arrive as `applied` layout.update events.
import { h } from '../../util/dom.js';
import { ReviewApi, allowedActions, PAST } from './api.js';

const TITLES = { submit: 'Submit for review: the layout becomes read-only', approve: 'Approve: make it the baseline', reject: 'Reject with a reason', archive: 'Archive this layout' };

export class WorkflowBar {
  constructor({ editor, anchor, socket, notify, onTransition, checks = null }) {
    this.editor = editor;
    this.checks = checks; // { refresh() -> issues, goTo(issue) }: the layout checks, asked before a submit
    this.notify = notify;
    this.onTransition = onTransition || (() => {});
    this.announcements = []; // transitions made by others, as announced
    const btn = (verb, label, cls, testid) => {
      const b = h('button', { class: `wf-btn ${cls}`, testid, title: TITLES[verb] }, label);
      b.addEventListener('click', () => this.ask(verb));
      return b;
    };
    this.buttons = {
      submit: btn('submit', 'Submit', 'primary', 'submit-layout'),
      approve: btn('approve', 'Approve', 'wf-approve', 'approve-layout'),
      reject: btn('reject', 'Reject…', 'wf-reject', 'reject-layout'),
      archive: btn('archive', 'Archive', 'ghost wf-archive', 'archive-layout'),
    };
    this.el = h('div', { class: 'wf-bar', testid: 'workflow' }, ...Object.values(this.buttons));
    anchor.parentNode.insertBefore(this.el, anchor);
    this.reason = h('div', { class: 'wf-reason', testid: 'reject-reason-banner', hidden: true });
    this.lastStatus = editor.layout.status;
    editor.signals.layoutChanged.add(() => this.refresh());
    if (socket) {
      socket.signals.applied.add((event) => {
        if (event.kind !== 'layout.update' || !event.object || event.object.id !== editor.layout.id) return;
        const me = socket.me ? socket.me.id : null;
        if (event.by !== me) {
          const who = (socket.member(event.by) || {}).username || 'Someone';
          const verb = { in_review: 'submitted it for review', approved: 'approved it: it is now the baseline', rejected: 'rejected it', archived: 'archived it', draft: 'reopened it' }[event.object.status];
          if (verb && event.object.status !== this.lastStatus) {
            this.announcements.push(`${who} ${verb}.`);
            this.notify(`${who} ${verb}.`, event.object.status === 'rejected' ? 'warn' : 'success');
          }
        }
        this.transitioned(event.object);
      });
    }
    this.refresh();
  }

  refresh() {
    const layout = this.editor.layout;
    const can = allowedActions(layout.status, this.editor.role);
    for (const [verb, b] of Object.entries(this.buttons)) b.hidden = !can[verb];
    this.el.dataset.status = layout.status;
    this.reason.hidden = layout.status !== 'rejected';
    this.reason.textContent = layout.status === 'rejected' ? `Rejected${layout.reject_reason ? `: ${layout.reject_reason}` : ''}` : '';
  }

  transitioned(layout) {
    const before = this.lastStatus;
    this.lastStatus = layout.status;
    if (layout.status === 'approved' && this.editor.factory) this.editor.factory.baseline_layout = layout.id;
    if (before !== layout.status) this.onTransition(layout, before);
  }

  async ask(verb) {
    if (verb === 'submit' && this.checks) {
      const issues = await this.checks.refresh();
      if (issues.length) return this.submitDialog(issues);
    }
    if (verb === 'submit' || verb === 'archive') return this.run(verb);
    this.dialog(verb);
  }

  // A layout with issues is not submitted on one click: the dialog says what the checks found.
  submitDialog(issues) {
    const old = document.querySelector('.wf-dialog');
    if (old) old.remove();
    const counts = new Map();
    for (const i of issues) counts.set(i.kind, (counts.get(i.kind) || 0) + 1);
    const ok = h('button', { class: 'primary', testid: 'submit-confirm' }, 'Submit anyway');
    const show = h('button', { testid: 'submit-show-issues' }, 'Show the issues');
    const cancel = h('button', { testid: 'submit-cancel' }, 'Cancel');
    const dlg = h(
      'div',
      { class: 'wf-dialog', role: 'dialog', testid: 'submit-dialog' },
      h('h3', {}, 'Submit with open issues?'),
      h('div', { class: 'lint-warning', testid: 'submit-issues' }, `The layout checks found ${issues.length} issue${issues.length === 1 ? '' : 's'}:`, h('ul', {}, [...counts].map(([kind, n]) => h('li', {}, `${n} × ${kind}`)), issues.slice(0, 3).map((i) => h('li', { class: 'muted small' }, i.message)))),
      h('p', { class: 'muted small' }, 'Reviewers see the same checks. Submitting makes the layout read-only.'),
      h('div', { class: 'actions' }, cancel, show, ok),
    );
    dlg.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Escape') dlg.remove();
    });
    cancel.addEventListener('click', () => dlg.remove());
    show.addEventListener('click', () => {
      dlg.remove();
      this.checks.show();
    });
    ok.addEventListener('click', async () => {
      ok.disabled = true;
      if (await this.run('submit')) dlg.remove();
      else ok.disabled = false;
    });
    this.el.closest('.workspace').querySelector('.viewport').appendChild(dlg);
    ok.focus();
  }

  dialog(verb) {
    const old = document.querySelector('.wf-dialog');
    if (old) old.remove();
    const layout = this.editor.layout;
    const reason = h('textarea', { testid: 'reject-reason', rows: 3, maxlength: 5000, placeholder: 'Why? The engineer sees this reason.' });
    const ok = h('button', { class: verb === 'approve' ? 'primary' : 'danger', testid: `${verb}-confirm` }, verb === 'approve' ? 'Approve and make baseline' : 'Reject');
    const cancel = h('button', { testid: `${verb}-cancel` }, 'Cancel');
    const text = verb === 'approve' ? `"${layout.name}" becomes the baseline of ${this.editor.factory.name || 'the factory'}; the current baseline is archived.` : `Send "${layout.name}" back with a reason. It becomes read-only; edits go to a new branch.`;
    const dlg = h('div', { class: 'wf-dialog', role: 'dialog', testid: `${verb}-dialog` }, h('h3', {}, verb === 'approve' ? 'Approve this layout?' : 'Reject this layout'), h('p', { class: 'muted small' }, text), verb === 'reject' ? reason : null, h('div', { class: 'actions' }, cancel, ok));
    dlg.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Escape') dlg.remove();
    });
    cancel.addEventListener('click', () => dlg.remove());
    ok.addEventListener('click', async () => {
      if (verb === 'reject' && !reason.value.trim()) {
        reason.classList.add('invalid');
        reason.focus();
        return;
      }
      ok.disabled = true;
      const done = await this.run(verb, verb === 'reject' ? { reason: reason.value.trim() } : {});
      if (done) dlg.remove();
      else ok.disabled = false;
    });
    this.el.closest('.workspace').querySelector('.viewport').appendChild(dlg);
    (verb === 'reject' ? reason : ok).focus();
  }

  async run(verb, body = {}) {
    const b = this.buttons[verb];
    b.disabled = true;
    try {
      const layout = await ReviewApi.transition(this.editor.layout.id, verb, body);
      this.editor.layout = Object.assign(this.editor.layout, layout);
      this.editor.signals.layoutChanged.dispatch(this.editor.layout);
      this.transitioned(layout);
      this.notify(`Layout ${PAST[verb]}.`, 'success');
      return layout;
    } catch (err) {
      this.notify(`Could not ${verb}: ${err.message}`, 'error');
      return null;
    } finally {
      b.disabled = false;
    }
  }
}
