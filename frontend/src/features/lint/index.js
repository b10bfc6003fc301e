// Layout checks in the workspace (CONTRACT §11). The server's GET /api/layouts/{id}/lint/ is the judge: its
// issues are listed with "go to", kept current as the room changes the layout, and its overlaps outlined in
// red. While a machine is dragged, the same footprint rule runs here (editor/footprints.js, the twin of
// twins/services/lint.py) so the outline appears and clears under the pointer, before anything is saved.
import '../../styles/features-lint.css';
import { Signal } from '../../util/Signal.js';
import { request } from '../../network/Api.js';
import { assetFootprint, overlapsOf } from '../../editor/footprints.js';
import { ProblemOutline } from '../../scene/Overlays.js';
import { LintPanel } from './panel.js';

const REFRESH_MS = 600;

export class LayoutChecks {
  constructor({ editor, view }) {
    this.editor = editor;
    this.view = view;
    this.issues = [];
    this.loaded = false;
    this.changed = new Signal();
    this.dragPairs = null; // [[id, id]] while a drag previews, from the client-side rule
    this.dragIds = new Set();
    this.outline = new ProblemOutline();
    view.scene.add(this.outline.object);
    const s = editor.signals;
    // The first check waits for the first frame: on a big plant it is a second request the page need not wait for.
    this.started = false;
    view.afterFirstFrame.push(() => {
      this.started = true;
      this.refreshSoon(REFRESH_MS);
    });
    s.sceneLoaded.add(() => this.started && this.refreshSoon(0));
    s.contentChanged.add(() => this.refreshSoon());
    s.savingChanged.add((n) => n === 0 && this.refreshSoon());
    s.modeChanged.add((mode, extra = {}) => {
      if (extra.poses) this.dragged(extra.poses);
      else if (extra.dragging === false) this.dropped();
    });
    // Remote moves animate and local previews redraw: the outline follows the drawn poses.
    s.assetChanged.add(() => this.drawSoon());
    s.assetPreview.add(() => this.drawSoon());
    s.assetRemoved.add(() => this.drawSoon());
  }

  refreshSoon(delay = REFRESH_MS) {
    if (!this.started) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), delay);
  }

  // The issues as the server has them now (the submit dialog asks for this before submitting).
  async refresh() {
    const layout = this.editor.layout;
    if (!layout) return this.issues;
    const seq = this.editor.seq;
    try {
      const data = await request('GET', `/api/layouts/${layout.id}/lint/`);
      this.issues = data.issues || [];
      this.loaded = true;
      this.error = null;
      this.checkedAt = seq;
    } catch (err) {
      this.error = err.message;
    }
    if (!this.dragPairs) this.dragIds.clear();
    this.changed.dispatch(this.issues);
    this.draw();
    return this.issues;
  }

  solidFootprints(poses = new Map()) {
    const all = new Map();
    for (const a of this.editor.assets.values()) {
      const f = assetFootprint(a, this.editor.typeOf(a), poses.get(a.id) || this.view.assetMeshes.poseOf(a.id));
      if (f) all.set(a.id, f);
    }
    return all;
  }

  dragged(poses) {
    const byId = new Map(poses.map((p) => [p.id, p]));
    const moving = new Map();
    for (const p of poses) {
      const a = this.editor.assets.get(p.id);
      const f = assetFootprint(a, this.editor.typeOf(a), p);
      if (f) moving.set(p.id, f);
    }
    this.dragIds = new Set(byId.keys());
    this.dragPairs = overlapsOf(moving, this.solidFootprints(byId));
    this.draw();
  }

  // Until the server's answer comes back, the dropped assets keep the client-side verdict.
  dropped() {
    this.dragPairs = null;
    if (!this.dragIds.size) return;
    const moving = new Map();
    const all = this.solidFootprints();
    for (const id of this.dragIds) if (all.has(id)) moving.set(id, all.get(id));
    this.localPairs = overlapsOf(moving, all);
    this.draw();
    this.refreshSoon(REFRESH_MS / 2);
  }

  // Ids outlined in red: the server's overlaps, except for what is being (or was just) moved, for which the
  // client-side rule answers.
  overlapIds() {
    const ids = new Set();
    const local = this.dragPairs || (this.dragIds.size ? this.localPairs || [] : []);
    for (const issue of this.issues) {
      if (issue.kind !== 'overlap') continue;
      if (issue.assets.some((id) => this.dragIds.has(id))) continue;
      for (const id of issue.assets) ids.add(id);
    }
    for (const pair of local) for (const id of pair) ids.add(id);
    return ids;
  }

  drawSoon() {
    if (this.drawPending) return;
    this.drawPending = requestAnimationFrame(() => {
      this.drawPending = null;
      this.draw();
    });
  }

  draw() {
    const items = [];
    for (const id of this.overlapIds()) {
      const asset = this.editor.assets.get(id);
      if (asset) items.push({ pose: this.view.assetMeshes.poseOf(id), type: this.editor.typeOf(asset) });
    }
    this.outline.update(items);
    this.outlined = items.length;
    this.view.invalidate();
  }

  goTo(issue) {
    const ids = issue.assets.map((id) => this.editor.resolveId(id)).filter((id) => this.editor.assets.has(id));
    if (!ids.length) return;
    this.editor.select(ids);
    this.view.frameAssets(ids);
  }
}

export function setupLayoutChecks({ editor, view, ui, hooks }) {
  const checks = new LayoutChecks({ editor, view });
  const panel = new LintPanel({ checks, ui });
  hooks.lint = {
    checks,
    panel,
    issues: () => checks.issues,
    refresh: () => checks.refresh(),
    outlined: () => [...checks.overlapIds()],
  };
  return checks;
}
