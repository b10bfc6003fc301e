// glTF/GLB models of asset types: loaded once per type, baked into per-material geometries, scaled to
// the type's footprint (width × depth × height), so AssetMeshes can still instance them.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { mergeGeometries } from 'three/addons/utils/BufferGeometryUtils.js';

export class Models {
  constructor({ onError = () => {} } = {}) {
    this.loader = new GLTFLoader();
    this.cache = new Map(); // url|size -> Promise<parts|null>
    this.onError = onError;
  }

  load(type) {
    const key = `${type.model_url}|${type.width_m}|${type.depth_m}|${type.height_m}`;
    if (!this.cache.has(key)) this.cache.set(key, this.loadParts(type));
    return this.cache.get(key);
  }

  async loadParts(type) {
    try {
      const gltf = await this.loader.loadAsync(type.model_url);
      const root = gltf.scene || gltf.scenes[0];
      root.updateMatrixWorld(true);
      const groups = new Map(); // material -> geometries
      root.traverse((o) => {
        if (!o.isMesh || !o.geometry) return;
        const mats = Array.isArray(o.material) ? o.material : [o.material];
        const g = o.geometry.clone();
        g.applyMatrix4(o.matrixWorld);
        for (const name of Object.keys(g.attributes)) if (!['position', 'normal', 'uv'].includes(name)) g.deleteAttribute(name);
        if (!g.attributes.normal) g.computeVertexNormals();
        if (!g.attributes.uv) g.setAttribute('uv', new THREE.BufferAttribute(new Float32Array(g.attributes.position.count * 2), 2));
        const geom = g.index ? g.toNonIndexed() : g;
        const mat = mats[0];
        if (!groups.has(mat)) groups.set(mat, []);
        groups.get(mat).push(geom);
      });
      if (!groups.size) return null;
      const box = new THREE.Box3();
      const parts = [];
      for (const [mat, geoms] of groups) {
        const merged = geoms.length === 1 ? geoms[0] : mergeGeometries(geoms, false);
        if (!merged) continue;
        merged.computeBoundingBox();
        box.union(merged.boundingBox);
        parts.push({ geometry: merged, material: mat });
      }
      const size = box.getSize(new THREE.Vector3());
      const sx = type.width_m / Math.max(1e-6, size.x);
      const sy = type.height_m / Math.max(1e-6, size.y);
      const sz = type.depth_m / Math.max(1e-6, size.z);
      const cx = (box.min.x + box.max.x) / 2;
      const cz = (box.min.z + box.max.z) / 2;
      for (const p of parts) {
        p.geometry.translate(-cx, -box.min.y, -cz);
        p.geometry.scale(sx, sy, sz);
        p.geometry.computeBoundingSphere();
        p.geometry.computeBoundingBox();
        const m = p.material && p.material.isMaterial ? p.material.clone() : new THREE.MeshStandardMaterial();
        // The instance colour multiplies the model's colours; keep them as authored (white instance base).
        m.vertexColors = false;
        p.material = m;
        p.owned = true;
        p.neutralInstanceColor = true;
      }
      return parts;
    } catch (err) {
      this.onError(`Could not load the 3D model of ${type.name}: ${err.message || err}`);
      return null;
    }
  }
}
