// The factory floor at its real size: concrete slab, 1 m / 5 m grid in one draw call, border and dimension ticks.
import * as THREE from 'three';

export function floorBounds(factory) {
  const W = Number(factory.floor_width_m) || 60;
  const D = Number(factory.floor_depth_m) || 40;
  return { minX: 0, minZ: 0, maxX: W, maxZ: D, width: W, depth: D, cx: W / 2, cz: D / 2 };
}

export function buildFloor(factory, { cheap = false } = {}) {
  // On software renderers the floor covers most pixels: an unlit material keeps frames fast.
  const surface = (color, roughness) => (cheap ? new THREE.MeshBasicMaterial({ color }) : new THREE.MeshStandardMaterial({ color, roughness, metalness: 0 }));
  const b = floorBounds(factory);
  const group = new THREE.Group();
  group.name = 'Floor';

  const margin = Math.max(6, Math.min(b.width, b.depth) * 0.15);
  const apron = new THREE.Mesh(
    new THREE.PlaneGeometry(b.width + margin * 2, b.depth + margin * 2),
    surface(cheap ? 0xaeb6be : 0xb9c0c7, 1),
  );
  apron.rotation.x = -Math.PI / 2;
  apron.position.set(b.cx, -0.02, b.cz);
  apron.receiveShadow = true;
  apron.name = 'Apron';
  group.add(apron);

  const slab = new THREE.Mesh(
    new THREE.PlaneGeometry(b.width, b.depth),
    surface(cheap ? 0xdfe3e7 : 0xe4e7ea, 0.92),
  );
  slab.rotation.x = -Math.PI / 2;
  slab.position.set(b.cx, 0, b.cz);
  slab.receiveShadow = true;
  slab.name = 'FloorSlab';
  group.add(slab);

  // Grid: minor 1 m lines (skipped on huge floors), major 5 m, heavy 10 m; all one LineSegments.
  const positions = [];
  const colors = [];
  const minor = new THREE.Color(0xcfd4d9);
  const major = new THREE.Color(0xaab2ba);
  const heavy = new THREE.Color(0x8d97a1);
  const step = b.width * b.depth > 250000 ? 5 : 1;
  const y = 0.005;
  const line = (x1, z1, x2, z2, c) => {
    positions.push(x1, y, z1, x2, y, z2);
    colors.push(c.r, c.g, c.b, c.r, c.g, c.b);
  };
  for (let x = 0; x <= b.width + 1e-6; x += step) line(x, 0, x, b.depth, x % 10 === 0 ? heavy : x % 5 === 0 ? major : minor);
  for (let z = 0; z <= b.depth + 1e-6; z += step) line(0, z, b.width, z, z % 10 === 0 ? heavy : z % 5 === 0 ? major : minor);
  // Dimension ticks outside the front and left edges.
  const tick = new THREE.Color(0x56616c);
  for (let x = 0; x <= b.width + 1e-6; x += 5) line(x, b.depth, x, b.depth + (x % 10 === 0 ? 1.2 : 0.6), tick);
  for (let z = 0; z <= b.depth + 1e-6; z += 5) line(0, z, -(z % 10 === 0 ? 1.2 : 0.6), z, tick);
  line(0, b.depth + 2, b.width, b.depth + 2, tick);
  line(-2, 0, -2, b.depth, tick);
  const gridGeom = new THREE.BufferGeometry();
  gridGeom.setAttribute('position', new THREE.Float32BufferAttribute(positions, 3));
  gridGeom.setAttribute('color', new THREE.Float32BufferAttribute(colors, 3));
  const grid = new THREE.LineSegments(gridGeom, new THREE.LineBasicMaterial({ vertexColors: true, transparent: true, opacity: 0.9 }));
  grid.name = 'Grid';
  grid.renderOrder = 1;
  group.add(grid);

  // Safety-yellow border around the slab.
  const border = new THREE.Mesh(
    borderGeometry(b, 0.25),
    surface(0xf2c230, 0.7),
  );
  border.name = 'FloorBorder';
  border.receiveShadow = true;
  group.add(border);

  return { group, slab, bounds: b, dimensionMarks: dimensionMarks(b) };
}

function borderGeometry(b, w) {
  const shape = new THREE.Shape();
  shape.moveTo(-w, -w);
  shape.lineTo(b.width + w, -w);
  shape.lineTo(b.width + w, b.depth + w);
  shape.lineTo(-w, b.depth + w);
  shape.lineTo(-w, -w);
  const hole = new THREE.Path();
  hole.moveTo(0, 0);
  hole.lineTo(0, b.depth);
  hole.lineTo(b.width, b.depth);
  hole.lineTo(b.width, 0);
  hole.lineTo(0, 0);
  shape.holes.push(hole);
  const geom = new THREE.ShapeGeometry(shape);
  geom.rotateX(Math.PI / 2);
  geom.translate(0, 0.01, 0);
  return geom;
}

// Positions (world) and texts of the dimension labels, drawn as HTML by Labels.
function dimensionMarks(b) {
  const marks = [];
  const every = b.width > 300 || b.depth > 300 ? 50 : b.width > 120 || b.depth > 120 ? 20 : 10;
  for (let x = 0; x <= b.width + 1e-6; x += every) marks.push({ pos: [x, 0, b.depth + 2.2], text: `${x} m`, kind: 'tick' });
  for (let z = 0; z <= b.depth + 1e-6; z += every) marks.push({ pos: [-2.4, 0, z], text: `${z} m`, kind: 'tick' });
  marks.push({ pos: [b.width / 2, 0, b.depth + 3.6], text: `${fmtM(b.width)} m`, kind: 'dim' });
  marks.push({ pos: [-3.8, 0, b.depth / 2], text: `${fmtM(b.depth)} m`, kind: 'dim' });
  return marks;
}

const fmtM = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
