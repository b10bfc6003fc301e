// Transform gizmo (TransformControls) on a proxy object at the selection, for precise moves: translate snaps
// to the grid (when snapping is on), rotate to 15°. While dragging it only previews; on release it executes
// one Move/Rotate command. It shows only in select mode, so that its handles never take a click meant for
// connect mode or placement.
import * as THREE from 'three';
import { TransformControls } from 'three/addons/controls/TransformControls.js';
import { MoveAssetCommand, RotateAssetCommand, MultiCommand, normDeg } from '../editor/commands/index.js';
import { GRID_SNAP, ANGLE_SNAP, snapping } from './Snap.js';

export { GRID_SNAP, ANGLE_SNAP };

export class Gizmo {
  constructor(view, editor) {
    this.view = view;
    this.editor = editor;
    this.proxy = new THREE.Object3D();
    this.proxy.name = 'GizmoProxy';
    view.scene.add(this.proxy);
    this.controls = new TransformControls(view.camera, view.renderer.domElement);
    this.controls.setTranslationSnap(snapping.enabled ? GRID_SNAP : null);
    snapping.changed.add((on) => this.controls.setTranslationSnap(on ? GRID_SNAP : null));
    this.controls.setRotationSnap(THREE.MathUtils.degToRad(ANGLE_SNAP));
    this.controls.setSize(0.9);
    this.controls.showY = false;
    this.helper = this.controls.getHelper();
    this.helper.name = 'GizmoHelper';
    view.scene.add(this.helper);
    this.mode = 'translate';
    this.dragging = false;
    this.start = null;
    this.controls.addEventListener('dragging-changed', (ev) => {
      view.controls.enabled = !ev.value;
      if (ev.value) this.begin();
      else this.end();
    });
    this.controls.addEventListener('objectChange', () => this.change());
    this.controls.addEventListener('change', () => view.invalidate());
    editor.signals.selectionChanged.add(() => this.attach());
    editor.signals.assetChanged.add((a) => {
      if (!this.dragging && editor.selection.includes(a.id)) this.attach();
    });
    editor.signals.assetRemoved.add(() => this.attach());
    editor.signals.layoutChanged.add(() => this.attach());
    editor.signals.modeChanged.add((mode, extra = {}) => extra.dragging === undefined && this.attach());
  }

  setMode(mode) {
    this.mode = mode;
    this.controls.setMode(mode);
    this.controls.showX = mode === 'translate';
    this.controls.showZ = mode === 'translate';
    this.controls.showY = mode === 'rotate';
    this.attach();
  }

  attach() {
    const ids = this.editor.selection;
    if (!this.editor.canEdit || !ids.length || this.hidden || this.editor.mode !== 'select' || (this.blocked && this.blocked(ids))) {
      this.controls.detach();
      this.helper.visible = false;
      this.view.invalidate();
      return;
    }
    const c = this.centroid(ids);
    // Sit on top of the tallest selected asset so the handles are never buried inside a machine.
    let top = 0;
    for (const id of ids) {
      const t = this.editor.typeOf(this.editor.assets.get(id));
      if (t) top = Math.max(top, Number(t.height_m) || 0);
    }
    this.proxy.position.set(c.x, top + 0.05, c.z);
    const first = this.editor.assets.get(ids[0]);
    this.proxy.rotation.set(0, ids.length === 1 && first ? THREE.MathUtils.degToRad(first.rotation_deg || 0) : 0, 0);
    this.controls.attach(this.proxy);
    this.helper.visible = true;
    this.view.invalidate();
  }

  // Screen position of a handle ('x', 'z' arrows or 'y' rotation ring), for tests and tours.
  handleScreenPosition(axis = 'x') {
    if (!this.helper.visible || !this.controls.object) return null;
    const cam = this.view.camera;
    const p = this.proxy.getWorldPosition(new THREE.Vector3());
    const factor = (p.distanceTo(cam.position) * Math.min((1.9 * Math.tan((Math.PI * cam.fov) / 360)) / cam.zoom, 7) * this.controls.size) / 4;
    const q = this.proxy.quaternion;
    let v;
    if (this.mode === 'rotate') v = new THREE.Vector3(0.5 * factor, 0, 0).applyQuaternion(q).add(p);
    else v = new THREE.Vector3(axis === 'z' ? 0 : 0.42 * factor, 0, axis === 'z' ? 0.42 * factor : 0).applyQuaternion(this.controls.space === 'local' ? q : new THREE.Quaternion()).add(p);
    return this.view.worldToScreen(v.x, v.y, v.z);
  }

  setHidden(hidden) {
    this.hidden = hidden;
    this.attach();
  }

  centroid(ids) {
    let x = 0;
    let z = 0;
    let n = 0;
    for (const id of ids) {
      const a = this.editor.assets.get(id);
      if (!a) continue;
      x += a.x;
      z += a.z;
      n++;
    }
    return n ? { x: x / n, z: z / n } : { x: 0, z: 0 };
  }

  begin() {
    this.dragging = true;
    this.start = {
      proxy: this.proxy.position.clone(),
      rot: this.proxy.rotation.y,
      assets: this.editor.selection.map((id) => ({ ...this.editor.assets.get(id) })).filter((a) => a.id),
    };
    this.editor.signals.modeChanged.dispatch(this.editor.mode, { dragging: true, ids: this.editor.selection });
  }

  // Pose of every selected asset for the current gizmo state (snapped).
  poses() {
    const s = this.start;
    const snap = (v) => snapping.grid(v);
    if (this.mode === 'translate') {
      const dx = this.proxy.position.x - s.proxy.x;
      const dz = this.proxy.position.z - s.proxy.z;
      return s.assets.map((a) => ({ id: a.id, x: s.assets.length === 1 ? snap(a.x + dx) : a.x + dx, z: s.assets.length === 1 ? snap(a.z + dz) : a.z + dz, rotation_deg: a.rotation_deg }));
    }
    const dRad = this.proxy.rotation.y - s.rot;
    const dDeg = Math.round(THREE.MathUtils.radToDeg(dRad) / ANGLE_SNAP) * ANGLE_SNAP;
    const r = THREE.MathUtils.degToRad(dDeg);
    const c = Math.cos(r);
    const sn = Math.sin(r);
    return s.assets.map((a) => {
      const ox = a.x - s.proxy.x;
      const oz = a.z - s.proxy.z;
      const single = s.assets.length === 1;
      return {
        id: a.id,
        x: single ? a.x : s.proxy.x + ox * c + oz * sn,
        z: single ? a.z : s.proxy.z - ox * sn + oz * c,
        rotation_deg: single ? normDeg(Math.round((a.rotation_deg + dDeg) / ANGLE_SNAP) * ANGLE_SNAP) : normDeg(a.rotation_deg + dDeg),
      };
    });
  }

  change() {
    if (!this.dragging || !this.start) return;
    for (const p of this.poses()) this.editor.preview(p.id, { x: p.x, z: p.z, rotation_deg: p.rotation_deg });
    this.editor.signals.modeChanged.dispatch(this.editor.mode, { dragging: true, ids: this.editor.selection, poses: this.poses() });
  }

  end() {
    this.dragging = false;
    if (!this.start) return;
    const poses = this.poses();
    const start = this.start;
    this.start = null;
    this.view.assetMeshes.clearPreviews();
    const round = (v) => Math.round(v * 1000) / 1000;
    const cmds = [];
    for (const p of poses) {
      const a = start.assets.find((s) => s.id === p.id);
      if (!a) continue;
      const moved = Math.abs(p.x - a.x) > 1e-6 || Math.abs(p.z - a.z) > 1e-6;
      const turned = Math.abs(normDeg(p.rotation_deg) - normDeg(a.rotation_deg)) > 1e-6;
      if (moved) cmds.push(new MoveAssetCommand(this.editor, p.id, { x: round(p.x), z: round(p.z) }, { x: a.x, z: a.z }));
      if (turned) cmds.push(new RotateAssetCommand(this.editor, p.id, p.rotation_deg, a.rotation_deg));
    }
    this.editor.signals.modeChanged.dispatch(this.editor.mode, { dragging: false });
    if (!cmds.length) return this.attach();
    this.editor.execute(cmds.length === 1 ? cmds[0] : new MultiCommand(this.editor, cmds, this.mode === 'translate' ? 'Move' : 'Rotate'));
  }
}
