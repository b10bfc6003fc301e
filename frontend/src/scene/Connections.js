// Connections drawn as raised conveyor belts between the assets' edges, with moving chevrons that show
// the flow direction. Belts are one InstancedMesh, chevrons another: two draw calls for any count. Like the
// assets (AssetMeshes.cull), only what is in view is drawn: near belts in full with their chevrons, far ones
// as a flat strip (2 triangles instead of 12) and no chevrons — a third draw call.
import * as THREE from 'three';

const BELT_Y = 0.45;
const BELT_W = 0.5;
const SPACING = 1.6;
const m4 = new THREE.Matrix4();
const q = new THREE.Quaternion();
const v = new THREE.Vector3();
const s = new THREE.Vector3();
const yAxis = new THREE.Vector3(0, 1, 0);
const BELT_COLOR = new THREE.Color('#3f4a55');
const WHITE = new THREE.Color(1, 1, 1);

function withWhite(geom) {
  geom.setAttribute('color', new THREE.BufferAttribute(new Float32Array(geom.attributes.position.count * 3).fill(1), 3));
  return geom;
}
const BELT_SELECTED = new THREE.Color('#38bdf8');
const BELT_PENDING = new THREE.Color('#f59e0b');
const frustum = new THREE.Frustum();
const viewProj = new THREE.Matrix4();
const nearDistance = (count) => (count <= 400 ? Infinity : 60);

// Distance from an oriented rectangle's centre to its edge along a direction (unit, world xz).
function edgeDistance(type, rotDeg, dx, dz) {
  if (!type) return 0.5;
  const r = THREE.MathUtils.degToRad(rotDeg || 0);
  const c = Math.cos(r);
  const sn = Math.sin(r);
  // World -> local (inverse rotation about y).
  const lx = dx * c - dz * sn;
  const lz = dx * sn + dz * c;
  const hw = type.width_m / 2;
  const hd = type.depth_m / 2;
  const tx = Math.abs(lx) > 1e-9 ? hw / Math.abs(lx) : Infinity;
  const tz = Math.abs(lz) > 1e-9 ? hd / Math.abs(lz) : Infinity;
  return Math.min(tx, tz);
}

export class Connections {
  constructor(editor, poseOf, { cheap = false } = {}) {
    this.editor = editor;
    this.poseOf = poseOf;
    this.group = new THREE.Group();
    this.group.name = 'Connections';
    this.ids = [];
    this.segments = []; // {id, ax, az, bx, bz, len}
    this.capacity = 0;
    this.chevronCapacity = 0;
    this.offset = 0;
    this.selected = null;
    // Belts and chevrons share the assets' shader (instanced Lambert with vertex colours): fewer programs
    // to compile means a faster first frame on software renderers.
    const beltGeom = withWhite(new THREE.BoxGeometry(1, 0.08, BELT_W));
    beltGeom.translate(0.5, 0, 0);
    this.beltGeom = beltGeom;
    this.beltMat = cheap ? new THREE.MeshLambertMaterial({ vertexColors: true }) : new THREE.MeshStandardMaterial({ roughness: 0.8, metalness: 0.2, vertexColors: true });
    const shape = new THREE.Shape();
    shape.moveTo(0.22, 0);
    shape.lineTo(-0.12, 0.18);
    shape.lineTo(-0.04, 0);
    shape.lineTo(-0.12, -0.18);
    shape.lineTo(0.22, 0);
    const chev = withWhite(new THREE.ShapeGeometry(shape));
    chev.rotateX(-Math.PI / 2);
    this.chevGeom = chev;
    this.chevMat = cheap ? new THREE.MeshLambertMaterial({ color: '#fbbf24', emissive: '#8a6410', vertexColors: true }) : new THREE.MeshBasicMaterial({ color: '#fbbf24' });
    this.farGeom = withWhite(new THREE.PlaneGeometry(1, BELT_W).rotateX(-Math.PI / 2).translate(0.5, 0.04, 0));
    this.belts = null;
    this.farBelts = null;
    this.chevrons = null;
    this.needsLayout = true;
    this.nearSegs = []; // segments drawn in full (belts' instance order), the others as far strips
    this.farSegs = [];
    this.sig = new Float32Array(16);
    this.camera = null;
  }

  ensureCapacity(belts, chevrons) {
    if (!this.belts || belts > this.capacity) {
      if (this.belts) {
        this.group.remove(this.belts);
        this.belts.dispose();
      }
      this.capacity = Math.max(32, Math.ceil(belts * 1.5));
      this.belts = new THREE.InstancedMesh(this.beltGeom, this.beltMat, this.capacity);
      this.belts.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
      this.belts.castShadow = true;
      this.belts.receiveShadow = true;
      this.belts.frustumCulled = false;
      this.belts.name = 'ConnectionBelts';
      this.belts.setColorAt(0, BELT_COLOR);
      this.group.add(this.belts);
      if (this.farBelts) {
        this.group.remove(this.farBelts);
        this.farBelts.dispose();
      }
      this.farBelts = new THREE.InstancedMesh(this.farGeom, this.beltMat, this.capacity);
      this.farBelts.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
      this.farBelts.receiveShadow = true;
      this.farBelts.frustumCulled = false;
      this.farBelts.name = 'ConnectionBeltsFar';
      this.farBelts.setColorAt(0, BELT_COLOR);
      this.farBelts.count = 0;
      this.group.add(this.farBelts);
    }
    if (!this.chevrons || chevrons > this.chevronCapacity) {
      if (this.chevrons) {
        this.group.remove(this.chevrons);
        this.chevrons.dispose();
      }
      this.chevronCapacity = Math.max(128, Math.ceil(chevrons * 1.5));
      this.chevrons = new THREE.InstancedMesh(this.chevGeom, this.chevMat, this.chevronCapacity);
      this.chevrons.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
      this.chevrons.frustumCulled = false;
      this.chevrons.setColorAt(0, new THREE.Color(1, 1, 1));
      for (let i = 1; i < this.chevronCapacity; i++) this.chevrons.setColorAt(i, WHITE);
      this.chevrons.name = 'ConnectionArrows';
      this.group.add(this.chevrons);
    }
  }

  // Recomputes every segment from the current asset poses.
  layout() {
    const editor = this.editor;
    this.segments = [];
    let chevronCount = 0;
    for (const c of editor.connections.values()) {
      const a = this.poseOf(c.source);
      const b = this.poseOf(c.target);
      if (!a || !b) continue;
      const ta = editor.types.get(editor.assets.get(c.source)?.asset_type);
      const tb = editor.types.get(editor.assets.get(c.target)?.asset_type);
      let dx = b.x - a.x;
      let dz = b.z - a.z;
      const full = Math.hypot(dx, dz);
      if (full < 1e-6) continue;
      dx /= full;
      dz /= full;
      const da = Math.min(edgeDistance(ta, a.rotation_deg, dx, dz), full * 0.45);
      const db = Math.min(edgeDistance(tb, b.rotation_deg, -dx, -dz), full * 0.45);
      const ax = a.x + dx * da;
      const az = a.z + dz * da;
      const len = Math.max(0.05, full - da - db);
      const n = Math.max(1, Math.floor(len / SPACING));
      this.segments.push({ id: c.id, ax, az, dx, dz, len, n });
      chevronCount += n;
    }
    this.ensureCapacity(this.segments.length, chevronCount);
    this.chevronCount = chevronCount;
    this.needsLayout = false;
    this.sig.fill(NaN);
    if (this.camera) this.cull(this.camera);
    else this.write(this.segments, []);
  }

  // Splits the segments into near (in full), far (a strip) and out of view; a no-op when the camera has not
  // moved since the last call and nothing was laid out meanwhile.
  cull(camera) {
    this.camera = camera;
    if (!this.belts) return false;
    camera.updateMatrixWorld();
    viewProj.multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse);
    let same = true;
    for (let k = 0; k < 16; k++) {
      if (this.sig[k] !== viewProj.elements[k]) same = false;
      this.sig[k] = viewProj.elements[k];
    }
    if (same) return false;
    frustum.setFromProjectionMatrix(viewProj);
    const near2 = nearDistance(this.segments.length) ** 2;
    const c = camera.position;
    const near = [];
    const far = [];
    const centre = new THREE.Vector3();
    const sphere = new THREE.Sphere(centre, 0);
    for (const seg of this.segments) {
      centre.set(seg.ax + (seg.dx * seg.len) / 2, BELT_Y, seg.az + (seg.dz * seg.len) / 2);
      sphere.radius = seg.len / 2 + BELT_W;
      if (!frustum.intersectsSphere(sphere)) continue;
      (centre.distanceToSquared(c) < near2 ? near : far).push(seg);
    }
    this.write(near, far);
    return true;
  }

  write(near, far) {
    const put = (mesh, list) => {
      list.forEach((seg, i) => {
        q.setFromAxisAngle(yAxis, Math.atan2(-seg.dz, seg.dx));
        m4.compose(v.set(seg.ax, BELT_Y, seg.az), q, s.set(seg.len, 1, 1));
        mesh.setMatrixAt(i, m4);
        mesh.setColorAt(i, seg.id === this.selected ? BELT_SELECTED : seg.id < 0 ? BELT_PENDING : BELT_COLOR);
      });
      mesh.count = list.length;
      mesh.instanceMatrix.needsUpdate = true;
      if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
      mesh.boundingSphere = null;
      mesh.boundingBox = null;
    };
    put(this.belts, near);
    put(this.farBelts, far);
    this.nearSegs = near;
    this.farSegs = far;
    this.animate(0);
  }

  // Moves the chevrons along the belts (dt in seconds).
  animate(dt) {
    if (!this.chevrons) return;
    this.offset = (this.offset + dt * 0.6) % SPACING;
    let k = 0;
    for (const seg of this.nearSegs) {
      const step = seg.len / seg.n;
      const yaw = Math.atan2(-seg.dz, seg.dx);
      q.setFromAxisAngle(yAxis, yaw);
      const phase = (this.offset / SPACING) * step;
      for (let i = 0; i < seg.n; i++) {
        const t = (i * step + phase + step * 0.5) % seg.len;
        m4.compose(v.set(seg.ax + seg.dx * t, BELT_Y + 0.045, seg.az + seg.dz * t), q, s.set(1, 1, 1));
        this.chevrons.setMatrixAt(k++, m4);
      }
    }
    this.chevrons.count = k;
    this.chevrons.instanceMatrix.needsUpdate = true;
  }

  setSelected(id) {
    this.selected = id;
    this.needsLayout = true;
  }

  pick(raycaster) {
    if (!this.belts) return null;
    const hits = raycaster.intersectObjects([this.belts, this.farBelts].filter((m) => m.count > 0), false);
    for (const hit of hits) {
      const seg = (hit.object === this.belts ? this.nearSegs : this.farSegs)[hit.instanceId];
      if (seg) return { id: seg.id, distance: hit.distance };
    }
    return null;
  }

  // Belt midpoint (for labels or framing).
  midpoint(id) {
    const seg = this.segments.find((s2) => s2.id === id);
    if (!seg) return null;
    return { x: seg.ax + (seg.dx * seg.len) / 2, z: seg.az + (seg.dz * seg.len) / 2 };
  }
}
