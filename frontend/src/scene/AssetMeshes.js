// Draws every asset with instanced meshes per asset type (or per material of its glTF model), so draw calls
// stay flat as the layout grows: 20,000 assets are a few dozen draws. Each type keeps its instances in a
// master array (assetId <-> index); what is drawn is compacted from it whenever the camera or an instance
// changes: per instance, culled against the view frustum, and split by distance into a near level (the full
// shape) and a far level (the type's box, or a glTF model's simplified far level). So a close-up of a big
// plant draws only what is in view, in detail, and an overview draws everything as boxes. Picking maps a
// drawn instance back to its asset.
// An operator pool (CONTRACT §7) is drawn as the crew it is: its `capacity` workers, the first at the asset's
// position and the others in a ring around it, all in one more InstancedMesh per operator type.
import * as THREE from 'three';
import { geometryForType, proxyGeometryForType } from './AssetGeometry.js';

const SELECTED = new THREE.Color('#38bdf8');
const HOVER = new THREE.Color('#ffffff');
const tmpColor = new THREE.Color();
const m4 = new THREE.Matrix4();
const q = new THREE.Quaternion();
const pos = new THREE.Vector3();
const scl = new THREE.Vector3(1, 1, 1);
const yAxis = new THREE.Vector3(0, 1, 0);
const offset = new THREE.Vector3();
const MAX_CREW = 24; // figures drawn per pool; a bigger pool still shows its size in the inspector
const BLOB_MAX_ASSETS = 400;
const frustum = new THREE.Frustum();
const viewProj = new THREE.Matrix4();

// Distance (m) from the camera within which an instance is drawn in full: small layouts always are.
export function nearDistance(count) {
  if (count <= 400) return Infinity;
  return count <= 2500 ? 60 : 45;
}

export class AssetMeshes {
  constructor(editor, models = null, { blobShadows = false, cheap = false } = {}) {
    this.cheap = cheap;
    this.editor = editor;
    this.models = models;
    this.blobShadows = blobShadows;
    this.blobMaterial = blobShadows ? makeBlobMaterial() : null;
    this.group = new THREE.Group();
    this.group.name = 'Assets';
    this.entries = new Map(); // typeId -> entry
    this.slots = new Map(); // assetId -> {entry, index}
    this.selected = new Set();
    this.hovered = null;
    this.poses = new Map(); // assetId -> preview pose while dragging
    this.onChange = () => {};
    this.changes = 0; // bumped by every instance write: the next cull() recompacts
    this.culled = { changes: -1, camera: new Float32Array(32) };
    this.drawn = { near: 0, far: 0 };
  }

  // The far shape of each part: a procedural type's box, a glTF model's far level when the upload has one,
  // else none (that part is drawn in full at any distance).
  farGeometries(entry) {
    if (entry.parts.length === 1 && entry.parts[0].owned && !entry.parts[0].neutralInstanceColor) {
      if (!entry.proxyGeometry) entry.proxyGeometry = proxyGeometryForType(entry.type);
      return [entry.proxyGeometry];
    }
    return entry.parts.map((p) => p.farGeometry || null);
  }

  // Compacts what is drawn from the master arrays: in the frustum, near or far. Cheap when nothing moved.
  cull(camera, walking = false) {
    camera.updateMatrixWorld();
    viewProj.multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse);
    const sig = this.culled.camera;
    let same = this.culled.changes === this.changes;
    for (let k = 0; k < 16; k++) {
      if (sig[k] !== viewProj.elements[k]) same = false;
      sig[k] = viewProj.elements[k];
    }
    if (same) return false;
    this.culled.changes = this.changes;
    frustum.setFromProjectionMatrix(viewProj);
    const planes = frustum.planes;
    const near = walking ? 40 : nearDistance(this.slots.size);
    const near2 = near * near;
    const cx = camera.position.x;
    const cy = camera.position.y;
    const cz = camera.position.z;
    let nNear = 0;
    let nFar = 0;
    for (const entry of this.entries.values()) {
      const M = entry.master.matrix;
      const C = entry.master.color;
      const NM = entry.nearMatrix.array;
      const NC = entry.nearColor.array;
      const FM = entry.farMatrix ? entry.farMatrix.array : null;
      const FC = entry.farColor ? entry.farColor.array : null;
      const r = entry.radius;
      const hy = entry.halfHeight;
      let a = 0;
      let b = 0;
      const nearIds = entry.nearIds;
      const farIds = entry.farIds;
      nearIds.length = 0;
      farIds.length = 0;
      for (let i = 0; i < entry.ids.length; i++) {
        const o = i * 16;
        const x = M[o + 12];
        const z = M[o + 14];
        let inside = true;
        for (let p = 0; p < 6; p++) {
          const pl = planes[p];
          if (pl.normal.x * x + pl.normal.y * hy + pl.normal.z * z + pl.constant < -r) {
            inside = false;
            break;
          }
        }
        if (!inside) continue;
        const dx = x - cx;
        const dy = hy - cy;
        const dz = z - cz;
        if (!FM || dx * dx + dy * dy + dz * dz < near2) {
          for (let k = 0; k < 16; k++) NM[a * 16 + k] = M[o + k];
          NC[a * 3] = C[i * 3];
          NC[a * 3 + 1] = C[i * 3 + 1];
          NC[a * 3 + 2] = C[i * 3 + 2];
          nearIds.push(entry.ids[i]);
          a++;
        } else {
          for (let k = 0; k < 16; k++) FM[b * 16 + k] = M[o + k];
          FC[b * 3] = C[i * 3];
          FC[b * 3 + 1] = C[i * 3 + 1];
          FC[b * 3 + 2] = C[i * 3 + 2];
          farIds.push(entry.ids[i]);
          b++;
        }
      }
      this.upload(entry.nearMatrix, a * 16);
      this.upload(entry.nearColor, a * 3);
      for (const m of entry.near) m.count = a;
      // Contact shadows only on small layouts: on a big one their overlapping transparent quads are fill rate
      // a software renderer pays at every close-up, for a detail nobody reads at that density.
      if (entry.blob) entry.blob.count = this.slots.size <= BLOB_MAX_ASSETS ? a : 0;
      if (entry.blob) entry.blob.visible = entry.blob.count > 0;
      if (entry.farMatrix) {
        this.upload(entry.farMatrix, b * 16);
        this.upload(entry.farColor, b * 3);
        for (const m of entry.far) if (m) m.count = b;
      }
      for (const m of [...entry.near, ...entry.far]) {
        if (!m) continue;
        m.visible = m.count > 0;
        m.boundingSphere = null; // recomputed lazily by the next raycast
        m.boundingBox = null;
      }
      nNear += a;
      nFar += b;
    }
    this.drawn = { near: nNear, far: nFar };
    return true;
  }

  upload(attr, length) {
    attr.clearUpdateRanges();
    if (length > 0) attr.addUpdateRange(0, length);
    attr.needsUpdate = true;
  }

  // ---- building ----------------------------------------------------------------------------------
  rebuild() {
    for (const entry of this.entries.values()) this.disposeEntry(entry);
    this.entries.clear();
    this.slots.clear();
    this.poses.clear();
    const byType = new Map();
    for (const asset of this.editor.assets.values()) {
      if (!byType.has(asset.asset_type)) byType.set(asset.asset_type, []);
      byType.get(asset.asset_type).push(asset);
    }
    for (const [typeId, list] of byType) {
      const entry = this.ensureEntry(typeId, list.length);
      if (!entry) continue;
      for (const asset of list) this.appendInstance(entry, asset);
      this.flush(entry);
    }
    this.onChange();
  }

  ensureEntry(typeId, needed = 1) {
    let entry = this.entries.get(typeId);
    const type = this.editor.types.get(typeId);
    if (!type) return null;
    if (!entry) {
      const capacity = Math.max(16, Math.ceil(needed * 1.25));
      entry = { typeId, type, ids: [], capacity, near: [], far: [], blob: null, nearIds: [], farIds: [], parts: null, master: null };
      entry.radius = Math.hypot(Number(type.width_m) || 1, Number(type.depth_m) || 1, Number(type.height_m) || 1) / 2 + 0.1;
      entry.halfHeight = (Number(type.height_m) || 1) / 2;
      entry.parts = this.partsFor(type);
      this.createMeshes(entry);
      this.entries.set(typeId, entry);
      if (this.models && type.model_url) {
        this.models.load(type).then((parts) => {
          if (parts && this.entries.get(typeId) === entry) {
            entry.parts = parts;
            this.createMeshes(entry, true);
            this.onChange();
          }
        });
      }
    } else if (entry.ids.length + needed > entry.capacity) {
      entry.capacity = Math.ceil((entry.ids.length + needed) * 1.6);
      this.createMeshes(entry, true);
    }
    return entry;
  }

  partsFor(type) {
    const geometry = geometryForType(type);
    const material = this.cheap ? new THREE.MeshLambertMaterial({ vertexColors: true }) : new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.55, metalness: 0.15 });
    return [{ geometry, material, owned: true }];
  }

  // (Re)creates the InstancedMeshes of an entry, keeping the instance data when growing.
  createMeshes(entry, keep = false) {
    const old = keep && entry.master ? entry.master : null;
    for (const mesh of this.meshesOf(entry)) {
      this.group.remove(mesh);
      mesh.dispose();
    }
    const cap = entry.capacity;
    entry.master = { matrix: new Float32Array(cap * 16), color: new Float32Array(cap * 3) };
    if (old) {
      entry.master.matrix.set(old.matrix.subarray(0, Math.min(old.matrix.length, cap * 16)));
      entry.master.color.set(old.color.subarray(0, Math.min(old.color.length, cap * 3)));
    }
    const attr = (size) => new THREE.InstancedBufferAttribute(new Float32Array(cap * size), size).setUsage(THREE.DynamicDrawUsage);
    entry.nearMatrix = attr(16);
    entry.nearColor = attr(3);
    const farGeoms = this.farGeometries(entry);
    const hasFar = farGeoms.some(Boolean);
    entry.farMatrix = hasFar ? attr(16) : null;
    entry.farColor = hasFar ? attr(3) : null;
    const make = (geometry, material, matrix, color, level) => {
      const mesh = new THREE.InstancedMesh(geometry, material, cap);
      mesh.instanceMatrix = matrix;
      mesh.instanceColor = color;
      mesh.count = 0;
      mesh.castShadow = true;
      mesh.receiveShadow = true;
      mesh.frustumCulled = false; // culled per instance by cull()
      mesh.name = `Assets:${entry.type.name}${level === 'far' ? ':far' : ''}`;
      mesh.userData.entry = entry;
      mesh.userData.level = level;
      this.group.add(mesh);
      return mesh;
    };
    entry.near = entry.parts.map((p) => make(p.geometry, p.material, entry.nearMatrix, entry.nearColor, 'near'));
    // A part without a far shape of its own is drawn far as it is near (the model stays whole).
    entry.far = hasFar ? entry.parts.map((p, i) => make(farGeoms[i] || p.geometry, p.material, entry.farMatrix, entry.farColor, 'far')) : [];
    entry.blob = null;
    if (this.blobShadows) {
      // Soft contact shadow under each near asset (cheap stand-in for shadow maps on software renderers);
      // from far away it is invisible but would cost fill rate.
      if (!entry.blobGeometry) {
        const w = entry.type.width_m * 1.25 + 0.5;
        const d = entry.type.depth_m * 1.25 + 0.5;
        entry.blobGeometry = new THREE.PlaneGeometry(w, d).rotateX(-Math.PI / 2).translate(0.25, 0.012, 0.3);
      }
      const blob = new THREE.InstancedMesh(entry.blobGeometry, this.blobMaterial, cap);
      blob.instanceMatrix = entry.nearMatrix;
      blob.count = 0;
      blob.frustumCulled = false;
      blob.renderOrder = 2;
      blob.name = `Shadows:${entry.type.name}`;
      blob.userData.entry = entry;
      blob.userData.noPick = true;
      entry.blob = blob;
      this.group.add(blob);
    }
    if (entry.type.kind === 'operator') this.layoutCrew(entry);
    if (keep) {
      // Colours may need the new material's vertex colour semantics; recompute everything.
      entry.ids.forEach((id, i) => this.writeInstance(entry, i, this.editor.assets.get(id)));
      this.flush(entry);
    }
    this.changes++;
  }

  meshesOf(entry) {
    return [...(entry.near || []), ...(entry.far || []).filter(Boolean), ...(entry.blob ? [entry.blob] : [])];
  }

  disposeEntry(entry) {
    for (const mesh of this.meshesOf(entry)) {
      this.group.remove(mesh);
      mesh.dispose();
    }
    if (entry.blobGeometry) entry.blobGeometry.dispose();
    if (entry.proxyGeometry) entry.proxyGeometry.dispose();
    if (entry.crew) {
      this.group.remove(entry.crew.mesh);
      entry.crew.mesh.dispose();
      entry.crew.geometry.dispose();
      entry.crew.material.dispose();
    }
    for (const p of entry.parts || []) {
      if (p.owned) {
        p.geometry.dispose();
        if (p.farGeometry) p.farGeometry.dispose();
        p.material.dispose();
      }
    }
  }

  // ---- instances ------------------------------------------------------------------------------------
  appendInstance(entry, asset) {
    const index = entry.ids.length;
    entry.ids.push(asset.id);
    this.slots.set(asset.id, { entry, index });
    this.writeInstance(entry, index, asset);
  }

  writeInstance(entry, index, asset) {
    if (!asset) return;
    const pose = this.poses.get(asset.id) || asset;
    pos.set(Number(pose.x) || 0, 0, Number(pose.z) || 0);
    q.setFromAxisAngle(yAxis, THREE.MathUtils.degToRad(Number(pose.rotation_deg) || 0));
    m4.compose(pos, q, scl);
    if (!entry.master) return;
    m4.toArray(entry.master.matrix, index * 16);
    this.colorFor(asset, entry).toArray(entry.master.color, index * 3);
    this.changes++;
  }

  colorFor(asset, entry) {
    // glTF models keep their authored colours (white instance base); procedural shapes take the type colour.
    // A twin's status is never painted on the body (a red dock would read as "down"): the status ring on the
    // floor and the beacon above show it (Overlays.TwinBeacons).
    const neutral = entry.parts && entry.parts[0] && entry.parts[0].neutralInstanceColor;
    tmpColor.set(neutral ? '#ffffff' : entry.type.color || '#8899aa');
    if (this.selected.has(asset.id)) tmpColor.lerp(SELECTED, 0.55);
    else if (this.hovered === asset.id) tmpColor.lerp(HOVER, 0.25);
    return tmpColor;
  }

  // ---- operator crews ---------------------------------------------------------------------------------
  crewSize(asset, type) {
    const capacity = Number((asset.params || {}).capacity ?? (type.defaults || {}).capacity ?? 1);
    return Number.isFinite(capacity) ? Math.max(1, Math.min(MAX_CREW, Math.floor(capacity))) : 1;
  }

  // The workers after the first of every pool of this type, placed around their pool and tinted like it.
  layoutCrew(entry) {
    const type = entry.type;
    const owners = [];
    for (const id of entry.ids) {
      const asset = this.editor.assets.get(id);
      if (asset) for (let k = 1; k < this.crewSize(asset, type); k++) owners.push([id, k]);
    }
    let crew = entry.crew;
    if (!crew || crew.capacity < owners.length) {
      if (crew) {
        this.group.remove(crew.mesh);
        crew.mesh.dispose();
      }
      const geometry = crew ? crew.geometry : geometryForType(type);
      const material = crew ? crew.material : new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.6, metalness: 0.05 });
      const capacity = Math.max(16, Math.ceil(owners.length * 1.5));
      const mesh = new THREE.InstancedMesh(geometry, material, capacity);
      mesh.instanceColor = new THREE.InstancedBufferAttribute(new Float32Array(capacity * 3), 3);
      mesh.castShadow = true;
      mesh.frustumCulled = false;
      mesh.name = `Crew:${type.name}`;
      mesh.userData.entry = entry;
      crew = entry.crew = { mesh, geometry, material, capacity, owners };
      this.group.add(mesh);
    }
    crew.owners = owners;
    const spacing = Math.max(0.75, Math.max(Number(type.width_m) || 0.6, Number(type.depth_m) || 0.6) * 1.25);
    owners.forEach(([id, k], j) => {
      const asset = this.editor.assets.get(id);
      const pose = this.poses.get(id) || asset;
      const n = this.crewSize(asset, type) - 1;
      const ring = k <= 8 ? 1 : 2; // eight around the first worker, the rest one step further out
      const inRing = ring === 1 ? Math.min(n, 8) : n - 8;
      const slot = ring === 1 ? k - 1 : k - 9;
      const angle = (slot / inRing) * Math.PI * 2 + (ring === 2 ? Math.PI / inRing : 0);
      const rot = THREE.MathUtils.degToRad(Number(pose.rotation_deg) || 0);
      offset.set(Math.cos(angle) * spacing * ring, 0, Math.sin(angle) * spacing * ring).applyAxisAngle(yAxis, rot);
      pos.set((Number(pose.x) || 0) + offset.x, 0, (Number(pose.z) || 0) + offset.z);
      q.setFromAxisAngle(yAxis, rot + angle);
      m4.compose(pos, q, scl);
      crew.mesh.setMatrixAt(j, m4);
      crew.mesh.setColorAt(j, this.colorFor(asset, entry));
    });
    crew.mesh.count = owners.length;
    crew.mesh.instanceMatrix.needsUpdate = true;
    crew.mesh.instanceColor.needsUpdate = true;
    crew.mesh.boundingSphere = null;
    crew.mesh.boundingBox = null;
  }

  flush(entry) {
    if (entry.type.kind === 'operator') this.layoutCrew(entry);
    this.changes++;
  }

  add(asset) {
    if (this.slots.has(asset.id)) return this.update(asset);
    const entry = this.ensureEntry(asset.asset_type, 1);
    if (!entry) return;
    this.appendInstance(entry, asset);
    this.flush(entry);
    this.onChange();
  }

  update(asset) {
    const slot = this.slots.get(asset.id);
    if (!slot) return this.add(asset);
    if (slot.entry.typeId !== asset.asset_type) {
      this.remove(asset.id);
      return this.add(asset);
    }
    this.writeInstance(slot.entry, slot.index, asset);
    this.flush(slot.entry);
    this.onChange();
  }

  remove(id) {
    const slot = this.slots.get(id);
    if (!slot) return;
    const { entry, index } = slot;
    const last = entry.ids.length - 1;
    if (index !== last) {
      const movedId = entry.ids[last];
      entry.ids[index] = movedId;
      this.slots.set(movedId, { entry, index });
      entry.master.matrix.copyWithin(index * 16, last * 16, last * 16 + 16);
      entry.master.color.copyWithin(index * 3, last * 3, last * 3 + 3);
    }
    entry.ids.pop();
    this.slots.delete(id);
    this.poses.delete(id);
    this.flush(entry);
    this.onChange();
  }

  setPreview(id, pose) {
    const asset = this.editor.assets.get(id);
    if (!asset) return;
    if (pose) this.poses.set(id, { ...asset, ...pose });
    else this.poses.delete(id);
    this.update(asset);
  }

  clearPreviews() {
    const ids = [...this.poses.keys()];
    this.poses.clear();
    for (const id of ids) {
      const a = this.editor.assets.get(id);
      if (a) this.update(a);
    }
  }

  // Current drawn pose (preview or state).
  poseOf(id) {
    return this.poses.get(id) || this.editor.assets.get(id);
  }

  refreshColors(ids = null) {
    const list = ids || [...this.slots.keys()];
    const touched = new Set();
    for (const id of list) {
      const slot = this.slots.get(id);
      const asset = this.editor.assets.get(id);
      if (!slot || !asset) continue;
      this.colorFor(asset, slot.entry).toArray(slot.entry.master.color, slot.index * 3);
      touched.add(slot.entry);
    }
    for (const entry of touched) if (entry.crew) this.layoutCrew(entry);
    if (touched.size) this.changes++;
    this.onChange();
  }

  setSelection(ids) {
    const before = [...this.selected];
    this.selected = new Set(ids);
    this.refreshColors([...new Set([...before, ...ids])]);
  }

  setHovered(id) {
    if (id === this.hovered) return;
    const before = this.hovered;
    this.hovered = id;
    this.refreshColors([before, id].filter((v) => v !== null && v !== undefined));
  }

  // ---- picking ----------------------------------------------------------------------------------
  // The colour an asset is drawn in (its master instance colour), as '#rrggbb'.
  colorOf(id) {
    const slot = this.slots.get(id);
    return slot ? `#${tmpColor.fromArray(slot.entry.master.color, slot.index * 3).getHexString()}` : null;
  }

  get meshes() {
    const out = [];
    for (const e of this.entries.values()) {
      for (const m of [...e.near, ...e.far]) if (m && m.count > 0) out.push(m);
      if (e.crew && e.crew.mesh.count > 0) out.push(e.crew.mesh);
    }
    return out;
  }

  pick(raycaster) {
    const hits = raycaster.intersectObjects(this.meshes, false);
    for (const hit of hits) {
      const entry = hit.object.userData.entry;
      if (entry && entry.crew && hit.object === entry.crew.mesh) {
        const owner = entry.crew.owners[hit.instanceId];
        if (owner) return { id: owner[0], point: hit.point, distance: hit.distance };
        continue;
      }
      const drawn = entry && (hit.object.userData.level === 'far' ? entry.farIds : entry.nearIds);
      if (drawn && hit.instanceId !== undefined && hit.instanceId < drawn.length) return { id: drawn[hit.instanceId], point: hit.point, distance: hit.distance };
    }
    return null;
  }

  get count() {
    return this.slots.size;
  }
}

function makeBlobMaterial() {
  const size = 64;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const g = canvas.getContext('2d');
  const img = g.createImageData(size, size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Rounded-rectangle falloff: opaque core, soft edges.
      const u = Math.abs((x + 0.5) / size - 0.5) * 2;
      const v = Math.abs((y + 0.5) / size - 0.5) * 2;
      const d = Math.pow(Math.pow(u, 4) + Math.pow(v, 4), 0.25);
      const a = 1 - THREE.MathUtils.smoothstep(d, 0.55, 1.0);
      const i = (y * size + x) * 4;
      img.data[i] = img.data[i + 1] = img.data[i + 2] = 0;
      img.data[i + 3] = Math.round(a * 255);
    }
  }
  g.putImageData(img, 0, 0);
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  return new THREE.MeshBasicMaterial({ map: tex, transparent: true, opacity: 0.38, depthWrite: false, color: 0x000000, toneMapped: false });
}
