// The scenario list of each factory on the home page: status, author, parent, the KPIs of the latest
// simulation and open comments, with the workflow actions the user's role allows. Refreshes itself.
import { h, clear } from '../../util/dom.js';
import { ReviewApi, STATUS_LABEL, allowedActions, PAST } from './api.js';
import { kpiSummary } from './kpi.js';

const REFRESH_MS = 15000;

export class ScenarioList {
  constructor(card, factory) {
    this.factory = factory;
    this.role = factory.my_role;
    this.rows = [];
    this.showClosed = false;
    this.table = h('tbody');
    this.note = h('div', { class: 'form-error small' });
    const closed = h('input', { type: 'checkbox', testid: 'scenarios-show-closed' });
    closed.addEventListener('change', () => {
      this.showClosed = closed.checked;
      this.render();
    });
    this.el = h(
      'section',
      { class: 'scenario-list', testid: 'scenario-list', dataset: { factoryId: factory.id } },
      h('div', { class: 'sc-head' }, h('h3', {}, 'Scenarios'), h('span', { class: 'spacer' }), h('label', { class: 'muted small' }, closed, ' show archived')),
      h('table', { class: 'sc-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Scenario'), h('th', {}, 'Status'), h('th', {}, 'Author'), h('th', {}, 'From'), h('th', {}, 'Latest simulation'), h('th', { title: 'Open comments' }, 'Open'), h('th', {}, ''))), this.table),
      this.note,
    );
    card.appendChild(this.el);
    this.load();
    this.timer = setInterval(() => !document.hidden && this.load(), REFRESH_MS);
  }

  async load() {
    try {
      this.rows = await ReviewApi.scenarios(this.factory.id);
      this.note.textContent = '';
      this.render();
    } catch (err) {
      this.note.textContent = `Could not load the scenarios: ${err.message}`;
    }
  }

  render() {
    clear(this.table);
    const rows = this.rows.filter((r) => this.showClosed || r.status !== 'archived');
    if (!rows.length) this.table.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No scenarios yet.')));
    for (const r of rows) this.table.append(this.row(r));
  }

  row(r) {
    const can = allowedActions(r.status, this.role);
    const sim = r.latest_simulation;
    const kpis = kpiSummary(sim);
    const running = r.last_run && (r.last_run.status === 'running' || r.last_run.status === 'queued');
    const actions = h('div', { class: 'sc-actions' });
    const review = r.is_baseline ? `/layouts/${r.id}/` : `/layouts/${r.id}/?compare=1`;
    actions.append(h('a', { class: 'small-btn btn-link', href: review, testid: 'open-scenario' }, r.status === 'in_review' && can.approve ? 'Review' : 'Open'));
    if (!r.is_baseline) actions.append(h('a', { class: 'small-btn btn-link', href: `/layouts/${r.id}/?view=review-pack`, testid: 'scenario-pack', title: 'Printable review pack' }, 'Pack'));
    const act = (verb, label, testid, cls = '') => {
      const b = h('button', { class: `small-btn ${cls}`, testid }, label);
      b.addEventListener('click', () => (verb === 'branch' ? this.branchForm(r, actions) : verb === 'reject' ? this.rejectForm(r, actions) : this.transition(r, verb, b)));
      actions.append(b);
    };
    if (can.branch) act('branch', 'Branch', 'branch-layout');
    if (can.submit) act('submit', 'Submit', 'submit-layout', 'primary');
    if (can.approve) act('approve', 'Approve', 'approve-layout', 'primary');
    if (can.reject) act('reject', 'Reject', 'reject-layout', 'danger');
    if (can.archive) act('archive', 'Archive', 'archive-layout');
    return h(
      'tr',
      { class: `scenario-row status-${r.status}`, testid: 'scenario-row', dataset: { layoutId: r.id, status: r.status, name: r.name } },
      h('td', {}, h('a', { class: 'layout-link', href: `/layouts/${r.id}/` }, r.name), r.is_baseline ? h('span', { class: 'chip baseline' }, 'Baseline') : null, r.description ? h('div', { class: 'muted small sc-desc' }, r.description) : null, r.status === 'rejected' && r.reject_reason ? h('div', { class: 'small sc-reason', testid: 'scenario-reject-reason' }, `Rejected: ${r.reject_reason}`) : null),
      h('td', {}, h('span', { class: `chip status-${r.status}`, testid: 'scenario-status' }, STATUS_LABEL[r.status] || r.status), h('div', { class: 'muted small' }, `rev ${r.revision}`)),
      h('td', {}, r.created_by || '—'),
      h('td', { class: 'small' }, r.parent_name || '—'),
      h('td', { class: 'small', testid: 'scenario-kpis' }, running ? h('div', { class: 'muted' }, `running ${Math.round((r.last_run.progress || 0) * 100)} %`) : null, kpis ? h('div', {}, kpis, sim.stale ? h('span', { class: 'chip stale', testid: 'scenario-stale', title: `Assets or connections changed since this run (revision ${sim.layout_revision}); run again for current figures.` }, 'stale') : null) : h('span', { class: 'muted' }, 'not simulated')),
      h('td', { class: 'num', testid: 'scenario-comments', title: `${r.comments.open} open of ${r.comments.total}` }, r.comments.open ? h('b', {}, String(r.comments.open)) : h('span', { class: 'muted' }, String(r.comments.total ? 0 : '—'))),
      h('td', {}, actions),
    );
  }

  inlineForm(actions, input, okLabel, testid, onOk) {
    const old = actions.parentNode.querySelector('.sc-form');
    if (old) old.remove();
    const ok = h('button', { class: 'small-btn primary', testid }, okLabel);
    const cancel = h('button', { class: 'small-btn' }, 'Cancel');
    const form = h('div', { class: 'sc-form' }, input, ok, cancel);
    cancel.addEventListener('click', () => form.remove());
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && input.tagName === 'INPUT') ok.click();
      if (e.key === 'Escape') form.remove();
    });
    ok.addEventListener('click', async () => {
      ok.disabled = true;
      if (await onOk()) form.remove();
      else ok.disabled = false;
    });
    actions.parentNode.appendChild(form);
    input.focus();
  }

  branchForm(r, actions) {
    const input = h('input', { testid: 'branch-name', value: `${r.name} – scenario`, 'aria-label': 'Name of the new scenario' });
    this.inlineForm(actions, input, 'Create draft', 'branch-confirm', async () => {
      try {
        const draft = await ReviewApi.branch(r.id, input.value.trim() || `${r.name} – scenario`);
        location.assign(`/layouts/${draft.id}/`);
        return true;
      } catch (err) {
        this.note.textContent = `Branch failed: ${err.message}`;
        return false;
      }
    });
  }

  rejectForm(r, actions) {
    const input = h('textarea', { testid: 'reject-reason', rows: 2, placeholder: 'Reason (shown to the engineer)' });
    this.inlineForm(actions, input, 'Reject', 'reject-confirm', async () => {
      if (!input.value.trim()) {
        input.classList.add('invalid');
        return false;
      }
      return this.transition(r, 'reject', null, { reason: input.value.trim() });
    });
  }

  async transition(r, verb, button, body = {}) {
    if (button) button.disabled = true;
    try {
      await ReviewApi.transition(r.id, verb, body);
      this.note.textContent = '';
      await this.load();
      this.el.dispatchEvent(new CustomEvent('review:transition', { bubbles: true, detail: { layout: r.id, verb, past: PAST[verb] } }));
      return true;
    } catch (err) {
      this.note.textContent = `Could not ${verb} "${r.name}": ${err.message}`;
      if (button) button.disabled = false;
      return false;
    }
  }
}

// Home page: one scenario list in every factory card that renderHome drew.
export function mountScenarioLists(root) {
  const cards = [...root.querySelectorAll('.factory-card[data-factory-id]')];
  if (!cards.length) return [];
  return ReviewApi.listFactories().then((factories) =>
    cards
      .map((card) => {
        const f = factories.find((x) => String(x.id) === card.dataset.factoryId);
        return f ? new ScenarioList(card, f) : null;
      })
      .filter(Boolean),
  );
}
