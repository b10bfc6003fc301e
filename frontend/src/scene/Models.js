// glTF/GLB models of asset types: loaded once per type, baked into per-material geometries, scaled to
// the type's footprint (width × depth × height), so AssetMeshes can still instance them.
// Uploaded models arrive meshopt-compressed and quantised (twins/services/model_optimize.py); the decoder is
// three's own, bundled by Vite. A type's far level of detail (model_far_url) is baked the same way and hung
// on each part as `farGeometry`, which AssetMeshes draws in its far view.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';
import { mergeGeometries } from 'three/addons/utils/BufferGeometryUtils.js';

const KEPT = ['position', 'normal', 'uv'];

export function createGltfLoader() {
  return new GLTFLoader().setMeshoptDecoder(MeshoptDecoder);
}

export class Models {
  constructor({ onError = () => {} } = {}) {
    this.loader = createGltfLoader();
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
      const [near, far] = await Promise.all([
        this.loader.loadAsync(type.model_url).then(bake),
        type.model_far_url ? this.loader.loadAsync(type.model_far_url).then(bake).catch(() => null) : null,
      ]);
      if (!near.size) return null;
      // Both levels are placed by the near level's box, so switching between them moves nothing.
      const box = new THREE.Box3();
      for (const part of near.values()) box.union(part.geometry.boundingBox);
      const size = box.getSize(new THREE.Vector3());
      const fit = (g) => {
        g.translate(-(box.min.x + box.max.x) / 2, -box.min.y, -(box.min.z + box.max.z) / 2);
        g.scale(type.width_m / Math.max(1e-6, size.x), type.height_m / Math.max(1e-6, size.y), type.depth_m / Math.max(1e-6, size.z));
        g.computeBoundingSphere();
        g.computeBoundingBox();
        return g;
      };
      const parts = [];
      for (const [key, part] of near) {
        const m = part.material && part.material.isMaterial ? part.material.clone() : new THREE.MeshStandardMaterial();
        // The instance colour multiplies the model's colours; keep them as authored (white instance base).
        m.vertexColors = false;
        const farPart = far && far.get(key);
        parts.push({ geometry: fit(part.geometry), farGeometry: farPart ? fit(farPart.geometry) : null, material: m, owned: true, neutralInstanceColor: true });
      }
      return parts;
    } catch (err) {
      this.onError(`Could not load the 3D model of ${type.name}: ${err.message || err}`);
      return null;
    }
  }
}

// One merged, world-space, float geometry per glTF material: Map<material index, {geometry, material}>.
function bake(gltf) {
  const root = gltf.scene || gltf.scenes[0];
  root.updateMatrixWorld(true);
  const groups = new Map(); // material index -> {material, geometries}
  root.traverse((o) => {
    if (!o.isMesh || !o.geometry) return;
    const mat = Array.isArray(o.material) ? o.material[0] : o.material;
    const g = new THREE.BufferGeometry();
    for (const name of KEPT) if (o.geometry.attributes[name]) g.setAttribute(name, toFloat(o.geometry.attributes[name]));
    if (o.geometry.index) g.setIndex(o.geometry.index);
    g.applyMatrix4(o.matrixWorld);
    if (!g.attributes.normal) g.computeVertexNormals();
    if (!g.attributes.uv) g.setAttribute('uv', new THREE.BufferAttribute(new Float32Array(g.attributes.position.count * 2), 2));
    const key = (gltf.parser.associations.get(mat) || {}).materials ?? mat.uuid;
    if (!groups.has(key)) groups.set(key, { material: mat, geometries: [] });
    groups.get(key).geometries.push(g.index ? g.toNonIndexed() : g);
  });
  const baked = new Map();
  for (const [key, { material, geometries }] of groups) {
    const geometry = geometries.length === 1 ? geometries[0] : mergeGeometries(geometries, false);
    if (!geometry) continue;
    geometry.computeBoundingBox();
    baked.set(key, { geometry, material });
  }
  return baked;
}

// A float copy of an attribute: quantised ones (KHR_mesh_quantization: normalised int16 positions, int8
// normals) decoded, so node transforms can be baked in and parts of different quantisation merged; always a
// copy, since nodes that share a mesh share its attributes.
function toFloat(attr) {
  if (attr.array instanceof Float32Array && !attr.isInterleavedBufferAttribute) return attr.clone();
  const out = new Float32Array(attr.count * attr.itemSize);
  for (let i = 0; i < attr.count; i++) for (let k = 0; k < attr.itemSize; k++) out[i * attr.itemSize + k] = attr.getComponent(i, k);
  return new THREE.BufferAttribute(out, attr.itemSize);
}
