// Turns pointer positions into assets (instance id), connections and floor points.
import * as THREE from 'three';

const floorPlane = new THREE.Plane(new THREE.Vector3(0, 1, 0), 0);

export class Picking {
  constructor(view) {
    this.view = view;
    this.raycaster = new THREE.Raycaster();
    this.ndc = new THREE.Vector2();
  }

  setFromEvent(clientX, clientY) {
    const rect = this.view.renderer.domElement.getBoundingClientRect();
    this.ndc.set(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(this.ndc, this.view.camera);
    return this.raycaster;
  }

  asset(clientX, clientY) {
    this.setFromEvent(clientX, clientY);
    return this.view.assetMeshes.pick(this.raycaster);
  }

  connection(clientX, clientY) {
    this.setFromEvent(clientX, clientY);
    return this.view.connections.pick(this.raycaster);
  }

  // Nearest of asset / connection under the pointer.
  any(clientX, clientY) {
    this.setFromEvent(clientX, clientY);
    const a = this.view.assetMeshes.pick(this.raycaster);
    const c = this.view.connections.pick(this.raycaster);
    if (a && (!c || a.distance <= c.distance + 0.05)) return { kind: 'asset', id: a.id, point: a.point };
    if (c) return { kind: 'connection', id: c.id };
    return null;
  }

  floor(clientX, clientY) {
    this.setFromEvent(clientX, clientY);
    const p = new THREE.Vector3();
    return this.raycaster.ray.intersectPlane(floorPlane, p) ? p : null;
  }

  // Assets whose centre projects inside a client-space rectangle.
  inRect(x1, y1, x2, y2) {
    const rect = this.view.renderer.domElement.getBoundingClientRect();
    const minX = Math.min(x1, x2) - rect.left;
    const maxX = Math.max(x1, x2) - rect.left;
    const minY = Math.min(y1, y2) - rect.top;
    const maxY = Math.max(y1, y2) - rect.top;
    const v = new THREE.Vector3();
    const out = [];
    const cam = this.view.camera;
    for (const asset of this.view.editor.assets.values()) {
      const p = this.view.assetMeshes.poseOf(asset.id);
      v.set(p.x, 0.5, p.z).project(cam);
      if (v.z > 1) continue;
      const sx = ((v.x + 1) / 2) * rect.width;
      const sy = ((1 - v.y) / 2) * rect.height;
      if (sx >= minX && sx <= maxX && sy >= minY && sy <= maxY) out.push(asset.id);
    }
    return out;
  }
}
