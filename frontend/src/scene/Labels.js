// HTML name labels for the nearest and the selected assets (never all 5,000), fading with distance,
// plus the floor's dimension marks and twin badges. DOM labels cost no draw calls and stay crisp.
// Decluttered by distance and priority: the selection and annotated assets first, then the stations a
// planner reads the line by, then buffers, conveyors and people, and decor last (only when close); a
// label that would overlap one already placed is left out.
import * as THREE from 'three';
import { STATUS_COLORS } from './AssetGeometry.js';

const MAX_LABELS = 40;
const FADE_NEAR = 18;
const FADE_FAR = 45;
const v = new THREE.Vector3();
// A label of lower priority counts as this much farther away (squared distances are weighted).
const KIND_WEIGHT = { source: 1, machine: 1, assembly: 1, robot: 1, sink: 1, buffer: 2.2, conveyor: 3, operator: 2.2, decor: 6 };

export class Labels {
  constructor(container, editor, poseOf) {
    this.editor = editor;
    this.poseOf = poseOf;
    this.root = document.createElement('div');
    this.root.className = 'labels';
    container.appendChild(this.root);
    this.pool = [];
    this.dims = [];
    this.extra = new Map(); // id -> text shown under the name (e.g. "Bob is moving")
    this.frame = 0;
    this.candidates = [];
    this.visible = true;
  }

  setDimensionMarks(marks) {
    for (const d of this.dims) d.el.remove();
    this.dims = marks.map((m) => {
      const el = document.createElement('div');
      el.className = `dim-label dim-${m.kind}`;
      el.textContent = m.text;
      this.root.appendChild(el);
      return { el, pos: new THREE.Vector3(...m.pos) };
    });
  }

  getLabel(i) {
    while (this.pool.length <= i) {
      const el = document.createElement('div');
      el.className = 'asset-label';
      const name = document.createElement('span');
      name.className = 'name';
      const badge = document.createElement('span');
      badge.className = 'badge';
      const note = document.createElement('span');
      note.className = 'note';
      el.append(badge, name, note);
      this.root.appendChild(el);
      this.pool.push({ el, name, badge, note, id: null, text: '', status: '', noteText: '' });
    }
    return this.pool[i];
  }

  update(camera, width, height) {
    if (!this.visible) {
      this.root.style.display = 'none';
      return;
    }
    this.root.style.display = '';
    this.frame++;
    const editor = this.editor;
    const cam = camera.position;
    // Small layouts keep their names readable from the overview; big ones only label what is near.
    const n = editor.assets.size;
    const orbit = this.orbitDistance ? this.orbitDistance() : 0;
    const fadeFar = n <= 200 ? Math.max(FADE_FAR, orbit * 1.15) : FADE_FAR;
    const fadeNear = n <= 200 ? Math.max(FADE_NEAR, fadeFar * 0.5) : FADE_NEAR;
    // Recompute the candidate set a few times a second; project every frame.
    const now = performance.now();
    if (now - (this.lastPick || 0) > 150 || this.dirty) {
      this.dirty = false;
      this.lastPick = now;
      const best = [];
      for (const asset of editor.assets.values()) {
        const p = this.poseOf(asset.id) || asset;
        const dx = p.x - cam.x;
        const dz = p.z - cam.z;
        const d2 = (dx * dx + dz * dz + cam.y * cam.y * 0.25) * (KIND_WEIGHT[(editor.types.get(asset.asset_type) || {}).kind] || 1);
        if (d2 > fadeFar * fadeFar) continue;
        best.push([d2, asset.id]);
      }
      best.sort((a, b) => a[0] - b[0]);
      // Priority order: selected, then annotated (someone editing), then nearest.
      const ids = [];
      for (const id of editor.selection.slice(0, 20)) ids.push(id);
      for (const id of this.extra.keys()) if (!ids.includes(id) && editor.assets.has(id)) ids.push(id);
      for (const b of best.slice(0, MAX_LABELS)) if (!ids.includes(b[1])) ids.push(b[1]);
      this.candidates = ids;
    }
    let used = 0;
    const selected = new Set(editor.selection);
    const placed = []; // screen rectangles already taken: labels never overlap
    for (const id of this.candidates) {
      const asset = editor.assets.get(id);
      if (!asset) continue;
      const type = editor.types.get(asset.asset_type);
      const p = this.poseOf(id) || asset;
      v.set(p.x, (type ? type.height_m : 1) + 0.35, p.z);
      const dist = v.distanceTo(cam);
      v.project(camera);
      if (v.z > 1 || v.z < -1 || Math.abs(v.x) > 1.1 || Math.abs(v.y) > 1.1) continue;
      const isSel = selected.has(id);
      const hasExtra = this.extra.has(id);
      let alpha = isSel || hasExtra ? 1 : 1 - THREE.MathUtils.smoothstep(dist, fadeNear, fadeFar);
      if (alpha < 0.04) continue;
      const sx = ((v.x + 1) / 2) * width;
      const sy = ((1 - v.y) / 2) * height;
      const note0 = this.extra.get(id) || '';
      const w = (asset.name.length + note0.length) * 6.4 + 26;
      const rect = [sx - w / 2, sy - 20, sx + w / 2, sy];
      if (placed.some((r) => rect[0] < r[2] && rect[2] > r[0] && rect[1] < r[3] && rect[3] > r[1])) continue;
      placed.push(rect);
      const label = this.getLabel(used++);
      if (label.text !== asset.name) {
        label.text = asset.name;
        label.name.textContent = asset.name;
      }
      const twin = editor.twinOf(asset);
      const status = twin ? twin.status || 'unknown' : '';
      if (label.status !== status) {
        label.status = status;
        label.badge.style.display = status ? '' : 'none';
        label.badge.style.background = STATUS_COLORS[status] || '';
        label.badge.title = status;
      }
      const note = this.extra.get(id) || '';
      if (label.noteText !== note) {
        label.noteText = note;
        label.note.textContent = note;
        label.note.style.display = note ? '' : 'none';
      }
      label.el.classList.toggle('selected', isSel);
      label.el.style.opacity = alpha.toFixed(2);
      label.el.style.transform = `translate(-50%, -100%) translate(${sx.toFixed(1)}px, ${sy.toFixed(1)}px)`;
      label.el.style.display = '';
      label.id = id;
    }
    for (let i = used; i < this.pool.length; i++) this.pool[i].el.style.display = 'none';
    for (const d of this.dims) {
      v.copy(d.pos);
      const dist = v.distanceTo(cam);
      v.project(camera);
      if (v.z > 1 || Math.abs(v.x) > 1.05 || Math.abs(v.y) > 1.05 || dist > 600) {
        d.el.style.display = 'none';
        continue;
      }
      d.el.style.display = '';
      d.el.style.transform = `translate(-50%, -50%) translate(${(((v.x + 1) / 2) * width).toFixed(1)}px, ${(((1 - v.y) / 2) * height).toFixed(1)}px)`;
    }
  }
}
