// Alarmed assets pulse in 3D: a red ring on the floor and a red glow shell, both breathing. Its own layer
// (one draw call each); the assets' own colours (twin status) stay untouched underneath.
import * as THREE from 'three';

const m4 = new THREE.Matrix4();
const q = new THREE.Quaternion();
const pos = new THREE.Vector3();
const scl = new THREE.Vector3();
const yAxis = new THREE.Vector3(0, 1, 0);
const SEVERITY = { critical: '#dc2626', high: '#dc2626', warning: '#f97316', medium: '#f97316', low: '#eab308', info: '#0ea5e9' };

export class AlarmPulse {
  constructor(view, editor) {
    this.view = view;
    this.editor = editor;
    this.items = new Map(); // asset id -> severity
    this.group = new THREE.Group();
    this.group.name = 'AlarmPulse';
    view.scene.add(this.group);
    const ring = new THREE.RingGeometry(0.78, 1, 40);
    ring.rotateX(-Math.PI / 2);
    this.rings = new THREE.InstancedMesh(ring, new THREE.MeshBasicMaterial({ transparent: true, depthWrite: false, side: THREE.DoubleSide, toneMapped: false }), 64);
    const box = new THREE.BoxGeometry(1, 1, 1);
    box.translate(0, 0.5, 0);
    this.shells = new THREE.InstancedMesh(box, new THREE.MeshBasicMaterial({ transparent: true, depthWrite: false, toneMapped: false }), 64);
    for (const m of [this.rings, this.shells]) {
      m.count = 0;
      m.frustumCulled = false;
      m.renderOrder = 6;
      this.group.add(m);
    }
    this.t = 0;
    view.beforeRender.push((dt) => this.animate(dt));
    for (const s of ['assetChanged', 'assetRemoved', 'assetAdded', 'sceneLoaded']) editor.signals[s].add(() => this.items.size && this.animate(0));
  }

  set(items) {
    this.items = new Map([...items].slice(0, 64));
    const c = new THREE.Color();
    let i = 0;
    for (const severity of this.items.values()) {
      c.set(SEVERITY[severity] || SEVERITY.critical);
      this.rings.setColorAt(i, c);
      this.shells.setColorAt(i, c);
      i++;
    }
    for (const m of [this.rings, this.shells]) if (m.instanceColor) m.instanceColor.needsUpdate = true;
    this.animate(0);
    this.view.invalidate();
  }

  has(assetId) {
    return this.items.has(assetId);
  }

  animate(dt) {
    const n = this.items.size;
    this.rings.count = n;
    this.shells.count = n;
    if (!n) return;
    this.t += dt;
    const wave = 0.5 + 0.5 * Math.sin(this.t * 5);
    let i = 0;
    for (const id of this.items.keys()) {
      const asset = this.editor.assets.get(id);
      const type = asset && this.editor.types.get(asset.asset_type);
      const pose = (asset && this.view.assetMeshes.poseOf(id)) || asset || { x: 0, z: 0 };
      const w = (type ? type.width_m : 1) + 0.3;
      const d = (type ? type.depth_m : 1) + 0.3;
      const hgt = (type ? type.height_m : 1) + 0.15;
      q.setFromAxisAngle(yAxis, THREE.MathUtils.degToRad(Number(pose.rotation_deg) || 0));
      const r = (Math.hypot(w, d) / 2 + 0.4) * (1 + 0.35 * wave);
      m4.compose(pos.set(Number(pose.x) || 0, 0.05, Number(pose.z) || 0), q, scl.set(r, 1, r));
      this.rings.setMatrixAt(i, m4);
      m4.compose(pos.set(Number(pose.x) || 0, 0, Number(pose.z) || 0), q, scl.set(w, hgt, d));
      this.shells.setMatrixAt(i, m4);
      i++;
    }
    this.rings.material.opacity = 0.9 - 0.6 * wave;
    this.shells.material.opacity = 0.12 + 0.3 * wave;
    this.rings.instanceMatrix.needsUpdate = true;
    this.shells.instanceMatrix.needsUpdate = true;
  }
}
