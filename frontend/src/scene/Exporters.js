// PNG screenshot of the current view and glTF export of the layout (floor, assets, connections).
import * as THREE from 'three';
import { GLTFExporter } from 'three/addons/exporters/GLTFExporter.js';
import { geometryForType } from './AssetGeometry.js';

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

const slug = (s) => String(s || 'layout').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export function screenshot(view, name) {
  const dataUrl = view.screenshot();
  const bin = atob(dataUrl.split(',')[1]);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const blob = new Blob([bytes], { type: 'image/png' });
  download(blob, `${slug(name)}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.png`);
  return blob;
}

// A clean export scene: one node per asset (named after it, ids in extras) sharing a mesh per type,
// the floor slab and the connections, all with glTF's own PBR material.
export function buildExportScene(editor) {
  const root = new THREE.Group();
  root.name = editor.layout ? editor.layout.name : 'Layout';
  root.userData = { layout: editor.layout ? editor.layout.id : null, revision: editor.layout ? editor.layout.revision : null };
  const f = editor.factory;
  const floor = new THREE.Mesh(new THREE.PlaneGeometry(f.floor_width_m, f.floor_depth_m).rotateX(-Math.PI / 2), new THREE.MeshStandardMaterial({ color: 0xe4e7ea, roughness: 0.9 }));
  floor.name = 'Floor';
  floor.position.set(f.floor_width_m / 2, 0, f.floor_depth_m / 2);
  root.add(floor);
  const perType = new Map();
  for (const t of editor.types.values()) {
    const material = new THREE.MeshStandardMaterial({ color: t.color || '#8899aa', vertexColors: true, roughness: 0.55, metalness: 0.15 });
    material.name = t.name;
    perType.set(t.id, { geometry: geometryForType(t), material });
  }
  const assets = new THREE.Group();
  assets.name = 'Assets';
  root.add(assets);
  for (const a of editor.assets.values()) {
    const pt = perType.get(a.asset_type);
    if (!pt) continue;
    const mesh = new THREE.Mesh(pt.geometry, pt.material);
    mesh.name = a.name;
    mesh.position.set(a.x, 0, a.z);
    mesh.rotation.y = THREE.MathUtils.degToRad(a.rotation_deg || 0);
    mesh.userData = { id: a.id, uid: a.uid, asset_type: a.asset_type, twin_key: a.twin_key || '', params: a.params || {} };
    assets.add(mesh);
  }
  const belts = new THREE.Group();
  belts.name = 'Connections';
  root.add(belts);
  const beltMat = new THREE.MeshStandardMaterial({ color: '#3f4a55', roughness: 0.8 });
  for (const c of editor.connections.values()) {
    const s = editor.assets.get(c.source);
    const t = editor.assets.get(c.target);
    if (!s || !t) continue;
    const len = Math.hypot(t.x - s.x, t.z - s.z);
    if (len < 1e-3) continue;
    const belt = new THREE.Mesh(new THREE.BoxGeometry(len, 0.08, 0.5), beltMat);
    belt.name = `${s.name} → ${t.name}`;
    belt.position.set((s.x + t.x) / 2, 0.45, (s.z + t.z) / 2);
    belt.rotation.y = Math.atan2(-(t.z - s.z), t.x - s.x);
    belt.userData = { id: c.id, source: c.source, target: c.target, buffer_capacity: c.buffer_capacity, transport_speed_mps: c.transport_speed_mps, weight: c.weight };
    belts.add(belt);
  }
  return root;
}

export async function exportGltf(view, name, { binary = true } = {}) {
  const exporter = new GLTFExporter();
  const scene = buildExportScene(view.editor);
  const result = await exporter.parseAsync(scene, { binary, onlyVisible: true });
  scene.traverse((o) => {
    if (o.geometry) o.geometry.dispose();
  });
  const blob = binary ? new Blob([result], { type: 'model/gltf-binary' }) : new Blob([JSON.stringify(result)], { type: 'model/gltf+json' });
  download(blob, `${slug(name)}.${binary ? 'glb' : 'gltf'}`);
  return blob;
}
