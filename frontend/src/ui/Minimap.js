// A 2D plan of the floor (assets as footprints, connections as lines) with the camera's position and
// heading; click to look there. Drawn on a canvas, redrawn only when the layout or the camera changes.
import * as THREE from 'three';
import { h } from '../util/dom.js';
import { STATUS_COLORS } from '../scene/AssetGeometry.js';

export class Minimap {
  constructor(root, editor, view) {
    this.editor = editor;
    this.view = view;
    this.canvas = h('canvas', { class: 'minimap-canvas', width: 220, height: 160, testid: 'minimap' });
    this.el = h('div', { class: 'minimap' }, this.canvas);
    root.appendChild(this.el);
    this.base = document.createElement('canvas');
    this.dirty = true;
    const mark = () => (this.dirty = true);
    for (const s of ['sceneLoaded', 'assetAdded', 'assetChanged', 'assetRemoved', 'connectionAdded', 'connectionRemoved', 'selectionChanged', 'twinsChanged']) editor.signals[s].add(mark);
    this.lastCam = '';
    this.canvas.addEventListener('click', (e) => this.onClick(e));
    view.afterRenderHooks = view.afterRenderHooks || [];
    view.afterRenderHooks.push(() => this.update());
  }

  setVisible(v) {
    this.el.hidden = !v;
    this.dirty = true;
  }

  geometry() {
    const b = this.view.floor.bounds;
    const W = this.canvas.width;
    const H = this.canvas.height;
    const pad = 8;
    const s = Math.min((W - pad * 2) / b.width, (H - pad * 2) / b.depth);
    const ox = (W - b.width * s) / 2;
    const oz = (H - b.depth * s) / 2;
    return { b, s, ox, oz, W, H };
  }

  drawBase() {
    const { b, s, ox, oz, W, H } = this.geometry();
    this.base.width = W;
    this.base.height = H;
    const g = this.base.getContext('2d');
    g.fillStyle = 'rgba(248,250,252,0.96)';
    g.fillRect(0, 0, W, H);
    g.fillStyle = '#e5e7eb';
    g.fillRect(ox, oz, b.width * s, b.depth * s);
    g.strokeStyle = '#f2c230';
    g.lineWidth = 1.5;
    g.strokeRect(ox, oz, b.width * s, b.depth * s);
    const e = this.editor;
    g.strokeStyle = '#475569';
    g.lineWidth = 1;
    g.beginPath();
    for (const c of e.connections.values()) {
      const a = e.assets.get(c.source);
      const t = e.assets.get(c.target);
      if (!a || !t) continue;
      g.moveTo(ox + a.x * s, oz + a.z * s);
      g.lineTo(ox + t.x * s, oz + t.z * s);
    }
    g.stroke();
    const sel = new Set(e.selection);
    for (const a of e.assets.values()) {
      const t = e.types.get(a.asset_type);
      if (!t) continue;
      const twin = e.twinOf(a);
      g.save();
      g.translate(ox + a.x * s, oz + a.z * s);
      g.rotate(-THREE.MathUtils.degToRad(a.rotation_deg || 0));
      g.fillStyle = sel.has(a.id) ? '#0ea5e9' : t.color;
      g.strokeStyle = twin && STATUS_COLORS[twin.status] ? STATUS_COLORS[twin.status] : 'transparent'; // status as a ring, as in 3D
      const w = Math.max(1.5, t.width_m * s);
      const d = Math.max(1.5, t.depth_m * s);
      g.fillRect(-w / 2, -d / 2, w, d);
      if (twin && STATUS_COLORS[twin.status]) {
        g.lineWidth = 1.5;
        g.strokeRect(-w / 2 - 1.5, -d / 2 - 1.5, w + 3, d + 3);
      }
      g.restore();
    }
    this.dirty = false;
  }

  update() {
    if (this.el.hidden || !this.view.floor) return;
    const cam = this.view.camera;
    const key = `${cam.position.x.toFixed(1)},${cam.position.z.toFixed(1)},${cam.rotation.y.toFixed(2)},${cam.rotation.x.toFixed(2)}`;
    if (!this.dirty && key === this.lastCam) return;
    if (this.dirty) this.drawBase();
    this.lastCam = key;
    const { s, ox, oz } = this.geometry();
    const g = this.canvas.getContext('2d');
    g.clearRect(0, 0, this.canvas.width, this.canvas.height);
    g.drawImage(this.base, 0, 0);
    const dir = new THREE.Vector3();
    cam.getWorldDirection(dir);
    const x = ox + cam.position.x * s;
    const y = oz + cam.position.z * s;
    const ang = Math.atan2(dir.z, dir.x);
    g.fillStyle = 'rgba(14,165,233,0.25)';
    g.beginPath();
    g.moveTo(x, y);
    g.arc(x, y, 26, ang - 0.45, ang + 0.45);
    g.closePath();
    g.fill();
    g.fillStyle = '#0369a1';
    g.beginPath();
    g.arc(x, y, 3.5, 0, Math.PI * 2);
    g.fill();
  }

  onClick(e) {
    const rect = this.canvas.getBoundingClientRect();
    const { s, ox, oz } = this.geometry();
    const px = ((e.clientX - rect.left) / rect.width) * this.canvas.width;
    const py = ((e.clientY - rect.top) / rect.height) * this.canvas.height;
    const x = (px - ox) / s;
    const z = (py - oz) / s;
    const offset = this.view.camera.position.clone().sub(this.view.controls.target);
    const target = new THREE.Vector3(x, 0, z);
    if (this.view.walking) {
      this.view.camera.position.set(x, this.view.camera.position.y, z);
      this.view.invalidate();
    } else this.view.flyTo(target.clone().add(offset), target);
  }
}
