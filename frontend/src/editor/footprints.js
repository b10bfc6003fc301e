// The footprint rule of the layout checks (CONTRACT §11), in the browser: the JS twin of footprint() and the
// overlap / clearance tests of twins/services/lint.py, so that the workspace can outline a collision while
// a machine is being dragged, before anything is saved. tests/platform/test_layout_lint_js.py runs this file
// through node against shapely on the same cases. Plain JavaScript, no three.js: node imports it as it is.

export const NOT_SOLID = new Set(['decor', 'operator']); // fences, walkways and people are not machines
export const AREA_EPS = 1e-6; // m²: less than this in common is touching, not overlapping

// Corners of a width × depth rectangle at (x, z) turned by rotationDeg about +y, the way the scene (three.js)
// turns it: local (x, z) → (x cos θ + z sin θ, −x sin θ + z cos θ). Same order as lint.footprint().
export function footprint(x, z, width, depth, rotationDeg = 0) {
  const t = ((Number(rotationDeg) || 0) * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const hw = width / 2;
  const hd = depth / 2;
  return [[-hw, -hd], [hw, -hd], [hw, hd], [-hw, hd]].map(([lx, lz]) => [x + lx * c + lz * s, z - lx * s + lz * c]);
}

function signedArea(poly) {
  let a = 0;
  for (let i = 0; i < poly.length; i++) {
    const [x1, z1] = poly[i];
    const [x2, z2] = poly[(i + 1) % poly.length];
    a += x1 * z2 - x2 * z1;
  }
  return a / 2;
}

export function area(poly) {
  return Math.abs(signedArea(poly));
}

// Area two convex polygons have in common (Sutherland–Hodgman: clip one by each edge of the other).
export function overlapArea(p, q) {
  const ccw = (poly) => (signedArea(poly) < 0 ? [...poly].reverse() : poly);
  let out = ccw(p);
  const clip = ccw(q);
  for (let i = 0; i < clip.length && out.length; i++) {
    const [ax, az] = clip[i];
    const [bx, bz] = clip[(i + 1) % clip.length];
    const side = ([x, z]) => (bx - ax) * (z - az) - (bz - az) * (x - ax); // > 0: inside (left of a→b)
    const input = out;
    out = [];
    for (let j = 0; j < input.length; j++) {
      const cur = input[j];
      const prev = input[(j + input.length - 1) % input.length];
      const sc = side(cur);
      const sp = side(prev);
      if (sc >= 0) {
        if (sp < 0) out.push(cross(prev, cur, sp, sc));
        out.push(cur);
      } else if (sp >= 0) out.push(cross(prev, cur, sp, sc));
    }
  }
  return out.length >= 3 ? area(out) : 0;
}

function cross(p, q, sp, sq) {
  const k = sp / (sp - sq);
  return [p[0] + (q[0] - p[0]) * k, p[1] + (q[1] - p[1]) * k];
}

function pointSegment([px, pz], [ax, az], [bx, bz]) {
  const dx = bx - ax;
  const dz = bz - az;
  const len = dx * dx + dz * dz;
  const k = len ? Math.max(0, Math.min(1, ((px - ax) * dx + (pz - az) * dz) / len)) : 0;
  return Math.hypot(px - (ax + k * dx), pz - (az + k * dz));
}

// Shortest distance between two convex polygons that do not overlap (0 when they touch or overlap).
export function gap(p, q) {
  if (overlapArea(p, q) > 0) return 0;
  let best = Infinity;
  for (const [a, b] of [[p, q], [q, p]]) {
    for (const point of a) for (let i = 0; i < b.length; i++) best = Math.min(best, pointSegment(point, b[i], b[(i + 1) % b.length]));
  }
  return best;
}

export const overlaps = (p, q) => overlapArea(p, q) > AREA_EPS;

// The footprint of an asset as the editor holds it (or as a drag previews it), or null when it is not solid.
export function assetFootprint(asset, type, pose = asset) {
  if (!asset || !type || NOT_SOLID.has(type.kind)) return null;
  return footprint(Number(pose.x) || 0, Number(pose.z) || 0, Number(type.width_m) || 0, Number(type.depth_m) || 0, pose.rotation_deg);
}

function bounds(poly) {
  let minX = Infinity;
  let minZ = Infinity;
  let maxX = -Infinity;
  let maxZ = -Infinity;
  for (const [x, z] of poly) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minZ = Math.min(minZ, z);
    maxZ = Math.max(maxZ, z);
  }
  return { minX, minZ, maxX, maxZ };
}

// Pairs [idA, idB] where one of `moving` (id -> footprint) overlaps another solid footprint of `all`
// (id -> footprint): what a drag is about to do. A bounds test first keeps this linear in the plant size.
export function overlapsOf(moving, all) {
  const pairs = [];
  const seen = new Set();
  const boxes = new Map();
  const boxOf = (id, poly) => boxes.get(id) || boxes.set(id, bounds(poly)).get(id);
  for (const [id, poly] of moving) {
    const a = boxOf(id, poly);
    for (const [other, q] of all) {
      if (other === id || !q) continue;
      const key = id < other ? `${id}:${other}` : `${other}:${id}`;
      if (seen.has(key)) continue;
      const b = boxOf(other, moving.get(other) || q);
      if (a.maxX <= b.minX || b.maxX <= a.minX || a.maxZ <= b.minZ || b.maxZ <= a.minZ) continue;
      seen.add(key);
      if (overlaps(poly, moving.get(other) || q)) pairs.push([id, other]);
    }
  }
  return pairs;
}
