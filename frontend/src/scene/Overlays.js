// Small scene overlays that stay one draw call each: selection and problem outlines, twin status beacons.
import * as THREE from 'three';
import { STATUS_COLORS } from './AssetGeometry.js';

export class SelectionOutline {
  constructor({ color = '#0ea5e9', name = 'SelectionOutline', margin = 0.15 } = {}) {
    this.margin = margin;
    this.geometry = new THREE.BufferGeometry();
    this.object = new THREE.LineSegments(this.geometry, new THREE.LineBasicMaterial({ color, depthTest: false, transparent: true }));
    this.object.renderOrder = 10;
    this.object.frustumCulled = false;
    this.object.name = name;
  }

  update(items) {
    const p = [];
    for (const { pose, type } of items) {
      if (!type) continue;
      const hw = type.width_m / 2 + this.margin;
      const hd = type.depth_m / 2 + this.margin;
      const h = type.height_m + this.margin - 0.05;
      const r = THREE.MathUtils.degToRad(pose.rotation_deg || 0);
      const c = Math.cos(r);
      const s = Math.sin(r);
      const corners = [
        [-hw, -hd],
        [hw, -hd],
        [hw, hd],
        [-hw, hd],
      ].map(([lx, lz]) => [pose.x + lx * c + lz * s, pose.z - lx * s + lz * c]);
      for (let i = 0; i < 4; i++) {
        const [ax, az] = corners[i];
        const [bx, bz] = corners[(i + 1) % 4];
        p.push(ax, 0.03, az, bx, 0.03, bz);
        p.push(ax, h, az, bx, h, bz);
        p.push(ax, 0.03, az, ax, h, az);
      }
    }
    this.geometry.setAttribute('position', new THREE.Float32BufferAttribute(p, 3));
    this.geometry.computeBoundingSphere();
    this.object.visible = p.length > 0;
  }
}

// Red, just inside the selection outline: the assets whose footprints overlap (layout checks).
export class ProblemOutline extends SelectionOutline {
  constructor() {
    super({ color: '#dc2626', name: 'ProblemOutline', margin: 0.06 });
  }
}

// A bound asset's live status: a ring on the floor around its footprint and a beacon above it, in the status
// colours (never on the body, whose colour is its type's). Two draw calls whatever the number of twins.
export class TwinBeacons {
  constructor() {
    this.ringGeometry = new THREE.RingGeometry(0.86, 1, 40).rotateX(-Math.PI / 2);
    this.ringMaterial = new THREE.MeshBasicMaterial({ transparent: true, opacity: 0.9, depthWrite: false, side: THREE.DoubleSide, toneMapped: false });
    this.rings = null;
    this.geometry = new THREE.SphereGeometry(0.22, 12, 8);
    this.geometry.setAttribute('color', new THREE.BufferAttribute(new Float32Array(this.geometry.attributes.position.count * 3).fill(1), 3));
    this.material = new THREE.MeshLambertMaterial({ emissive: '#333333', vertexColors: true });
    this.mesh = null;
    this.capacity = 0;
    this.group = new THREE.Group();
    this.group.name = 'TwinBeacons';
    this.color = new THREE.Color();
    this.m4 = new THREE.Matrix4();
  }

  update(items) {
    if (!this.mesh || items.length > this.capacity) {
      if (this.mesh) {
        this.group.remove(this.mesh);
        this.mesh.dispose();
      }
      this.capacity = Math.max(16, Math.ceil(items.length * 1.5));
      this.mesh = new THREE.InstancedMesh(this.geometry, this.material, this.capacity);
      this.mesh.frustumCulled = false;
      this.mesh.name = 'TwinBeaconMeshes';
      this.group.add(this.mesh);
      if (this.rings) {
        this.group.remove(this.rings);
        this.rings.dispose();
      }
      this.rings = new THREE.InstancedMesh(this.ringGeometry, this.ringMaterial, this.capacity);
      this.rings.frustumCulled = false;
      this.rings.renderOrder = 3;
      this.rings.name = 'TwinStatusRings';
      this.group.add(this.rings);
    }
    this.ids = items.map((i) => i.id);
    items.forEach(({ pose, type, status }, i) => {
      this.color.set(STATUS_COLORS[status] || STATUS_COLORS.unknown);
      this.m4.makeTranslation(pose.x, (type ? type.height_m : 1) + 0.45, pose.z);
      this.mesh.setMatrixAt(i, this.m4);
      this.mesh.setColorAt(i, this.color);
      const r = type ? Math.hypot(type.width_m, type.depth_m) / 2 + 0.35 : 1;
      this.m4.makeScale(r, 1, r).setPosition(pose.x, 0.035, pose.z);
      this.rings.setMatrixAt(i, this.m4);
      this.rings.setColorAt(i, this.color);
    });
    this.rings.count = items.length;
    this.rings.visible = items.length > 0;
    this.rings.instanceMatrix.needsUpdate = true;
    if (this.rings.instanceColor) this.rings.instanceColor.needsUpdate = true;
    this.mesh.count = items.length;
    this.mesh.visible = items.length > 0;
    this.mesh.instanceMatrix.needsUpdate = true;
    if (this.mesh.instanceColor) this.mesh.instanceColor.needsUpdate = true;
    this.mesh.boundingSphere = null;
  }

  // The status colour the ring of this asset shows ('#rrggbb'), or null when it has no twin.
  colorOf(assetId) {
    const i = (this.ids || []).indexOf(assetId);
    return i < 0 || !this.rings ? null : `#${this.rings.getColorAt(i, this.color).getHexString()}`;
  }
}
