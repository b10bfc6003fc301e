// The experiments panel, a tab beside the simulation panel: a new experiment (factors, objective, search,
// run settings), live progress for everyone in the room (exp.progress), the experiments of this layout,
// and the results of one. It reads and writes only through the REST API and listens to the room.
import { h, clear } from '../../util/dom.js';
import { ExpApi, ACTIVE, explain } from './api.js';
import { ExperimentForm } from './form.js';
import { ExperimentView, KPI_FORMAT } from './results.js';
import { onExperimentProgress } from './frames.js';
import { EXP_ICON } from './icons.js';

const POLL_MS = 1500;
const SILENT_MS = 3000; // poll only when the room has been quiet this long while an experiment runs

export class ExperimentsPanel {
  constructor({ editor, ui, socket, onShowSimulation }) {
    this.editor = editor;
    this.ui = ui;
    this.socket = socket;
    this.onShowSimulation = onShowSimulation;
    this.exps = new Map(); // id -> experiment (list shape, or full once fetched)
    this.tracked = null; // the experiment the progress bar follows
    this.pinned = null; // an experiment someone picked from the list (otherwise the results follow `tracked`)
    this.view = null;
    this.sort = null;
    this.inflight = new Map();
    this.again = new Set();
    this.lastFrame = 0;
    this.build();
    this.offFrames = onExperimentProgress(socket, (m) => this.onProgress(m));
    if (socket) socket.signals.welcome.add((m, reconnect) => reconnect && this.refresh());
    this.poller = setInterval(() => this.poll(), POLL_MS);
  }

  get canRun() {
    return this.editor.roleRank >= 1;
  }

  build() {
    this.toggleBtn = h('button', { class: 'tool fx-tool', testid: 'exp-toggle', title: 'Experiments', 'aria-label': 'Experiments', html: EXP_ICON });
    this.toggleBtn.append(h('span', { class: 'fx-live-dot', hidden: true }));
    this.toggleBtn.addEventListener('click', () => this.toggle());
    this.ui.connBanner.parentNode.insertBefore(this.toggleBtn, this.ui.connBanner);

    this.form = new ExperimentForm({ editor: this.editor });
    this.startBtn = h('button', { class: 'primary', testid: 'exp-start' }, 'Start the experiment');
    this.startBtn.addEventListener('click', () => this.submit());
    const note = this.canRun ? '' : h('p', { class: 'muted small', testid: 'exp-viewer-note' }, 'Viewers see experiments and their results; engineers and up can start them.');
    if (!this.canRun) {
      this.form.setDisabled(true);
      this.startBtn.disabled = true;
    }
    this.newBox = h('details', { class: 'exp-new', testid: 'exp-new', open: this.canRun }, h('summary', {}, 'New experiment'), this.form.el, h('div', { class: 'fx-actions' }, this.startBtn));
    this.error = h('div', { class: 'fx-error', testid: 'exp-error', role: 'alert', hidden: true });
    this.progress = h('progress', { max: 1, value: 0, testid: 'exp-progress', dataset: { progress: '0', status: 'none', done: '0', total: '0' } });
    this.progressText = h('span', { class: 'small', testid: 'exp-progress-text' }, 'No experiment running.');
    this.cancelBtn = h('button', { class: 'small-btn danger', testid: 'exp-cancel', hidden: true }, 'Cancel');
    this.cancelBtn.addEventListener('click', () => this.cancel());
    this.history = h('div', { class: 'fx-history', testid: 'exp-history' });
    this.body = h('div', { class: 'fx-body' });
    const simTab = h('button', { class: 'exp-tab', testid: 'exp-tab-simulation', onclick: () => this.onShowSimulation() }, 'Simulation');
    const close = h('button', { class: 'ghost small', testid: 'exp-close', title: 'Close', onclick: () => this.toggle(false) }, '×');
    this.el = h(
      'section',
      { class: 'fx-panel fx-exp', testid: 'exp-panel', hidden: true, 'aria-label': 'Experiments' },
      h('div', { class: 'fx-head' }, h('span', { class: 'exp-tabs' }, simTab, h('span', { class: 'exp-tab active', 'aria-current': 'page' }, 'Experiments')), close),
      h('div', { class: 'fx-scroll' },
        note,
        this.newBox,
        this.error,
        h('div', { class: 'fx-progress' }, this.progress, h('div', { class: 'fx-prow' }, this.progressText, this.cancelBtn)),
        h('h5', {}, 'Experiments of this layout'),
        this.history,
        this.body,
      ),
    );
    this.ui.overlays.appendChild(this.el);
  }

  get open() {
    return !this.el.hidden;
  }

  toggle(force) {
    const open = force === undefined ? this.el.hidden : force;
    this.el.hidden = !open;
    this.toggleBtn.classList.toggle('active', open);
    this.ui.viewport.classList.toggle('fx-exp-open', open);
    if (open) {
      if (this.canRun && !this.form.rows.length) this.form.addFactor(this.form.selectedTarget());
      this.refresh();
    }
  }

  // ---- data --------------------------------------------------------------------------------------------
  async refresh() {
    const layout = this.editor.layout;
    if (!layout) return;
    try {
      for (const exp of await ExpApi.list(layout.id)) this.merge(exp);
    } catch (err) {
      return this.showError(explain(err, 'load the experiments of this layout'));
    }
    const mine = this.ownExperiments();
    if (mine.length && this.form.pristine) this.newBox.open = false;
    const active = mine.find((x) => ACTIVE.has(x.status));
    if (this.tracked === null || (active && !ACTIVE.has(this.exps.get(this.tracked).status))) this.tracked = active ? active.id : mine.length ? mine[0].id : null;
    this.renderProgress();
    this.renderHistory();
    const target = this.pinned ?? this.tracked;
    if (target !== null) this.fetch(target);
  }

  merge(exp) {
    const prev = this.exps.get(exp.id);
    this.exps.set(exp.id, prev ? { ...prev, ...exp, points: exp.points ?? prev.points } : exp);
  }

  ownExperiments() {
    const id = this.editor.layout && this.editor.layout.id;
    return [...this.exps.values()].filter((x) => x.layout === id).sort((a, b) => b.id - a.id);
  }

  // One GET at a time per experiment; frames that arrive meanwhile ask for one more afterwards.
  fetch(id) {
    if (this.inflight.has(id)) return this.again.add(id);
    const p = ExpApi.get(id)
      .then((exp) => {
        this.merge(exp);
        this.renderProgress();
        this.renderHistory();
        if ((this.pinned ?? this.tracked) === id) this.display(this.exps.get(id));
      })
      .catch((err) => {
        if ((this.pinned ?? this.tracked) === id) this.showError(explain(err, `load experiment #${id}`));
      })
      .finally(() => {
        this.inflight.delete(id);
        if (this.again.delete(id)) this.fetch(id);
      });
    this.inflight.set(id, p);
  }

  async poll() {
    const exp = this.tracked !== null ? this.exps.get(this.tracked) : null;
    if (!exp || !ACTIVE.has(exp.status) || performance.now() - this.lastFrame < SILENT_MS) return;
    this.fetch(exp.id);
  }

  // ---- progress (every member of the room sees it) -----------------------------------------------------
  onProgress(m) {
    this.lastFrame = performance.now();
    const known = this.exps.get(m.id);
    const wasActive = known ? ACTIVE.has(known.status) : true;
    if (known && !wasActive && ACTIVE.has(m.status)) return; // a late frame from before the end
    // Frames from several workers can arrive out of order: while it runs, the bar only moves forward.
    const ahead = known && ACTIVE.has(m.status) ? { progress: Math.max(known.progress || 0, m.progress), done: Math.max(known.done || 0, m.done) } : { progress: m.progress, done: m.done };
    const changed = !known || known.done !== ahead.done || known.status !== m.status;
    this.merge({ id: m.id, status: m.status, total: m.total, ...ahead, ...(known ? {} : { layout: this.editor.layout.id }) });
    const tracked = this.tracked !== null ? this.exps.get(this.tracked) : null;
    if (!tracked || m.id === this.tracked || !ACTIVE.has(tracked.status) || (ACTIVE.has(m.status) && m.id > this.tracked)) {
      if (m.id !== this.tracked && this.form.pristine) this.newBox.open = false; // make room for what everyone watches
      this.tracked = m.id;
    }
    this.renderProgress();
    this.renderHistory();
    if (changed) this.fetch(m.id);
    if (wasActive && !ACTIVE.has(m.status) && m.id === this.tracked) {
      if (m.status === 'failed') this.showError(`Experiment #${m.id} failed: every point's run failed. Open the Simulation tab for a point's run and its reason, fix the layout and start again.`);
    }
  }

  renderProgress() {
    const exp = this.tracked !== null ? this.exps.get(this.tracked) : null;
    const active = !!exp && ACTIVE.has(exp.status);
    const p = exp ? (exp.status === 'succeeded' ? 1 : Math.max(0, Math.min(1, Number(exp.progress) || 0))) : 0;
    this.progress.value = p;
    Object.assign(this.progress.dataset, { progress: p.toFixed(3), status: exp ? exp.status : 'none', experiment: exp ? String(exp.id) : '', done: String(exp ? exp.done ?? 0 : 0), total: String(exp ? exp.total ?? 0 : 0) });
    this.progress.classList.toggle('active', active);
    const counts = exp ? `${exp.done ?? 0} of ${exp.total ?? '?'} points` : '';
    this.progressText.textContent = !exp
      ? 'No experiment running.'
      : active
        ? `Experiment #${exp.id}${exp.created_by ? ` (${exp.created_by})` : ''}: ${exp.status}, ${counts}, ${Math.round(p * 100)}%`
        : `Experiment #${exp.id}: ${exp.status}, ${counts}`;
    this.cancelBtn.hidden = !active || !this.canRun;
    this.toggleBtn.querySelector('.fx-live-dot').hidden = !active;
  }

  renderHistory() {
    clear(this.history);
    const list = this.ownExperiments();
    if (!list.length) this.history.append(h('p', { class: 'muted small' }, this.canRun ? 'No experiments yet: pick factors above and start one.' : 'No experiments yet.'));
    const shown = this.view ? this.view.exp.id : null;
    for (const exp of list.slice(0, 30)) {
      const best = exp.points && exp.best !== null && exp.best !== undefined ? exp.points.find((x) => x.index === exp.best) : null;
      const kpi = exp.objective ? exp.objective.kpi : 'throughput_per_hour';
      const row = h(
        'button',
        { class: `fx-hrow exp-hrow${exp.id === shown ? ' current' : ''}`, testid: 'exp-history-row', dataset: { experiment: String(exp.id), status: exp.status } },
        h('span', { class: `fx-chip ${exp.status}` }, exp.status),
        h('span', { class: 'exp-hname' }, `#${exp.id} ${exp.name || ''}`),
        h('span', { class: 'muted small' }, exp.created_by || ''),
        h('span', { class: 'fx-htp' }, ACTIVE.has(exp.status) ? `${Math.round((exp.progress || 0) * 100)}%` : best && best.results && best.results[kpi] ? `best ${KPI_FORMAT[kpi].f(best.results[kpi].mean)}` : `${exp.total ?? ''} pts`),
      );
      row.title = exp.objective ? `${exp.total} points · objective: ${exp.objective.sense} ${KPI_FORMAT[kpi].label.toLowerCase()}` : '';
      row.addEventListener('click', () => {
        this.pinned = exp.id === this.tracked ? null : exp.id;
        if (!ACTIVE.has((this.exps.get(this.tracked) || {}).status)) this.tracked = exp.id;
        this.renderProgress();
        this.fetch(exp.id);
      });
      this.history.append(row);
    }
  }

  display(exp) {
    if (!exp.points) return;
    if (this.view && this.view.exp.id === exp.id) this.view.update(exp);
    else {
      if (this.view) this.view.destroy();
      this.view = new ExperimentView({ editor: this.editor, exp, sort: this.sort, canApply: this.canRun, onSort: (s) => (this.sort = s), onApply: (i, name) => this.apply(exp.id, i, name) });
      this.body.replaceChildren(this.view.el);
      this.view.mounted();
    }
    this.renderHistory();
  }

  // ---- actions -----------------------------------------------------------------------------------------
  async submit() {
    if (!this.canRun) return;
    this.hideError();
    const body = this.form.read();
    if (!body) return this.showError('Some settings need fixing: see the messages in red above, then start again.');
    this.startBtn.disabled = true;
    try {
      const exp = await ExpApi.create({ layout: this.editor.layout.id, ...body });
      this.merge(exp);
      this.tracked = exp.id;
      this.pinned = null;
      this.newBox.open = false; // the progress and the results now matter; the form stays one click away
      this.renderProgress();
      this.renderHistory();
      this.display(this.exps.get(exp.id));
    } catch (err) {
      this.form.showServerErrors(err.body);
      this.showError(explain(err, 'start the experiment'));
    } finally {
      this.startBtn.disabled = !this.canRun;
    }
  }

  async cancel() {
    const id = this.tracked;
    if (id === null) return;
    this.cancelBtn.disabled = true;
    try {
      this.merge(await ExpApi.cancel(id));
      this.renderProgress();
      this.renderHistory();
      this.fetch(id);
    } catch (err) {
      this.showError(explain(err, 'cancel the experiment'));
    } finally {
      this.cancelBtn.disabled = false;
    }
  }

  async apply(id, point, name) {
    try {
      return { draft: await ExpApi.apply(id, point, name) };
    } catch (err) {
      return { error: explain(err, 'create the draft') };
    }
  }

  showError(message) {
    this.error.replaceChildren(h('span', {}, message), h('button', { class: 'ghost small', title: 'Dismiss', onclick: () => this.hideError() }, '×'));
    this.error.hidden = false;
  }

  hideError() {
    this.error.hidden = true;
    clear(this.error);
  }
}
