// The simulation's own layer in the 3D scene: a translucent shell around every station, tinted by its
// utilisation or by its state at the playback time, and a pulsing ring under the bottleneck. One draw call
// for the shells, one for the ring; nothing in the editor's state changes.
import * as THREE from 'three';
import { Signal } from '../../util/Signal.js';

const PAD = 0.25;
const NOTE = 'bottleneck';
const tmp = new THREE.Color();
const m4 = new THREE.Matrix4();
const q = new THREE.Quaternion();
const pos = new THREE.Vector3();
const scl = new THREE.Vector3();
const yAxis = new THREE.Vector3(0, 1, 0);

export const STATE_COLORS = { working: '#22c55e', setup: '#14b8a6', waiting_operator: '#a855f7', idle: '#eab308', blocked: '#f97316', down: '#ef4444', off_shift: '#94a3b8' };

// Utilisation (0..1) on a scheme of its own: one hue from pale to deep navy, so that it never reads as a
// state or a twin status (green, yellow, orange, red, purple) nor as a type colour. The legend shows it.
export const UTIL_STOPS = [
  [0, '#e0f2fe'],
  [0.5, '#38bdf8'],
  [0.8, '#1d4ed8'],
  [1, '#172554'],
];

export function utilColor(u) {
  const stops = UTIL_STOPS;
  const v = Math.max(0, Math.min(1, u || 0));
  for (let i = 1; i < stops.length; i++) {
    if (v <= stops[i][0]) {
      const [a, ca] = stops[i - 1];
      const [b, cb] = stops[i];
      return '#' + tmp.set(ca).lerp(new THREE.Color(cb), (v - a) / (b - a)).getHexString();
    }
  }
  return stops[stops.length - 1][1];
}

export class StationOverlay {
  constructor(view, editor) {
    this.view = view;
    this.editor = editor;
    this.group = new THREE.Group();
    this.group.name = 'SimulationOverlay';
    this.group.visible = false;
    view.scene.add(this.group);
    this.geometry = new THREE.BoxGeometry(1, 1, 1);
    this.geometry.translate(0, 0.5, 0);
    this.material = new THREE.MeshBasicMaterial({ transparent: true, opacity: 0.55, depthWrite: false, toneMapped: false });
    this.mesh = null;
    this.capacity = 0;
    this.colors = new Map(); // asset id -> '#rrggbb'
    this.mode = null; // 'utilisation' | 'states' while shown: which legend applies
    this.changed = new Signal();
    this.bottleneck = null;
    const ringGeo = new THREE.RingGeometry(0.82, 1, 48);
    ringGeo.rotateX(-Math.PI / 2);
    this.ring = new THREE.Mesh(ringGeo, new THREE.MeshBasicMaterial({ color: '#dc2626', transparent: true, opacity: 0.85, depthWrite: false, side: THREE.DoubleSide, toneMapped: false }));
    this.ring.name = 'BottleneckRing';
    this.ring.renderOrder = 5;
    this.ring.visible = false;
    this.group.add(this.ring);
    this.t = 0;
    view.beforeRender.push((dt) => this.animate(dt));
    const relayout = () => this.group.visible && this.layout();
    for (const s of ['assetChanged', 'assetRemoved', 'assetAdded', 'sceneLoaded']) editor.signals[s].add(relayout);
  }

  // colors: Map(asset id -> css colour); bottleneck: asset id or null.
  show(colors, bottleneck = null, mode = 'utilisation') {
    if (mode !== this.mode || !this.group.visible) {
      this.mode = mode;
      queueMicrotask(() => this.changed.dispatch(this.mode));
    }
    this.colors = new Map(colors);
    this.bottleneck = bottleneck;
    this.group.visible = true;
    this.note(bottleneck);
    this.layout();
  }

  hide() {
    if (this.mode !== null) {
      this.mode = null;
      this.changed.dispatch(null);
    }
    this.group.visible = false;
    this.colors = new Map();
    this.bottleneck = null;
    this.note(null);
    this.view.invalidate();
  }

  // "bottleneck" under the asset's name label (the labels' note line, shared with other features).
  note(id) {
    const labels = this.view.labels;
    if (this.noted !== undefined && this.noted !== null && labels.extra.get(this.noted) === NOTE) labels.extra.delete(this.noted);
    this.noted = id;
    if (id !== null && !labels.extra.has(id)) labels.extra.set(id, NOTE);
    labels.dirty = true;
  }

  colorOf(id) {
    return this.group.visible ? this.colors.get(id) || null : null;
  }

  footprint(id) {
    const asset = this.editor.assets.get(id);
    if (!asset) return null;
    const type = this.editor.types.get(asset.asset_type);
    const pose = this.view.assetMeshes.poseOf(id) || asset;
    return { x: Number(pose.x) || 0, z: Number(pose.z) || 0, r: THREE.MathUtils.degToRad(Number(pose.rotation_deg) || 0), w: (type ? type.width_m : 1) + PAD, d: (type ? type.depth_m : 1) + PAD, h: (type ? type.height_m : 1) + PAD / 2 };
  }

  layout() {
    const items = [...this.colors.entries()].map(([id, color]) => ({ f: this.footprint(id), color })).filter((i) => i.f);
    if (!this.mesh || items.length > this.capacity) {
      if (this.mesh) {
        this.group.remove(this.mesh);
        this.mesh.dispose();
      }
      this.capacity = Math.max(32, Math.ceil(items.length * 1.5));
      this.mesh = new THREE.InstancedMesh(this.geometry, this.material, this.capacity);
      this.mesh.name = 'SimulationShells';
      this.mesh.frustumCulled = false;
      this.mesh.renderOrder = 4;
      this.group.add(this.mesh);
    }
    items.forEach(({ f, color }, i) => {
      q.setFromAxisAngle(yAxis, f.r);
      m4.compose(pos.set(f.x, 0, f.z), q, scl.set(f.w, f.h, f.d));
      this.mesh.setMatrixAt(i, m4);
      this.mesh.setColorAt(i, tmp.set(color));
    });
    this.mesh.count = items.length;
    this.mesh.instanceMatrix.needsUpdate = true;
    if (this.mesh.instanceColor) this.mesh.instanceColor.needsUpdate = true;
    const b = this.bottleneck !== null ? this.footprint(this.bottleneck) : null;
    this.ring.visible = !!b;
    if (b) {
      this.ring.position.set(b.x, 0.04, b.z);
      this.ringSize = Math.hypot(b.w, b.d) / 2 + 0.6;
    }
    this.view.invalidate();
  }

  // Recolour without moving anything (playback frames).
  recolor(colors) {
    const next = new Map(colors);
    const old = [...this.colors.keys()];
    const same = this.mesh && next.size === old.length && [...next.keys()].every((id, i) => id === old[i]);
    this.colors = next;
    if (!same) return this.layout();
    let i = 0;
    for (const [id, color] of this.colors) {
      if (!this.editor.assets.has(id)) continue;
      this.mesh.setColorAt(i++, tmp.set(color));
    }
    if (this.mesh.instanceColor) this.mesh.instanceColor.needsUpdate = true;
    this.view.invalidate();
  }

  animate(dt) {
    if (!this.group.visible || !this.ring.visible) return;
    this.t += dt;
    const k = 1 + 0.12 * Math.sin(this.t * 4);
    this.ring.scale.setScalar(this.ringSize * k);
    this.ring.material.opacity = 0.55 + 0.3 * Math.sin(this.t * 4);
  }
}
