// Draws every asset with one InstancedMesh per asset type (or per material of its glTF model), so draw
// calls stay flat as the layout grows. Keeps assetId <-> (type, instance index) maps for picking.
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
    this.detailed = true;
  }

  // Far level of detail: every type drawn as its box when the camera is far away (big layouts); a glTF model
  // by its simplified far level when the upload has one (Models: part.farGeometry).
  setDetailed(detailed) {
    if (detailed === this.detailed) return;
    this.detailed = detailed;
    for (const entry of this.entries.values()) this.applyDetail(entry);
    this.onChange();
  }

  applyDetail(entry) {
    if (!entry.proxyGeometry) entry.proxyGeometry = proxyGeometryForType(entry.type);
    const useProxy = !this.detailed && entry.parts.length === 1 && entry.parts[0].owned && !entry.parts[0].neutralInstanceColor;
    const mesh = entry.meshes[0];
    if (mesh) mesh.geometry = useProxy ? entry.proxyGeometry : entry.parts[0].geometry;
    entry.parts.forEach((p, i) => {
      if (p.farGeometry && entry.meshes[i]) entry.meshes[i].geometry = this.detailed ? p.geometry : p.farGeometry;
    });
    // Contact shadows only close up: from far away they are invisible but cost fill rate.
    for (const m of entry.meshes) if (m.userData.noPick) m.visible = this.detailed;
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
      entry = { typeId, type, ids: [], capacity, meshes: [], parts: null };
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
    const oldMatrix = keep && entry.meshes[0] ? entry.meshes[0].instanceMatrix.array : null;
    const oldColor = keep && entry.meshes[0] && entry.meshes[0].instanceColor ? entry.meshes[0].instanceColor.array : null;
    for (const mesh of entry.meshes) {
      this.group.remove(mesh);
      mesh.dispose();
    }
    entry.meshes = [];
    const matrix = new THREE.InstancedBufferAttribute(new Float32Array(entry.capacity * 16), 16);
    matrix.setUsage(THREE.DynamicDrawUsage);
    const color = new THREE.InstancedBufferAttribute(new Float32Array(entry.capacity * 3), 3);
    color.setUsage(THREE.DynamicDrawUsage);
    if (oldMatrix) matrix.array.set(oldMatrix.subarray(0, Math.min(oldMatrix.length, matrix.array.length)));
    if (oldColor) color.array.set(oldColor.subarray(0, Math.min(oldColor.length, color.array.length)));
    for (const p of entry.parts) {
      const mesh = new THREE.InstancedMesh(p.geometry, p.material, entry.capacity);
      mesh.instanceMatrix = matrix;
      mesh.instanceColor = color;
      mesh.count = entry.ids.length;
      mesh.castShadow = true;
      mesh.receiveShadow = true;
      mesh.frustumCulled = false;
      mesh.name = `Assets:${entry.type.name}`;
      mesh.userData.entry = entry;
      entry.meshes.push(mesh);
      this.group.add(mesh);
    }
    if (this.blobShadows) {
      // Soft contact shadow under each asset (cheap stand-in for shadow maps on software renderers).
      if (!entry.blobGeometry) {
        const w = entry.type.width_m * 1.25 + 0.5;
        const d = entry.type.depth_m * 1.25 + 0.5;
        entry.blobGeometry = new THREE.PlaneGeometry(w, d).rotateX(-Math.PI / 2).translate(0.25, 0.012, 0.3);
      }
      const blob = new THREE.InstancedMesh(entry.blobGeometry, this.blobMaterial, entry.capacity);
      blob.instanceMatrix = matrix;
      blob.count = entry.ids.length;
      blob.frustumCulled = false;
      blob.renderOrder = 2;
      blob.name = `Shadows:${entry.type.name}`;
      blob.userData.entry = entry;
      blob.userData.noPick = true;
      entry.meshes.push(blob);
      this.group.add(blob);
    }
    this.applyDetail(entry);
    if (entry.type.kind === 'operator') this.layoutCrew(entry);
    if (keep) {
      // Colours may need the new material's vertex colour semantics; recompute everything.
      entry.ids.forEach((id, i) => this.writeInstance(entry, i, this.editor.assets.get(id)));
      this.flush(entry);
    }
  }

  disposeEntry(entry) {
    for (const mesh of entry.meshes) {
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
    for (const mesh of entry.meshes) mesh.count = entry.ids.length;
  }

  writeInstance(entry, index, asset) {
    if (!asset) return;
    const pose = this.poses.get(asset.id) || asset;
    pos.set(Number(pose.x) || 0, 0, Number(pose.z) || 0);
    q.setFromAxisAngle(yAxis, THREE.MathUtils.degToRad(Number(pose.rotation_deg) || 0));
    m4.compose(pos, q, scl);
    const mesh = entry.meshes[0];
    if (!mesh) return;
    mesh.setMatrixAt(index, m4);
    mesh.setColorAt(index, this.colorFor(asset, entry));
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
    const mesh = entry.meshes[0];
    if (!mesh) return;
    mesh.instanceMatrix.needsUpdate = true;
    if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
    for (const m of entry.meshes) {
      m.boundingSphere = null; // recomputed lazily by the next raycast
      m.boundingBox = null;
    }
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
      const mesh = entry.meshes[0];
      mesh.getMatrixAt(last, m4);
      mesh.setMatrixAt(index, m4);
      mesh.getColorAt(last, tmpColor);
      mesh.setColorAt(index, tmpColor);
    }
    entry.ids.pop();
    this.slots.delete(id);
    this.poses.delete(id);
    for (const mesh of entry.meshes) mesh.count = entry.ids.length;
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
      slot.entry.meshes[0].setColorAt(slot.index, this.colorFor(asset, slot.entry));
      touched.add(slot.entry);
    }
    for (const entry of touched) {
      entry.meshes[0].instanceColor.needsUpdate = true;
      if (entry.crew) this.layoutCrew(entry);
    }
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
  get meshes() {
    const out = [];
    for (const e of this.entries.values()) {
      for (const m of e.meshes) if (m.count > 0 && !m.userData.noPick) out.push(m);
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
      if (entry && hit.instanceId !== undefined && hit.instanceId < entry.ids.length) return { id: entry.ids[hit.instanceId], point: hit.point, distance: hit.distance };
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
