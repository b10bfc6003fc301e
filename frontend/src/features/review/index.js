// Layout review in the browser: compare mode (3D diff + list), KPI comparison, comments pinned in 3D,
// workflow buttons, a presenter tour and the printable review pack. Mounted by main.js after the room.
import '../../styles/features-review.css';
import { h } from '../../util/dom.js';
import { Signal } from '../../util/Signal.js';
import { ICONS } from '../../ui/icons.js';
import { ReviewApi } from './api.js';
import { Drawer } from './Drawer.js';
import { ChangesPanel } from './ChangesPanel.js';
import { KpiPanel } from './KpiPanel.js';
import { CommentsPanel } from './CommentsPanel.js';
import { WorkflowBar } from './WorkflowBar.js';
import { Presenter } from './Presenter.js';
import { renderReviewPack } from './ReviewPack.js';

export { mountScenarioLists } from './ScenarioList.js';

// Which layout we compare with, shared by the changes and the KPI panels.
class ReviewState {
  constructor(editor, requested) {
    this.editor = editor;
    this.layouts = [];
    this.againstChanged = new Signal();
    this.layoutsLoaded = new Signal();
    const l = editor.layout;
    const baseline = editor.factory ? editor.factory.baseline_layout : null;
    this.baselineId = baseline;
    this.against = requested || (baseline && baseline !== l.id ? baseline : l.parent || null);
  }

  async loadLayouts() {
    try {
      this.layouts = await ReviewApi.layouts(this.editor.layout.factory);
    } catch {
      this.layouts = [];
    }
    this.layoutsLoaded.dispatch(this.layouts);
  }

  setAgainst(id) {
    if (id === this.against) return;
    this.against = id;
    this.againstChanged.dispatch(id);
  }

  againstName() {
    const l = this.layouts.find((x) => x.id === this.against);
    return l ? l.name : this.against ? `layout ${this.against}` : 'nothing';
  }
}

const svg = (d) => `<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${d}</svg>`;
const ICON = {
  compare: svg('<rect x="3" y="5" width="8" height="14" rx="1.5" stroke-dasharray="2.5 2"/><rect x="13" y="5" width="8" height="14" rx="1.5"/><path d="M9 12h6M13 10l2 2-2 2"/>'),
  kpi: svg('<path d="M4 20V10M10 20V4M16 20v-7M22 20H2"/>'),
  comments: ICONS.chat,
  pack: svg('<path d="M6 9V3h12v6M6 18H4a1 1 0 01-1-1v-6a2 2 0 012-2h14a2 2 0 012 2v6a1 1 0 01-1 1h-2"/><rect x="6" y="14" width="12" height="7"/>'),
};

function tool(testid, icon, label, text = '') {
  return h('button', { class: 'tool rv-tool', testid, title: label, 'aria-label': label, html: ICON[icon] || '' }, text ? h('span', { class: 'tool-text' }, text) : null);
}

export function setupReview({ editor, view, ui, user, hooks }) {
  const socket = hooks.socket || null;
  const notify = (message, level = 'info') => editor.notify(message, level);
  const params = new URLSearchParams(location.search);
  const state = new ReviewState(editor, Number(params.get('against')) || null);

  const drawer = new Drawer(ui.overlays);
  const insetLeft = () => (drawer.visible ? drawer.el.getBoundingClientRect().right - view.renderer.domElement.getBoundingClientRect().left : 0);
  const changes = new ChangesPanel({ editor, view, state, notify, insetLeft });
  const kpi = new KpiPanel({ editor, state, notify });
  const comments = new CommentsPanel({ editor, view, viewport: ui.viewport, user, notify, stopFollow: () => hooks.stopFollow && hooks.stopFollow() });
  const presenter = new Presenter({ editor, socket, hooks, changes, comments });
  drawer.add('changes', 'Changes', [changes.el, presenter.el]);
  drawer.add('kpis', 'KPIs', kpi.el);
  drawer.add('comments', 'Comments', comments.el);
  comments.onCount = (open, total) => {
    drawer.setLabel('comments', total ? `Comments (${open})` : 'Comments');
    badge.textContent = String(open);
    badge.hidden = !open;
  };

  // ---- top bar: compare / comments / review pack, then the workflow buttons ----------------------------------
  const compareBtn = tool('compare-toggle', 'compare', 'Compare with another layout: ghosts and a list of the changes', 'Compare');
  const commentsBtn = tool('comments-toggle', 'comments', 'Comments pinned in 3D');
  const kpiBtn = tool('kpi-toggle', 'kpi', 'KPI comparison');
  const packBtn = tool('review-pack', 'pack', 'Review pack: a printable page (Print / PDF)');
  const badge = h('span', { class: 'badge-count rv-badge', testid: 'comments-open-count', hidden: true }, '0');
  commentsBtn.appendChild(badge);
  const group = h('div', { class: 'toolgroup rv-tools' }, compareBtn, kpiBtn, commentsBtn, packBtn);
  ui.buttons.branch.parentNode.insertBefore(group, ui.buttons.branch);
  let comparing = false;
  const setCompare = (on) => {
    comparing = on;
    compareBtn.classList.toggle('active', on);
    compareBtn.setAttribute('aria-pressed', String(on));
    changes.setActive(on);
    if (on && drawer.current !== 'changes') drawer.show('changes');
  };
  compareBtn.addEventListener('click', () => setCompare(!comparing));
  commentsBtn.addEventListener('click', () => (drawer.current === 'comments' ? drawer.hide() : drawer.show('comments')));
  kpiBtn.addEventListener('click', () => (drawer.current === 'kpis' ? drawer.hide() : drawer.show('kpis')));
  packBtn.addEventListener('click', () => window.open(`${location.pathname}?view=review-pack${state.against ? `&against=${state.against}` : ''}`, '_blank'));
  drawer.onShow = (key) => {
    commentsBtn.classList.toggle('active', key === 'comments');
    kpiBtn.classList.toggle('active', key === 'kpis');
    if (key === 'kpis' && !kpi.data) kpi.refresh();
  };

  const workflow = new WorkflowBar({
    editor,
    anchor: ui.buttons.branch,
    socket,
    notify,
    checks: hooks.lint ? { refresh: () => hooks.lint.refresh(), show: () => hooks.lint.panel.toggle(true) } : null,
    onTransition: (layout) => {
      if (layout.status === 'approved') state.baselineId = layout.id;
      state.loadLayouts();
    },
  });
  ui.overlays.appendChild(workflow.reason);

  // ---- live comments: the room's `comment` frames (the socket has no signal for them yet) --------------------
  if (socket) {
    const handle = socket.handle.bind(socket);
    socket.handle = (m) => (m && m.type === 'comment' ? comments.onEvent(m) : handle(m));
    socket.signals.welcome.add((m, reconnect) => reconnect && comments.load());
    // A run of this layout finished elsewhere (e.g. the simulation panel): the comparison may have changed.
    socket.signals.simProgress.add((m) => {
      if (m.status === 'succeeded' && !kpi.running && kpi.data) kpi.refresh();
    });
  }

  state.loadLayouts();
  comments.load();

  hooks.review = {
    state,
    changes,
    kpi,
    comments,
    workflow,
    presenter,
    drawer,
    setCompare,
    get comparing() {
      return comparing;
    },
    setAgainst: (id) => state.setAgainst(id),
    diffItems: () => changes.items.map((it) => ({ kind: it.kind, title: it.title, detail: it.detail, uid: it.entry.uid || null })),
    goToChange: (i, animate = false) => changes.go(i, animate) && true,
    goToComment: (id, animate = true) => comments.goTo(id, animate),
    runBoth: (overrides) => kpi.runBoth(overrides),
    comparison: () => kpi.data,
    comments: () => [...comments.comments.values()],
  };

  if (params.get('view') === 'review-pack') {
    (hooks.ready || Promise.resolve()).then(() => renderReviewPack({ editor, view, state, changes, kpi, comments, user })).catch((err) => notify(`Review pack failed: ${err.message}`, 'error'));
  } else if (params.get('compare') === '1') {
    setCompare(true);
  }
  return hooks.review;
}
