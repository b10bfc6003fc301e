// Compare mode in 3D: what the other layout had, drawn over the current one. Removed assets are red ghosts,
// moved ones leave a blue ghost at the old place with an arrow to the new one, added ones glow green,
// changed parameters are outlined amber. Everything lives in one group; the layout's own meshes are untouched.
import * as THREE from 'three';
import { geometryForType } from '../../scene/AssetGeometry.js';

export const DIFF_COLORS = { added: '#16a34a', removed: '#dc2626', moved: '#2563eb', changed: '#d97706' };
const UP = new THREE.Vector3(0, 1, 0);

export class DiffOverlay {
  constructor(view, editor) {
    this.view = view;
    this.editor = editor;
    this.group = new THREE.Group();
    this.group.name = 'Review:diff';
    this.group.visible = false;
    view.scene.add(this.group);
    this.geometries = new Map(); // type id -> ghost geometry
    this.materials = {};
    for (const [kind, color] of Object.entries(DIFF_COLORS)) {
      this.materials[kind] = {
        ghost: new THREE.MeshBasicMaterial({ color, transparent: true, opacity: kind === 'removed' ? 0.45 : 0.3, depthWrite: false }),
        edge: new THREE.LineBasicMaterial({ color, transparent: true, opacity: 0.95 }),
        solid: new THREE.MeshBasicMaterial({ color }),
      };
    }
    this.items = []; // [{kind, entry, box}] in list order
  }

  typeOf(typeId) {
    return this.editor.types.get(typeId) || { width_m: 1, depth_m: 1, height_m: 1, kind: 'decor' };
  }

  ghostGeometry(typeId) {
    if (!this.geometries.has(typeId)) this.geometries.set(typeId, geometryForType(this.typeOf(typeId)));
    return this.geometries.get(typeId);
  }

  clear() {
    for (const child of [...this.group.children]) {
      this.group.remove(child);
      child.traverse((o) => {
        if (o.userData.ownGeometry && o.geometry) o.geometry.dispose();
      });
    }
    this.items = [];
    this.view.invalidate();
  }

  setVisible(on) {
    this.group.visible = on;
    this.view.invalidate();
  }

  // items: [{kind, entry}] as listed by the changes panel; returns each one's box for framing.
  show(items) {
    this.clear();
    for (const item of items) {
      const g = new THREE.Group();
      g.userData.kind = item.kind;
      const box = this.build(item, g);
      this.group.add(g);
      this.items.push({ ...item, box, group: g });
    }
    this.view.invalidate();
    return this.items;
  }

  build({ kind, entry }, g) {
    const mats = this.materials[kind];
    if (kind === 'removed') return this.ghost(g, entry.asset_type, entry, mats);
    if (kind === 'moved') {
      const asset = this.editor.assets.get(entry.id);
      const typeId = asset ? asset.asset_type : entry.asset_type;
      const from = this.ghost(g, typeId, entry.from, mats);
      const to = entry.to;
      this.arrow(g, entry.from, to, mats.solid);
      const t = this.typeOf(typeId);
      const r = Math.max(t.width_m, t.depth_m) / 2;
      return { minX: Math.min(from.minX, to.x - r), maxX: Math.max(from.maxX, to.x + r), minZ: Math.min(from.minZ, to.z - r), maxZ: Math.max(from.maxZ, to.z + r), height: t.height_m };
    }
    // added / changed: outline the asset where it stands in this layout.
    const asset = this.editor.assets.get(entry.id);
    const pose = asset || entry;
    const typeId = asset ? asset.asset_type : entry.asset_type;
    return this.outline(g, typeId, pose, mats, kind === 'added');
  }

  place(obj, pose) {
    obj.position.set(Number(pose.x) || 0, 0, Number(pose.z) || 0);
    obj.quaternion.setFromAxisAngle(UP, THREE.MathUtils.degToRad(Number(pose.rotation_deg) || 0));
  }

  ghost(g, typeId, pose, mats) {
    const mesh = new THREE.Mesh(this.ghostGeometry(typeId), mats.ghost);
    mesh.renderOrder = 5;
    this.place(mesh, pose);
    g.add(mesh);
    const t = this.typeOf(typeId);
    const edges = this.boxEdges(t, mats.edge, 1.02);
    this.place(edges, pose);
    g.add(edges);
    return this.boxOf(t, pose);
  }

  outline(g, typeId, pose, mats, filled) {
    const t = this.typeOf(typeId);
    const edges = this.boxEdges(t, mats.edge, 1.12);
    this.place(edges, pose);
    g.add(edges);
    if (filled) {
      const shell = new THREE.Mesh(new THREE.BoxGeometry(t.width_m * 1.12, t.height_m * 1.08, t.depth_m * 1.12).translate(0, (t.height_m * 1.08) / 2, 0), mats.ghost);
      shell.userData.ownGeometry = true;
      shell.renderOrder = 5;
      this.place(shell, pose);
      g.add(shell);
    }
    const ring = new THREE.Mesh(new THREE.RingGeometry(Math.max(t.width_m, t.depth_m) * 0.75, Math.max(t.width_m, t.depth_m) * 0.75 + 0.25, 40).rotateX(-Math.PI / 2).translate(0, 0.03, 0), mats.solid);
    ring.userData.ownGeometry = true;
    this.place(ring, pose);
    g.add(ring);
    return this.boxOf(t, pose);
  }

  boxEdges(t, material, grow) {
    const geo = new THREE.EdgesGeometry(new THREE.BoxGeometry(t.width_m * grow, t.height_m * grow, t.depth_m * grow).translate(0, (t.height_m * grow) / 2, 0));
    const lines = new THREE.LineSegments(geo, material);
    lines.userData.ownGeometry = true;
    return lines;
  }

  boxOf(t, pose) {
    const r = Math.max(t.width_m, t.depth_m) / 2;
    return { minX: pose.x - r, maxX: pose.x + r, minZ: pose.z - r, maxZ: pose.z + r, height: t.height_m };
  }

  arrow(g, from, to, material) {
    const a = new THREE.Vector3(from.x, 0.35, from.z);
    const b = new THREE.Vector3(to.x, 0.35, to.z);
    const len = a.distanceTo(b);
    if (len < 0.05) return; // rotated in place: the ghost shows the old angle
    const head = Math.min(1.2, len * 0.35);
    const dir = b.clone().sub(a).normalize();
    const shaft = new THREE.Mesh(new THREE.CylinderGeometry(0.09, 0.09, Math.max(0.01, len - head), 8), material);
    const cone = new THREE.Mesh(new THREE.ConeGeometry(0.32, head, 12), material);
    for (const m of [shaft, cone]) {
      m.userData.ownGeometry = true;
      m.quaternion.setFromUnitVectors(UP, dir);
      m.renderOrder = 6;
    }
    shaft.position.copy(a).addScaledVector(dir, (len - head) / 2);
    cone.position.copy(b).addScaledVector(dir, -head / 2);
    g.add(shaft, cone);
  }

  dispose() {
    this.clear();
    for (const geo of this.geometries.values()) geo.dispose();
    this.geometries.clear();
    this.view.scene.remove(this.group);
  }
}
