// The simulation panel: parameters, run, live progress for everyone in the room (sim.progress), run
// history, results, comparison. It reads and writes only through the REST API and listens to the room.
import { h, clear, fmt } from '../../util/dom.js';
import { Api } from '../../network/Api.js';
import { SimApi, ACTIVE } from './api.js';
import { SimForm } from './form.js';
import { ResultsView } from './results.js';
import { CompareView, runLabel } from './compare.js';
import { StationOverlay } from './overlay.js';
import { FX_ICONS } from './icons.js';
import { stat } from '../../util/format.js';

const POLL_MS = 1500;

export class SimulationPanel {
  constructor({ editor, view, ui, socket }) {
    this.editor = editor;
    this.view = view;
    this.ui = ui;
    this.socket = socket;
    this.runs = new Map(); // id -> run (list shape, or full once fetched)
    this.full = new Map(); // id -> run with playback
    this.layoutNames = new Map();
    this.tracked = null; // id of the run the progress bar follows
    this.shown = null; // ResultsView | CompareView
    this.overlayOn = true;
    this.lastFrame = 0;
    this.overlay = new StationOverlay(view, editor);
    this.build();
    if (socket) socket.signals.simProgress.add((m) => this.onProgress(m));
    if (socket) socket.signals.welcome.add((m, reconnect) => reconnect && this.refresh());
    this.poller = setInterval(() => this.poll(), POLL_MS);
  }

  get canRun() {
    return this.editor.roleRank >= 1;
  }

  build() {
    this.toggleBtn = h('button', { class: 'tool fx-tool', testid: 'sim-toggle', title: 'Simulation', 'aria-label': 'Simulation', html: FX_ICONS.simulate });
    this.toggleBtn.append(h('span', { class: 'fx-live-dot', hidden: true }));
    this.toggleBtn.addEventListener('click', () => this.toggle());
    this.ui.connBanner.parentNode.insertBefore(this.toggleBtn, this.ui.connBanner);

    this.form = new SimForm({ onSubmit: () => this.submit() });
    this.runBtn = h('button', { class: 'primary', testid: 'sim-run' }, 'Run simulation');
    this.runBtn.addEventListener('click', () => this.submit());
    this.error = h('div', { class: 'fx-error', testid: 'sim-error', role: 'alert', hidden: true });
    const note = this.canRun ? '' : h('p', { class: 'muted small', testid: 'sim-viewer-note' }, 'Viewers see runs and results; engineers and up can start runs.');
    if (!this.canRun) {
      this.form.setDisabled(true);
      this.runBtn.disabled = true;
    }
    this.progress = h('progress', { max: 1, value: 0, testid: 'sim-progress', dataset: { progress: '0', status: 'none' } });
    this.progressText = h('span', { class: 'small', testid: 'sim-progress-text' }, 'No run in progress.');
    this.cancelBtn = h('button', { class: 'small-btn danger', testid: 'sim-cancel', hidden: true }, 'Cancel');
    this.cancelBtn.addEventListener('click', () => this.cancel());
    this.history = h('div', { class: 'fx-history', testid: 'sim-history' });
    this.compareSel = h('select', { testid: 'sim-compare', 'aria-label': 'Compare the shown run with', disabled: true }, h('option', { value: '' }, 'Compare with…'));
    this.compareSel.addEventListener('change', () => this.compare(Number(this.compareSel.value)));
    this.body = h('div', { class: 'fx-body' });
    const close = h('button', { class: 'ghost small', testid: 'sim-close', title: 'Close', onclick: () => this.toggle(false) }, '×');
    this.el = h(
      'section',
      { class: 'fx-panel fx-sim', testid: 'sim-panel', hidden: true, 'aria-label': 'Simulation' },
      h('div', { class: 'fx-head' }, h('span', {}, 'Simulation'), close),
      h('div', { class: 'fx-scroll' },
        this.form.el,
        h('div', { class: 'fx-actions' }, this.runBtn, note),
        this.error,
        h('div', { class: 'fx-progress' }, this.progress, h('div', { class: 'fx-prow' }, this.progressText, this.cancelBtn)),
        h('h5', {}, 'Runs of this layout'),
        this.history,
        h('div', { class: 'fx-prow' }, this.compareSel),
        this.body,
      ),
    );
    this.ui.overlays.appendChild(this.el);
  }

  toggle(force) {
    const open = force === undefined ? this.el.hidden : force;
    this.el.hidden = !open;
    this.toggleBtn.classList.toggle('active', open);
    this.ui.viewport.classList.toggle('fx-sim-open', open);
    if (open) {
      this.refresh();
      if (this.shown) this.shown.applyOverlay?.();
    } else this.overlay.hide();
  }

  // ---- data --------------------------------------------------------------------------------------------
  async refresh() {
    const layout = this.editor.layout;
    if (!layout) return;
    try {
      const ids = [layout.id, layout.parent, this.editor.factory && this.editor.factory.baseline_layout].filter((v, i, a) => v && a.indexOf(v) === i);
      const lists = await Promise.all(ids.map((id) => SimApi.list(id).catch(() => [])));
      for (const run of lists.flat()) this.merge(run);
      if (this.layoutNames.size === 0 && ids.length > 1) {
        Api.layouts(layout.factory).then((ls) => {
          for (const l of ls) this.layoutNames.set(l.id, l.name);
          this.renderHistory();
        }, () => {});
      }
      const active = this.ownRuns().filter((r) => ACTIVE.has(r.status));
      if (this.tracked === null && active.length) this.tracked = active[0].id;
      if (this.tracked === null && this.ownRuns().length) this.tracked = this.ownRuns()[0].id;
      this.renderHistory();
      this.renderProgress();
      if (!this.shown) {
        const done = this.ownRuns().find((r) => r.status === 'succeeded');
        if (done) this.show(done.id);
      }
    } catch (err) {
      this.showError(`Could not load the runs: ${err.message}`);
    }
  }

  merge(run) {
    const prev = this.runs.get(run.id);
    this.runs.set(run.id, prev ? { ...prev, ...run, results: run.results ?? prev.results } : run);
  }

  ownRuns() {
    const id = this.editor.layout && this.editor.layout.id;
    return [...this.runs.values()].filter((r) => r.layout === id).sort((a, b) => b.id - a.id);
  }

  async poll() {
    // The socket drives progress; poll only when it has been silent while a run is active.
    if (this.el.hidden && !this.tracked) return;
    const run = this.tracked !== null ? this.runs.get(this.tracked) : null;
    if (!run || !ACTIVE.has(run.status) || performance.now() - this.lastFrame < 2500) return;
    try {
      const fresh = await SimApi.get(run.id);
      this.onProgress({ id: fresh.id, status: fresh.status, progress: fresh.progress }, fresh);
    } catch {
      /* transient: the next tick retries */
    }
  }

  // ---- progress (every member of the room sees it) -----------------------------------------------------
  async onProgress(m, fresh = null) {
    if (!fresh) this.lastFrame = performance.now();
    const known = this.runs.get(m.id);
    if (!known) {
      // A run someone else started here: fetch it (only runs of this room's layout arrive).
      try {
        this.merge(fresh || (await SimApi.get(m.id)));
      } catch {
        return;
      }
    }
    const run = this.runs.get(m.id);
    if (run.layout !== this.editor.layout.id) return;
    const wasActive = ACTIVE.has(run.status);
    // Frames from several workers may cross: while a run is active its bar never goes back.
    const progress = ACTIVE.has(m.status) && ACTIVE.has(run.status) ? Math.max(run.progress || 0, m.progress) : m.progress;
    if (!(run.status !== m.status && !ACTIVE.has(run.status))) this.merge({ id: m.id, status: m.status, progress });
    const tracked = this.tracked !== null ? this.runs.get(this.tracked) : null;
    if (this.tracked === null || m.id === this.tracked || !tracked || !ACTIVE.has(tracked.status) || (ACTIVE.has(m.status) && m.id > this.tracked)) this.tracked = m.id;
    this.renderProgress();
    this.renderHistory();
    if (wasActive && !ACTIVE.has(m.status)) await this.finished(m.id);
  }

  async finished(id) {
    let run;
    try {
      run = await SimApi.get(id);
    } catch {
      return;
    }
    this.merge(run);
    this.full.set(id, run);
    this.renderHistory();
    this.renderProgress();
    // Show the finished run to everyone watching, unless they are busy comparing two runs.
    if (run.status === 'succeeded' && this.tracked === id && !(this.shown instanceof CompareView)) this.show(id);
    if (run.status === 'failed' && this.tracked === id) this.showError(`Run #${id} failed: ${run.error || 'unknown error'}`);
  }

  renderProgress() {
    const run = this.tracked !== null ? this.runs.get(this.tracked) : null;
    const active = !!run && ACTIVE.has(run.status);
    const p = run ? (run.status === 'succeeded' ? 1 : Math.max(0, Math.min(1, Number(run.progress) || 0))) : 0;
    this.progress.value = p;
    this.progress.dataset.progress = p.toFixed(3);
    this.progress.dataset.status = run ? run.status : 'none';
    this.progress.dataset.run = run ? String(run.id) : '';
    this.progress.classList.toggle('active', active);
    this.progressText.textContent = !run
      ? 'No run in progress.'
      : active
        ? `Run #${run.id} (${run.created_by || '?'}): ${run.status} ${Math.round(p * 100)}%`
        : `Run #${run.id}: ${run.status}${run.status === 'failed' && run.error ? ` — ${run.error}` : ''}`;
    this.cancelBtn.hidden = !active || !this.canRun;
    this.toggleBtn.querySelector('.fx-live-dot').hidden = !active;
  }

  renderHistory() {
    clear(this.history);
    const runs = this.ownRuns();
    if (!runs.length) this.history.append(h('p', { class: 'muted small' }, 'No runs yet.'));
    const shownId = this.shown && this.shown.run ? this.shown.run.id : null;
    for (const run of runs.slice(0, 30)) {
      const tp = run.results && run.results.throughput_per_hour;
      const row = h(
        'button',
        { class: `fx-hrow${run.id === shownId ? ' current' : ''}`, testid: 'sim-history-row', dataset: { run: String(run.id), status: run.status } },
        h('span', { class: `fx-chip ${run.status}` }, run.status),
        h('span', {}, runLabel(run)),
        h('span', { class: 'muted small' }, run.created_by || ''),
        h('span', { class: 'fx-htp' }, tp ? stat(tp, 'per_hour') : ACTIVE.has(run.status) ? `${Math.round((run.progress || 0) * 100)}%` : ''),
      );
      row.addEventListener('click', () => (run.status === 'succeeded' ? this.show(run.id) : ((this.tracked = run.id), this.renderProgress(), run.error && this.showError(`Run #${run.id} failed: ${run.error}`))));
      this.history.append(row);
    }
    this.renderCompareOptions();
  }

  renderCompareOptions() {
    const shownId = this.shown && this.shown.run ? this.shown.run.id : null;
    const options = [...this.runs.values()].filter((r) => r.status === 'succeeded' && r.id !== shownId).sort((a, b) => b.id - a.id);
    const here = this.editor.layout.id;
    this.compareSel.replaceChildren(
      h('option', { value: '' }, shownId ? `Compare run #${shownId} with…` : 'Compare with…'),
      ...options.map((r) => h('option', { value: r.id }, runLabel(r, r.layout === here ? 'this layout' : this.layoutNames.get(r.layout) || (r.layout === (this.editor.factory || {}).baseline_layout ? 'baseline' : `layout ${r.layout}`)))),
    );
    this.compareSel.disabled = !shownId || !options.length;
  }

  // ---- actions -----------------------------------------------------------------------------------------
  async submit() {
    if (!this.canRun) return;
    this.hideError();
    const body = this.form.read();
    if (!body) return;
    this.runBtn.disabled = true;
    try {
      const run = await SimApi.create({ layout: this.editor.layout.id, ...body });
      this.merge(run);
      this.tracked = run.id;
      this.form.fill(run.params);
      this.renderProgress();
      this.renderHistory();
    } catch (err) {
      this.form.showServerErrors(err.body);
      const asset = err.body && err.body.asset;
      const id = asset && (asset.id ?? asset);
      this.showError(err.message, typeof id === 'number' && this.editor.assets.has(id) ? id : null);
    } finally {
      this.runBtn.disabled = !this.canRun;
    }
  }

  async cancel() {
    const id = this.tracked;
    if (id === null) return;
    this.cancelBtn.disabled = true;
    try {
      const run = await SimApi.cancel(id);
      this.merge(run);
      this.renderProgress();
      this.renderHistory();
    } catch (err) {
      this.showError(`Cancel failed: ${err.message}`);
    } finally {
      this.cancelBtn.disabled = false;
    }
  }

  async fetchFull(id) {
    if (this.full.has(id)) return this.full.get(id);
    const run = await SimApi.get(id);
    this.full.set(id, run);
    this.merge(run);
    return run;
  }

  async show(id) {
    try {
      const run = await this.fetchFull(id);
      if (!run.results) return;
      this.replaceShown(new ResultsView({ editor: this.editor, view: this.view, overlay: this.overlay, run, overlayOn: this.overlayOn, onOverlayToggle: (on) => (this.overlayOn = on) }));
      this.form.suggestWarmup(run.results.warmup_suggested_s);
      if (this.el.hidden) this.overlay.hide();
    } catch (err) {
      this.showError(`Could not load run #${id}: ${err.message}`);
    }
  }

  async compare(otherId) {
    const base = this.shown && this.shown.run;
    if (!otherId || !base) return;
    try {
      const other = await this.fetchFull(otherId);
      const name = (r) => (r.layout === this.editor.layout.id ? 'this layout' : this.layoutNames.get(r.layout) || `layout ${r.layout}`);
      const view = new CompareView({ a: other, b: base, labelA: runLabel(other, name(other)), labelB: runLabel(base, name(base)), onClose: () => this.show(base.id) });
      view.run = base;
      this.replaceShown(view);
      this.overlay.hide();
    } catch (err) {
      this.showError(`Could not compare: ${err.message}`);
    }
  }

  replaceShown(next) {
    if (this.shown) this.shown.destroy();
    this.shown = next;
    this.body.replaceChildren(next.el);
    next.mounted();
    this.renderHistory();
  }

  showError(message, assetId = null) {
    this.error.replaceChildren(h('span', {}, message));
    if (assetId !== null) {
      const btn = h('button', { class: 'small-btn', testid: 'sim-error-asset' }, 'Show the asset');
      btn.addEventListener('click', () => {
        this.editor.select([assetId]);
        this.view.frameAssets([assetId]);
      });
      this.error.append(btn);
      this.editor.select([assetId]);
    }
    this.error.hidden = false;
  }

  hideError() {
    this.error.hidden = true;
    clear(this.error);
  }
}
