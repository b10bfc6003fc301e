// Drag by the body: pressing on a selected asset (select mode, edit rights) and dragging moves the whole
// selection over the floor, under the pointer: the ray is cut with the horizontal plane at the height where
// the asset was grabbed, so the grabbed point stays under the cursor whatever the camera's angle. The
// grabbed asset lands on the grid (unless snapping is off or Alt is held) and the others keep their offsets;
// R / Shift+R turn the dragged assets by ±15° meanwhile, Esc cancels. While dragging it only previews (and
// tells the room, which soft-locks the assets); on release one command — one undo step — takes the usual
// sync path. The gizmo stays for precise moves: a press on one of its handles is left to it.
import * as THREE from 'three';
import { MoveAssetCommand, RotateAssetCommand, UpdateAssetCommand, MultiCommand, normDeg } from '../editor/commands/index.js';
import { snapping, ANGLE_SNAP } from './Snap.js';

const THRESHOLD_PX = 4;

export class BodyDrag {
  constructor(view, editor, picking, gizmo) {
    this.view = view;
    this.editor = editor;
    this.picking = picking;
    this.gizmo = gizmo;
    this.state = null;
    const canvas = view.renderer.domElement;
    // Capture phase: decide before the orbit controls (and the gizmo) start on the same press.
    canvas.addEventListener('pointerdown', (e) => this.press(e), { capture: true });
    window.addEventListener('pointermove', (e) => this.move(e));
    window.addEventListener('pointerup', (e) => this.release(e));
    window.addEventListener('keydown', (e) => this.key(e), { capture: true });
  }

  get dragging() {
    return !!(this.state && this.state.moving);
  }

  // True when the press starts a drag of the selection (then the orbit controls stay still).
  press(e) {
    const ed = this.editor;
    if (e.button !== 0 || this.view.walking || ed.mode !== 'select' || !ed.canEdit || e.shiftKey || e.ctrlKey || e.metaKey) return false;
    const hit = this.picking.asset(e.clientX, e.clientY);
    // A press on a gizmo handle is the gizmo's (asked now: a hover may not have been seen yet).
    if (this.gizmo.helper.visible) {
      this.gizmo.controls.pointerHover({ x: this.picking.ndc.x, y: this.picking.ndc.y, button: e.button });
      if (this.gizmo.controls.axis !== null) return false;
    }
    if (!hit || !ed.selection.includes(hit.id)) return false;
    const ids = ed.selection.filter((id) => ed.assets.has(id));
    if (this.gizmo.blocked && this.gizmo.blocked(ids)) return false;
    const plane = new THREE.Plane(new THREE.Vector3(0, 1, 0), -hit.point.y);
    const grab = this.onPlane(plane, e.clientX, e.clientY);
    if (!grab) return false;
    const start = ids.map((id) => ({ ...ed.assets.get(id) }));
    let cx = 0;
    let cz = 0;
    for (const a of start) {
      cx += a.x;
      cz += a.z;
    }
    this.state = { x: e.clientX, y: e.clientY, plane, grab, ids, start, anchor: start.find((a) => a.id === hit.id), centre: { x: cx / start.length, z: cz / start.length }, turn: 0, free: false, moving: false, last: null };
    this.view.controls.enabled = false;
    this.gizmo.controls.enabled = false;
    this.view.renderer.domElement.setPointerCapture?.(e.pointerId);
    return true;
  }

  onPlane(plane, clientX, clientY) {
    const p = new THREE.Vector3();
    return this.picking.setFromEvent(clientX, clientY).ray.intersectPlane(plane, p) ? p : null;
  }

  move(e) {
    const s = this.state;
    if (!s) return;
    if (!s.moving) {
      if (Math.hypot(e.clientX - s.x, e.clientY - s.y) < THRESHOLD_PX) return;
      s.moving = true;
      this.gizmo.helper.visible = false; // it would stay behind; it comes back on the asset once saved
      this.editor.signals.modeChanged.dispatch(this.editor.mode, { dragging: true, ids: s.ids });
    }
    const p = this.onPlane(s.plane, e.clientX, e.clientY);
    if (!p) return;
    s.last = { x: p.x, z: p.z };
    s.free = e.altKey;
    this.preview();
  }

  // Pose of every dragged asset: the grabbed one snapped, the others at their offsets, all turned by `turn`
  // about the selection's centre (one asset turns in place).
  poses(s = this.state) {
    const dx = s.last ? s.last.x - s.grab.x : 0;
    const dz = s.last ? s.last.z - s.grab.z : 0;
    const r = THREE.MathUtils.degToRad(s.turn);
    const c = Math.cos(r);
    const sn = Math.sin(r);
    // The grabbed asset's centre after the turn, then snapped: that offset moves everyone.
    const turned = (a) => {
      const ox = a.x - s.centre.x;
      const oz = a.z - s.centre.z;
      return { x: s.centre.x + ox * c + oz * sn, z: s.centre.z - ox * sn + oz * c };
    };
    const anchor = turned(s.anchor);
    const shiftX = snapping.grid(anchor.x + dx, s.free) - anchor.x;
    const shiftZ = snapping.grid(anchor.z + dz, s.free) - anchor.z;
    return s.start.map((a) => {
      const t = turned(a);
      return { id: a.id, x: round(t.x + shiftX), z: round(t.z + shiftZ), rotation_deg: normDeg((a.rotation_deg || 0) + s.turn) };
    });
  }

  preview() {
    const poses = this.poses();
    for (const p of poses) this.editor.preview(p.id, { x: p.x, z: p.z, rotation_deg: p.rotation_deg });
    this.editor.signals.modeChanged.dispatch(this.editor.mode, { dragging: true, ids: this.state.ids, poses });
  }

  key(e) {
    if (!this.dragging) return;
    if (e.key === 'r' || e.key === 'R') {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.state.turn += e.shiftKey ? -ANGLE_SNAP : ANGLE_SNAP;
      this.preview();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.finish(false);
    }
  }

  release(e) {
    if (!this.state) return;
    this.view.renderer.domElement.releasePointerCapture?.(e.pointerId);
    this.finish(this.state.moving);
  }

  finish(commit) {
    const s = this.state;
    this.state = null;
    this.view.controls.enabled = !this.view.walking;
    this.gizmo.controls.enabled = true;
    if (!s || !s.moving) return;
    const poses = this.poses(s);
    this.view.assetMeshes.clearPreviews();
    this.editor.signals.modeChanged.dispatch(this.editor.mode, { dragging: false });
    if (!commit) {
      this.gizmo.attach();
      return this.view.structureChanged();
    }
    const ed = this.editor;
    const cmds = [];
    for (const p of poses) {
      const a = s.start.find((x) => x.id === p.id);
      const moved = Math.abs(p.x - a.x) > 1e-6 || Math.abs(p.z - a.z) > 1e-6;
      const turned = normDeg(p.rotation_deg) !== normDeg(a.rotation_deg || 0);
      if (moved && turned) cmds.push(new UpdateAssetCommand(ed, p.id, { x: p.x, z: p.z, rotation_deg: p.rotation_deg }, { x: a.x, z: a.z, rotation_deg: a.rotation_deg }, 'Move'));
      else if (moved) cmds.push(new MoveAssetCommand(ed, p.id, { x: p.x, z: p.z }, { x: a.x, z: a.z }));
      else if (turned) cmds.push(new RotateAssetCommand(ed, p.id, p.rotation_deg, a.rotation_deg));
    }
    if (!cmds.length) {
      this.gizmo.attach();
      return this.view.structureChanged();
    }
    return ed.execute(cmds.length === 1 ? cmds[0] : new MultiCommand(ed, cmds, 'Move'));
  }
}

const round = (v) => Math.round(v * 1000) / 1000;
