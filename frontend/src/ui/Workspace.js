// The workspace's DOM: top bar with tools, catalogue on the left, viewport in the middle, inspector on
// the right, status bar below. Buttons call the actions the composition root hands in.
import { h } from '../util/dom.js';
import { ICONS } from './icons.js';
import { userBar } from './HomePage.js';

function tool(testid, icon, label, onClick, extra = {}) {
  const b = h('button', { class: 'tool', testid, title: label, 'aria-label': label, html: ICONS[icon] || '', ...extra });
  if (extra.text) b.append(h('span', { class: 'tool-text' }, extra.text));
  b.addEventListener('click', (e) => {
    e.preventDefault();
    onClick(e);
    b.blur();
  });
  return b;
}

export function buildWorkspace(root, { user, actions }) {
  const a = actions;
  const buttons = {
    undo: tool('undo', 'undo', 'Undo (Ctrl+Z)', a.undo),
    redo: tool('redo', 'redo', 'Redo (Ctrl+Shift+Z)', a.redo),
    select: tool('select-mode', 'select', 'Select (Esc)', a.selectMode),
    move: tool('gizmo-translate', 'move', 'Move gizmo (G)', a.translateMode),
    rotate: tool('gizmo-rotate', 'rotate', 'Rotate gizmo (R or Shift+R turns by 15°)', a.rotateMode),
    connect: tool('connect', 'connect', 'Connect: click source, then target (C)', a.connectMode),
    snap: tool('snap-grid', 'grid', 'Snap to the 0.5 m grid (#); Alt while dragging moves freely', a.toggleSnap),
    duplicate: tool('duplicate', 'duplicate', 'Duplicate (Ctrl+D)', a.duplicate),
    delete: tool('delete', 'delete', 'Delete (Del)', a.remove),
    frame: tool('frame', 'frame', 'Frame selection (F)', a.frame),
    top: tool('top-view', 'top', 'Top view (T)', a.topView),
    walk: tool('walk', 'walk', 'Walk (V) — WASD + mouse, Esc to leave', a.walk),
    screenshot: tool('screenshot', 'camera', 'Screenshot PNG (P)', a.screenshot),
    exportGltf: tool('export-gltf', 'export', 'Export layout as glTF (.glb)', a.exportGltf),
    help: tool('help', 'help', 'Keyboard shortcuts (?)', a.help),
    branch: h('button', { class: 'primary branch-btn', testid: 'branch', hidden: true }, h('span', { html: ICONS.branch }), 'Branch to edit'),
  };
  buttons.branch.addEventListener('click', a.branch);
  const title = h('span', { class: 'layout-name', testid: 'layout-name' }, '…');
  const factoryName = h('a', { class: 'crumb', href: '/', testid: 'factory-name' }, '…');
  const statusChip = h('span', { class: 'chip', testid: 'layout-status' });
  const roleChip = h('span', { class: 'chip role', testid: 'my-role' });
  const connBanner = h('span', { class: 'conn-state offline', testid: 'connection-state', title: 'Realtime connection' }, 'offline');
  const savingEl = h('span', { class: 'saving', testid: 'saving-state' }, 'Saved');
  const topbar = h(
    'header',
    { class: 'topbar ws-topbar' },
    h('a', { class: 'brand compact', href: '/', title: 'Home', html: '<span class="logo"></span>' }),
    h('div', { class: 'crumbs' }, factoryName, h('span', { class: 'sep' }, '/'), title, statusChip, roleChip),
    h('div', { class: 'toolgroup edit-tools' }, buttons.undo, buttons.redo),
    h('div', { class: 'toolgroup edit-tools' }, buttons.select, buttons.move, buttons.rotate, buttons.snap, buttons.connect, buttons.duplicate, buttons.delete),
    h('div', { class: 'toolgroup' }, buttons.frame, buttons.top, buttons.walk),
    h('div', { class: 'toolgroup' }, buttons.screenshot, buttons.exportGltf, buttons.help),
    h('div', { class: 'spacer' }),
    buttons.branch,
    savingEl,
    connBanner,
    userBar(user),
  );
  const palette = h('aside', { class: 'panel palette', testid: 'palette-panel' });
  const viewport = h('main', { class: 'viewport', testid: 'viewport-container' });
  const inspector = h('aside', { class: 'panel inspector', testid: 'inspector-panel' }, h('div', { class: 'panel-title' }, 'Inspector'));
  const sidePanels = h('div', { class: 'side-stack' });
  inspector.appendChild(sidePanels);
  const readOnlyBanner = h('div', { class: 'readonly-banner', testid: 'readonly-banner', hidden: true });
  const modeHint = h('div', { class: 'mode-hint', testid: 'mode-hint', hidden: true });
  const overlays = h('div', { class: 'overlays' }, readOnlyBanner, modeHint);
  viewport.appendChild(overlays);
  const statusLeft = h('span', { testid: 'status-text' });
  const statusRight = h('span', { class: 'muted', testid: 'stats-text' });
  const statusbar = h('footer', { class: 'statusbar' }, statusLeft, h('span', { class: 'spacer' }), statusRight);
  const loading = h('div', { class: 'loading', testid: 'loading' }, h('div', { class: 'spinner' }), h('div', {}, 'Loading layout…'));
  viewport.appendChild(loading);
  root.append(h('div', { class: 'workspace' }, topbar, h('div', { class: 'ws-body' }, palette, viewport, inspector), statusbar));
  return { buttons, title, factoryName, statusChip, roleChip, connBanner, savingEl, palette, viewport, inspector, sidePanels, overlays, readOnlyBanner, modeHint, statusLeft, statusRight, loading };
}
