// One merged geometry per asset type, shaped by its kind and sized by its width/depth/height.
// Vertex colours hold shading (white = the type colour, grey = darker accents); the instance colour tints it.
import * as THREE from 'three';
import { mergeGeometries } from 'three/addons/utils/BufferGeometryUtils.js';

function part(geom, { x = 0, y = 0, z = 0, rx = 0, ry = 0, rz = 0, shade = 1 } = {}) {
  const g = geom.index ? geom : geom;
  if (rx) g.rotateX(rx);
  if (ry) g.rotateY(ry);
  if (rz) g.rotateZ(rz);
  g.translate(x, y, z);
  const n = g.attributes.position.count;
  const colors = new Float32Array(n * 3).fill(shade);
  g.setAttribute('color', new THREE.BufferAttribute(colors, 3));
  if (!g.attributes.uv) g.setAttribute('uv', new THREE.BufferAttribute(new Float32Array(n * 2), 2));
  return g;
}

const box = (w, h, d, at) => part(new THREE.BoxGeometry(w, h, d), { ...at, y: (at?.y || 0) + h / 2 });
const cyl = (rt, rb, h, at, seg = 10) => part(new THREE.CylinderGeometry(rt, rb, h, seg), { ...at, y: (at?.y || 0) + h / 2 });

function machine(w, d, h) {
  const base = Math.min(0.15, h * 0.1);
  const parts = [
    box(w, base, d, { shade: 0.35 }),
    box(w * 0.94, h * 0.72, d * 0.94, { y: base, shade: 1 }),
    box(w * 0.7, h * 0.12, d * 0.7, { y: base + h * 0.72, shade: 0.8 }),
    box(w * 0.22, h * 0.28, 0.08, { y: h * 0.35, z: d * 0.47 + 0.04, x: w * 0.28, shade: 0.3 }),
    box(w * 0.5, h * 0.22, 0.04, { y: h * 0.4, z: d * 0.47 + 0.02, x: -w * 0.12, shade: 0.55 }),
    cyl(0.06, 0.06, h * 0.16, { x: w * 0.4, z: -d * 0.4, y: base + h * 0.72, shade: 0.45 }, 8),
  ];
  return parts;
}

// An assembly cell (CONTRACT §7): a low work table with a fixture, and a feeder bin on each side.
function assembly(w, d, h) {
  const table = h * 0.45;
  return [
    box(w * 0.6, table, d * 0.7, { shade: 1 }),
    box(w * 0.62, 0.06, d * 0.72, { y: table, shade: 0.5 }),
    box(w * 0.22, h * 0.3, d * 0.3, { y: table + 0.06, shade: 0.85 }),
    cyl(0.05, 0.05, h * 0.5, { x: w * 0.25, z: -d * 0.3, y: table, shade: 0.4 }, 8),
    box(w * 0.18, table * 0.8, d * 0.45, { x: -w * 0.4, shade: 0.65 }),
    box(w * 0.18, table * 0.8, d * 0.45, { x: w * 0.4, shade: 0.65 }),
  ];
}

function source(w, d, h) {
  const parts = [box(w, h * 0.55, d, { shade: 0.9 }), box(w * 1.02, h * 0.08, d * 1.02, { y: h * 0.55, shade: 0.45 })];
  const s = Math.min(w, d) * 0.28;
  parts.push(box(s, s, s, { x: -w * 0.2, y: h * 0.63, z: -d * 0.15, shade: 1 }));
  parts.push(box(s, s, s, { x: w * 0.18, y: h * 0.63, z: d * 0.12, shade: 0.8 }));
  parts.push(box(s * 0.9, s * 0.9, s * 0.9, { x: -w * 0.05, y: h * 0.63 + s, z: 0, shade: 0.95 }));
  return parts;
}

function sink(w, d, h) {
  const t = Math.min(0.08, w * 0.05);
  return [
    box(w, 0.12, d, { shade: 0.35 }),
    box(w, h, t, { z: -d / 2 + t / 2, shade: 1 }),
    box(w, h, t, { z: d / 2 - t / 2, shade: 1 }),
    box(t, h, d, { x: -w / 2 + t / 2, shade: 0.85 }),
    box(t, h, d, { x: w / 2 - t / 2, shade: 0.85 }),
  ];
}

function buffer(w, d, h) {
  const p = Math.min(0.1, w * 0.06);
  const parts = [];
  for (const sx of [-1, 1]) for (const sz of [-1, 1]) parts.push(box(p, h, p, { x: sx * (w / 2 - p / 2), z: sz * (d / 2 - p / 2), shade: 0.4 }));
  const shelves = Math.max(2, Math.min(4, Math.round(h / 0.6)));
  for (let i = 0; i < shelves; i++) {
    const y = (i / (shelves - 1)) * (h - 0.06);
    parts.push(box(w, 0.06, d, { y, shade: 1 }));
    if (i < shelves - 1) parts.push(box(w * 0.35, Math.min(0.35, h / shelves - 0.1), d * 0.7, { y: y + 0.06, x: -w * 0.22, shade: 0.7 }));
  }
  return parts;
}

function conveyorKind(w, d, h) {
  const parts = [box(w, h * 0.12, d, { y: h * 0.78, shade: 0.3 })];
  parts.push(box(w, h * 0.14, 0.06, { y: h * 0.8, z: d / 2 - 0.03, shade: 1 }));
  parts.push(box(w, h * 0.14, 0.06, { y: h * 0.8, z: -d / 2 + 0.03, shade: 1 }));
  const legs = Math.max(2, Math.round(w / 1.5));
  for (let i = 0; i < legs; i++) {
    const x = -w / 2 + 0.1 + (i / (legs - 1)) * (w - 0.2);
    parts.push(box(0.08, h * 0.78, 0.08, { x, z: d / 2 - 0.08, shade: 0.45 }));
    parts.push(box(0.08, h * 0.78, 0.08, { x, z: -d / 2 + 0.08, shade: 0.45 }));
  }
  return parts;
}

function robot(w, d, h) {
  const r = Math.min(w, d) * 0.28;
  const arm = Math.max(0.12, r * 0.35);
  return [
    box(w * 0.9, 0.08, d * 0.9, { shade: 0.35 }),
    cyl(r, r * 1.1, h * 0.18, { y: 0.08, shade: 0.5 }, 12),
    cyl(r * 0.75, r * 0.8, h * 0.12, { y: 0.08 + h * 0.18, shade: 1 }, 12),
    part(new THREE.BoxGeometry(arm, h * 0.45, arm), { y: h * 0.5, x: r * 0.25, rz: -0.35, shade: 1 }),
    part(new THREE.BoxGeometry(h * 0.4, arm * 0.8, arm * 0.8), { y: h * 0.72, x: r * 0.6 + h * 0.12, rz: -0.25, shade: 0.9 }),
    part(new THREE.SphereGeometry(arm * 0.7, 8, 6), { y: h * 0.7, x: r * 0.42, shade: 0.4 }),
    part(new THREE.BoxGeometry(arm * 0.6, h * 0.12, arm * 0.9), { y: h * 0.56, x: r * 0.6 + h * 0.3, shade: 0.35 }),
  ];
}

function operator(w, d, h) {
  const r = Math.min(w, d, 0.6) * 0.38;
  return [
    part(new THREE.CapsuleGeometry(r, Math.max(0.1, h * 0.78 - 2 * r), 3, 10), { y: h * 0.39 + 0.02, shade: 1 }),
    part(new THREE.SphereGeometry(r * 0.72, 10, 7), { y: h * 0.86, shade: 0.85 }),
  ];
}

function decor(w, d, h) {
  return [box(w, h, d, { shade: 1 })];
}

const BUILDERS = { machine, assembly, source, sink, buffer, conveyor: conveyorKind, robot, operator, decor };

export function geometryForType(type) {
  const w = Math.max(0.1, Number(type.width_m) || 1);
  const d = Math.max(0.1, Number(type.depth_m) || 1);
  const h = Math.max(0.1, Number(type.height_m) || 1);
  const build = BUILDERS[type.kind] || decor;
  const parts = build(w, d, h);
  const merged = mergeGeometries(parts, false);
  for (const p of parts) p.dispose();
  merged.computeBoundingBox();
  merged.computeBoundingSphere();
  return merged;
}

export const STATUS_COLORS = {
  running: '#22c55e',
  idle: '#eab308',
  blocked: '#f97316',
  starved: '#a855f7',
  down: '#ef4444',
  offline: '#6b7280',
  unknown: '#94a3b8',
};

// A plain box of the type's size: the far level of detail (12 triangles).
export function proxyGeometryForType(type) {
  const w = Math.max(0.1, Number(type.width_m) || 1);
  const d = Math.max(0.1, Number(type.depth_m) || 1);
  const h = Math.max(0.1, Number(type.height_m) || 1);
  const g = type.kind === 'operator' ? new THREE.CylinderGeometry(Math.min(w, d) * 0.35, Math.min(w, d) * 0.35, h, 6) : new THREE.BoxGeometry(w, h, d);
  return part(g, { y: h / 2, shade: 0.95 });
}
