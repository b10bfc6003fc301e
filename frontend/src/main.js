// Composition root: reads the page from <body data-page>, builds the parts and wires them. Nothing else.
import './styles/main.css';
import * as THREE from 'three';
import { VRButton } from 'three/addons/webxr/VRButton.js';
import { Api } from './network/Api.js';
import { Transport } from './network/Transport.js';
import { Editor } from './editor/Editor.js';
import * as Commands from './editor/commands/index.js';
import { SceneView } from './scene/SceneView.js';
import { Picking } from './scene/Picking.js';
import { Gizmo } from './scene/Gizmo.js';
import { Interaction } from './scene/Interaction.js';
import { BodyDrag } from './scene/BodyDrag.js';
import { snapping } from './scene/Snap.js';
import { WalkControls } from './scene/WalkControls.js';
import { Models } from './scene/Models.js';
import { screenshot, exportGltf } from './scene/Exporters.js';
import { renderLogin } from './ui/LoginPage.js';
import { renderHome } from './ui/HomePage.js';
import { buildWorkspace } from './ui/Workspace.js';
import { Notices } from './ui/Notices.js';
import { Inspector } from './ui/Inspector.js';
import { Palette } from './ui/Palette.js';
import { HelpPanel } from './ui/HelpPanel.js';
import { Viewpoints } from './ui/Viewpoints.js';
import { Minimap } from './ui/Minimap.js';
import { Compass } from './ui/Compass.js';
import { Legend } from './ui/Legend.js';
import { installShortcuts } from './ui/Shortcuts.js';
import { h } from './util/dom.js';
import { setupCollaboration } from './ui/Collaboration.js';
import { setupReview, mountScenarioLists } from './features/review/index.js';
import { setupSimulationAndTwins } from './features/simulation/index.js';
import { setupExperiments } from './features/experiments/index.js';
import { setupForecastAndCalibration } from './features/forecast/index.js';
import { setupLayoutChecks } from './features/lint/index.js';

const { DeleteAssetCommand, DeleteConnectionCommand, DuplicateAssetCommand, MoveAssetCommand, RotateAssetCommand, MultiCommand } = Commands;

function readBody() {
  const body = document.body;
  let user = null;
  try {
    user = JSON.parse(body.dataset.user || 'null');
  } catch {
    user = null;
  }
  const fromPath = location.pathname.match(/\/layouts\/(\d+)/);
  return { page: body.dataset.page || (fromPath ? 'layout' : 'home'), user, layoutId: Number(body.dataset.layoutId || (fromPath && fromPath[1])) };
}

function boot() {
  const root = document.getElementById('app') || document.body.appendChild(h('div', { id: 'app' }));
  const { page, user, layoutId } = readBody();
  document.documentElement.dataset.page = page;
  if (page === 'login') return renderLogin(root);
  if (page === 'layout') return startWorkspace(root, user, layoutId);
  return renderHome(root, user).then(() => mountScenarioLists(root));
}

async function startWorkspace(root, user, layoutId) {
  const timings = { start: performance.now() };
  // Ask for the scene first: the download overlaps with building the UI and the WebGL contexts.
  const loading = Api.scene(layoutId);
  loading.catch(() => {});
  const transport = new Transport();
  const editor = new Editor({ transport, user });
  editor.typeLoader = () => Api.listAll('/api/asset-types/');
  let view;
  let gizmo;
  let walk;
  let help;
  let viewpoints;
  let minimap;
  let interaction;
  let resolveReady;
  const ready = new Promise((resolve) => (resolveReady = resolve));

  const selected = () => editor.selection.filter((id) => editor.assets.has(id));
  const actions = {
    undo: () => editor.undo(),
    redo: () => editor.redo(),
    selectMode: () => editor.setMode('select'),
    translateMode: () => {
      editor.setMode('select');
      gizmo.setMode('translate');
    },
    rotateMode: () => {
      editor.setMode('select');
      gizmo.setMode('rotate');
    },
    connectMode: () => {
      if (!editor.canEdit) return editor.notify(editor.readOnlyReason, 'warn');
      editor.setMode(editor.mode === 'connect' ? 'select' : 'connect');
    },
    duplicate: () => selected().length && editor.execute(new DuplicateAssetCommand(editor, selected())),
    remove: () => {
      if (editor.selectedConnection !== null) return editor.execute(new DeleteConnectionCommand(editor, editor.selectedConnection));
      if (selected().length) return editor.execute(new DeleteAssetCommand(editor, selected()));
    },
    frame: () => (selected().length ? view.frameAssets(selected()) : view.frameAll()),
    frameAll: () => view.frameAll(),
    topView: () => {
      if (walk.active) walk.exit();
      view.topView();
    },
    walk: () => walk.toggle(),
    screenshot: () => screenshot(view, editor.layout ? editor.layout.name : 'layout'),
    exportGltf: () => exportGltf(view, editor.layout ? editor.layout.name : 'layout').catch((err) => editor.notify(`Export failed: ${err.message}`, 'error')),
    help: () => help.toggle(),
    enterVr: () => {},
    branch: () => openBranchDialog(),
    escape: () => {
      if (help.visible) return help.hide();
      if (walk.active) return walk.exit();
      if (editor.mode !== 'select') return editor.setMode('select');
      if (editor.selectedConnection !== null) return editor.selectConnection(null);
      editor.select([]);
    },
    selectAll: () => editor.select([...editor.assets.keys()]),
    saveViewpoint: (n) => {
      viewpoints.save(n);
      editor.notify(`Saved viewpoint ${n}.`, 'info');
    },
    goViewpoint: (n) => viewpoints.go(n - 1),
    toggleMinimap: () => minimap.setVisible(minimap.el.hidden),
    toggleLabels: () => {
      view.labels.visible = !view.labels.visible;
      view.invalidate();
    },
    toggleSnap: () => {
      snapping.set(!snapping.enabled);
      editor.notify(snapping.enabled ? 'Snapping to the 0.5 m grid.' : 'Grid snapping off: assets move freely.', 'info');
    },
    rotateBy: (deg) => {
      const ids = selected();
      if (!ids.length) return;
      const cmds = ids.map((id) => new RotateAssetCommand(editor, id, editor.assets.get(id).rotation_deg + deg));
      editor.execute(cmds.length === 1 ? cmds[0] : new MultiCommand(editor, cmds, 'Rotate'));
    },
    nudge: (dx, dz, big) => {
      const ids = selected();
      if (!ids.length) return;
      const step = big ? 5 : 0.5;
      const cmds = ids.map((id) => {
        const a = editor.assets.get(id);
        return new MoveAssetCommand(editor, id, { x: a.x + dx * step, z: a.z + dz * step });
      });
      editor.execute(cmds.length === 1 ? cmds[0] : new MultiCommand(editor, cmds, 'Move'));
    },
  };

  const ui = buildWorkspace(root, { user, actions });
  new Notices(ui.viewport, editor);
  const models = new Models({ onError: (m) => editor.notify(m, 'warn') });
  view = new SceneView(ui.viewport, editor, { models });
  const picking = new Picking(view);
  gizmo = new Gizmo(view, editor);
  interaction = new Interaction(view, editor, picking, gizmo);
  const bodyDrag = new BodyDrag(view, editor, picking, gizmo);
  walk = new WalkControls(view);
  walk.onChange = (on) => {
    ui.buttons.walk.classList.toggle('active', on);
    gizmo.setHidden(on);
    ui.modeHint.hidden = !on;
    ui.modeHint.textContent = on ? 'Walking: W A S D to move, mouse to look (click the view to capture it), Shift to run, Esc to leave.' : '';
  };
  new Inspector(ui.inspector, editor);
  new Palette(ui.palette, editor, { dropOnViewport: (type, x, y) => interaction.placeAt(type, x, y), viewportEl: ui.viewport });
  help = new HelpPanel(ui.viewport);
  new Compass(ui.overlays, view);
  minimap = new Minimap(ui.overlays, editor, view);
  installShortcuts(actions, { isWalking: () => walk.active });

  bindToolbar(editor, ui, gizmo);

  function openBranchDialog() {
    if (!editor.canBranch) return editor.notify('Engineers and up can branch a layout.', 'warn');
    const existing = ui.viewport.querySelector('.branch-dialog');
    if (existing) return existing.querySelector('input').focus();
    const input = h('input', { testid: 'branch-name', value: `${editor.layout.name} (branch)`, 'aria-label': 'Name of the new draft' });
    const ok = h('button', { class: 'primary', testid: 'branch-confirm' }, 'Create draft');
    const cancel = h('button', { testid: 'branch-cancel' }, 'Cancel');
    const dlg = h('div', { class: 'branch-dialog', role: 'dialog', testid: 'branch-dialog' }, h('h3', {}, 'Branch this layout'), h('p', { class: 'muted small' }, 'Creates an editable draft copy; this layout stays as it is.'), input, h('div', { class: 'actions' }, cancel, ok));
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') ok.click();
      if (e.key === 'Escape') dlg.remove();
    });
    cancel.addEventListener('click', () => dlg.remove());
    ok.addEventListener('click', async () => {
      ok.disabled = true;
      try {
        const draft = await Api.branch(editor.layout.id, input.value.trim() || `${editor.layout.name} (branch)`);
        location.assign(`/layouts/${draft.id}/`);
      } catch (err) {
        ok.disabled = false;
        editor.notify(`Branch failed: ${err.message}`, 'error');
      }
    });
    ui.viewport.appendChild(dlg);
    input.focus();
    input.select();
  }

  // Page hooks for tests and benchmarks (CONTRACT §6).
  const hooks = {
    editor,
    view,
    timings,
    commands: Commands,
    api: Api,
    ready,
    get camera() {
      return view.camera;
    },
    get controls() {
      return view.controls;
    },
    get renderer() {
      return view.renderer;
    },
    get scene() {
      return view.scene;
    },
    stats: () => view.stats(),
    selectAsset: (id) => {
      editor.select(id === null ? [] : [id]);
      view.invalidate();
      return editor.selection;
    },
    selectConnection: (id) => editor.selectConnection(id),
    assetScreenPosition: (id) => view.screenPosition(id),
    connectionScreenPosition: (id) => {
      const m = view.connections.midpoint(editor.resolveConnId(id));
      return m ? view.worldToScreen(m.x, 0.5, m.z) : null;
    },
    worldToScreen: (x, y, z) => view.worldToScreen(x, y, z),
    floorAt: (clientX, clientY) => {
      const p = picking.floor(clientX, clientY);
      return p ? { x: p.x, z: p.z } : null;
    },
    gizmoHandleScreenPosition: (axis) => gizmo.handleScreenPosition(axis),
    get dragging() {
      return bodyDrag.dragging || gizmo.dragging;
    },
    snapping: () => snapping.enabled,
    setGizmoMode: (mode) => gizmo.setMode(mode),
    frameAssets: (ids) => view.frameAssets(ids, false),
    frameAll: () => view.frameAll(false),
    topView: () => view.topView(false),
    // Turns the orbit camera about the vertical axis through its target (benchmarks: "fps while orbiting").
    orbit: (radians = 0.05) => {
      const t = view.controls.target;
      view.camera.position.sub(t).applyAxisAngle(new THREE.Vector3(0, 1, 0), radians).add(t);
      view.camera.lookAt(t);
      view.controls.update();
      view.invalidate();
    },
    lookAt: (position, target) => view.flyTo(new THREE.Vector3(...position), new THREE.Vector3(...target), false),
    findAsset: (name) => [...editor.assets.values()].find((a) => a.name === name) || null,
    addAsset: (typeName, x, z) => {
      const t = editor.typeByName(typeName);
      if (!t) throw new Error(`No asset type ${typeName}`);
      return interaction.addAsset(t, x, z);
    },
    undo: () => editor.undo(),
    redo: () => editor.redo(),
    idle: () => editor.history.queue.then(() => Promise.all([...editor.queues.values()])),
    walk: () => walk.enter(),
    stopWalking: () => walk.exit(),
    screenshotDataUrl: () => view.screenshot(),
    exportGltf: () => exportGltf(view, 'layout'),
  };
  window.metaverse = hooks;

  let scene;
  // Compile shaders while the payload downloads.
  await new Promise((r) => setTimeout(r, 0));
  view.warmup();
  timings.warmupMs = view.warmupMs;
  try {
    scene = await loading;
    timings.fetched = performance.now();
  } catch (err) {
    ui.loading.replaceChildren(h('div', { class: 'form-error', testid: 'load-error' }, err.status === 404 ? 'This layout does not exist or you are not a member of its factory.' : `Could not load the layout: ${err.message}`), h('a', { href: '/' }, 'Back to my factories'));
    if (err.status === 401 || err.status === 403) location.assign(`/login/?next=${encodeURIComponent(location.pathname)}`);
    return;
  }
  editor.load(scene);
  timings.built = performance.now();
  viewpoints = new Viewpoints(ui.sidePanels, view, layoutId);
  document.title = `${editor.layout.name} · ${editor.factory.name || 'Factory'} · Industrial Metaverse`;
  view.afterFirstFrame.push(() => {
    timings.firstFrame = performance.now();
    timings.firstRenderMs = view.firstRenderMs;
    timings.programs = view.renderer.info.programs ? view.renderer.info.programs.length : null;
    ui.loading.remove();
    document.documentElement.dataset.sceneReady = 'true';
    resolveReady(view.stats()); // plain JSON, so `await window.metaverse.ready` serialises in tests
  });
  timings.startLoop = performance.now();
  view.start();
  setupVr(view, ui, editor);
  setupCollaboration({ editor, view, ui, transport, user, layoutId, hooks, gizmo });
  setupLayoutChecks({ editor, view, ui, hooks });
  setupReview({ editor, view, ui, transport, user, layoutId, hooks });
  const { simulation } = setupSimulationAndTwins({ editor, view, ui, transport, user, layoutId, hooks });
  hooks.legend = new Legend(ui.overlays, editor, simulation.overlay);
  hooks.legend.render();
  setupExperiments({ editor, ui, hooks });
  setupForecastAndCalibration({ editor, ui, hooks });
}

function bindToolbar(editor, ui, gizmo) {
  const b = ui.buttons;
  const s = editor.signals;
  const refresh = () => {
    const canEdit = editor.canEdit;
    document.body.classList.toggle('readonly', !canEdit);
    b.undo.disabled = !canEdit || !editor.history.canUndo;
    b.redo.disabled = !canEdit || !editor.history.canRedo;
    const hasSel = editor.selection.length > 0;
    b.duplicate.disabled = !canEdit || !hasSel;
    b.delete.disabled = !canEdit || (!hasSel && editor.selectedConnection === null);
    for (const k of ['move', 'rotate', 'connect', 'select', 'snap']) b[k].disabled = !canEdit;
    b.connect.classList.toggle('active', editor.mode === 'connect');
    b.snap.classList.toggle('active', snapping.enabled);
    b.snap.setAttribute('aria-pressed', String(snapping.enabled));
    b.select.classList.toggle('active', editor.mode === 'select');
    b.move.classList.toggle('active', gizmo.mode === 'translate');
    b.rotate.classList.toggle('active', gizmo.mode === 'rotate');
    b.branch.hidden = !editor.canBranch;
    const reason = editor.readOnlyReason;
    ui.readOnlyBanner.hidden = !reason || !editor.layout;
    ui.readOnlyBanner.textContent = reason;
    if (editor.layout) {
      ui.title.textContent = editor.layout.name;
      ui.factoryName.textContent = editor.factory.name || 'Factory';
      ui.statusChip.textContent = editor.layout.status.replace('_', ' ');
      ui.statusChip.className = `chip status-${editor.layout.status}`;
      ui.roleChip.textContent = editor.role;
    }
    ui.statusLeft.textContent = editor.layout
      ? `${editor.assets.size} assets · ${editor.connections.size} connections` + (hasSel ? ` · ${editor.selection.length} selected` : '') + (editor.selectedConnection !== null ? ' · connection selected' : '')
      : '';
  };
  snapping.changed.add(refresh);
  for (const name of ['sceneLoaded', 'historyChanged', 'selectionChanged', 'layoutChanged', 'assetAdded', 'assetRemoved', 'connectionAdded', 'connectionRemoved']) s[name].add(refresh);
  s.modeChanged.add((mode, extra = {}) => {
    refresh();
    if (extra.dragging !== undefined) return;
    const hint =
      mode === 'connect'
        ? editor.connectSource !== null && editor.connectSource !== undefined
          ? `Connect: now click the target asset (from ${editor.assets.get(editor.connectSource)?.name || '?'}). Esc to stop.`
          : 'Connect: click the source asset, then the target. Esc to stop.'
        : mode === 'place'
          ? `Click the floor to place a ${editor.placeType ? editor.placeType.name : 'asset'}. Esc to cancel.`
          : '';
    ui.modeHint.hidden = !hint;
    ui.modeHint.textContent = hint;
  });
  s.savingChanged.add((n) => {
    ui.savingEl.textContent = n > 0 ? 'Saving…' : 'Saved';
    ui.savingEl.classList.toggle('busy', n > 0);
  });
  refresh();
  setInterval(() => {
    if (!window.metaverse || !window.metaverse.view) return;
    const st = window.metaverse.view.stats();
    ui.statusRight.textContent = `${st.fps} fps · ${st.drawCalls} draw calls · ${(st.triangles / 1000).toFixed(0)}k triangles`;
  }, 1000);
}

function setupVr(view, ui, editor) {
  if (!('xr' in navigator) || !navigator.xr || !window.isSecureContext) return;
  navigator.xr
    .isSessionSupported('immersive-vr')
    .then((ok) => {
      if (!ok) return;
      view.renderer.xr.enabled = true;
      view.renderer.xr.setReferenceSpaceType('local-floor');
      const button = VRButton.createButton(view.renderer, { optionalFeatures: ['local-floor', 'bounded-floor'] });
      button.dataset.testid = 'enter-vr';
      button.classList.add('vr-button');
      ui.viewport.appendChild(button);
      view.renderer.xr.addEventListener('sessionstart', () => {
        // Stand at the point the camera was looking at, at real scale.
        const t = view.controls.target;
        const base = view.renderer.xr.getReferenceSpace();
        if (base && window.XRRigidTransform) view.renderer.xr.setReferenceSpace(base.getOffsetReferenceSpace(new XRRigidTransform({ x: -t.x, y: 0, z: -t.z })));
        editor.notify('Entered VR at real scale.', 'info');
      });
    })
    .catch(() => {});
}

boot();
