// The three.js view of the editor's state: renderer, camera, orbit controls, lights, floor, assets,
// connections, overlays and the render loop. It listens to editor signals and never changes state itself.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { buildFloor } from './Floor.js';
import { AssetMeshes } from './AssetMeshes.js';
import { Connections } from './Connections.js';
import { Labels } from './Labels.js';
import { SelectionOutline, TwinBeacons } from './Overlays.js';
import { detectQuality } from './quality.js';

export class SceneView {
  constructor(container, editor, { models = null } = {}) {
    this.container = container;
    this.editor = editor;
    this.quality = detectQuality();
    this.renderer = new THREE.WebGLRenderer({ antialias: this.quality.antialias, powerPreference: 'high-performance', preserveDrawingBuffer: false });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, this.quality.maxPixelRatio));
    this.renderer.shadowMap.enabled = this.quality.shadows;
    this.renderer.shadowMap.type = THREE.PCFShadowMap;
    this.renderer.toneMapping = THREE.NeutralToneMapping;
    this.renderer.toneMappingExposure = 1.0;
    this.renderer.domElement.className = 'viewport-canvas';
    this.renderer.domElement.tabIndex = 0;
    this.renderer.domElement.setAttribute('data-testid', 'viewport');
    container.appendChild(this.renderer.domElement);

    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color('#dde3e9');
    this.scene.fog = new THREE.Fog('#dde3e9', 200, 900);
    this.camera = new THREE.PerspectiveCamera(50, 1, 0.1, 4000);
    this.camera.position.set(30, 40, 70);

    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.12;
    this.controls.maxPolarAngle = Math.PI * 0.495;
    this.controls.minDistance = 1.5;
    this.controls.screenSpacePanning = false;
    this.controls.zoomToCursor = true;
    this.controls.addEventListener('change', () => this.invalidate());
    this.controls.addEventListener('start', () => (this.userMoved = true));

    this.hemi = new THREE.HemisphereLight('#f4f7fb', '#7c848c', 1.6);
    this.scene.add(this.hemi);
    this.sun = new THREE.DirectionalLight('#ffffff', 2.2);
    this.sun.castShadow = this.quality.shadows;
    this.sun.shadow.bias = -0.0005;
    this.sun.shadow.normalBias = 0.03;
    this.scene.add(this.sun);
    this.scene.add(this.sun.target);

    this.world = new THREE.Group();
    this.world.name = 'Layout';
    this.scene.add(this.world);
    this.floor = null;

    this.assetMeshes = new AssetMeshes(editor, models, { blobShadows: !this.quality.shadows, cheap: !this.quality.shadows });
    this.assetMeshes.onChange = () => this.invalidate();
    this.world.add(this.assetMeshes.group);
    const poseOf = (id) => this.assetMeshes.poseOf(id);
    this.connections = new Connections(editor, poseOf, { cheap: !this.quality.shadows });
    this.world.add(this.connections.group);
    this.outline = new SelectionOutline();
    this.scene.add(this.outline.object);
    this.beacons = new TwinBeacons();
    this.world.add(this.beacons.group);
    this.axes = new THREE.AxesHelper(3);
    this.axes.position.set(0, 0.02, 0);
    this.axes.name = 'Axes';
    this.scene.add(this.axes);

    this.helpers = new THREE.Group(); // gizmo helper, avatars, etc.
    this.scene.add(this.helpers);

    this.labels = new Labels(container, editor, poseOf);
    this.labels.orbitDistance = () => (this.walking ? 0 : this.camera.position.distanceTo(this.controls.target));

    this.timer = new THREE.Timer();
    this.frameTimes = [];
    this.lastInfo = { calls: 0, triangles: 0 };
    this.dirty = true;
    this.idleSince = performance.now();
    this.lastRender = 0;
    this.beforeRender = []; // callbacks (dt) -> run every frame
    this.afterFirstFrame = [];
    this.firstFrameDone = false;
    this.size = { width: 1, height: 1 };

    this.bindEditor();
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
  }

  bindEditor() {
    const e = this.editor.signals;
    e.sceneLoaded.add((ed, opts) => this.rebuild(opts));
    e.assetAdded.add((a) => {
      this.assetMeshes.add(a);
      this.structureChanged();
    });
    e.assetChanged.add((a) => {
      this.assetMeshes.update(a);
      this.structureChanged();
    });
    e.assetRemoved.add((id) => {
      this.assetMeshes.remove(id);
      this.structureChanged();
    });
    e.assetPreview.add((id, pose) => {
      this.assetMeshes.setPreview(id, pose);
      this.structureChanged();
    });
    const conn = () => this.structureChanged();
    e.connectionAdded.add(conn);
    e.connectionChanged.add(conn);
    e.connectionRemoved.add(conn);
    e.selectionChanged.add((ids) => {
      this.assetMeshes.setSelection(ids);
      this.connections.setSelected(this.editor.selectedConnection);
      this.structureChanged();
    });
    e.twinsChanged.add(() => {
      this.assetMeshes.refreshColors();
      this.updateBeacons();
      this.invalidate();
    });
  }

  rebuild({ keepView = false } = {}) {
    const factory = this.editor.factory;
    if (this.floor) {
      this.world.remove(this.floor.group);
      this.floor.group.traverse((o) => {
        if (o.geometry) o.geometry.dispose();
        if (o.material) o.material.dispose();
      });
    }
    this.floor = buildFloor(factory, { cheap: !this.quality.shadows });
    this.world.add(this.floor.group);
    this.labels.setDimensionMarks(this.floor.dimensionMarks);
    const b = this.floor.bounds;
    const span = Math.max(b.width, b.depth);
    this.sun.position.set(b.cx - span * 0.35, span * 0.9 + 20, b.cz + span * 0.55);
    this.sun.target.position.set(b.cx, 0, b.cz);
    const cam = this.sun.shadow.camera;
    const half = span * 0.75 + 10;
    cam.left = -half;
    cam.right = half;
    cam.top = half;
    cam.bottom = -half;
    cam.near = 1;
    cam.far = span * 3 + 100;
    cam.updateProjectionMatrix();
    const size = span > 250 ? 4096 : 2048;
    if (this.sun.shadow.mapSize.x !== size) {
      this.sun.shadow.mapSize.set(size, size);
      if (this.sun.shadow.map) {
        this.sun.shadow.map.dispose();
        this.sun.shadow.map = null;
      }
    }
    this.scene.fog.near = span * 2;
    this.scene.fog.far = span * 6 + 200;
    this.camera.far = Math.max(2000, span * 8);
    this.camera.updateProjectionMatrix();
    this.controls.maxDistance = span * 3 + 50;
    this.assetMeshes.rebuild();
    this.connections.layout();
    this.updateBeacons();
    this.updateOutline();
    if (!keepView) this.frameAll(false);
    this.invalidate();
  }

  // Compiles the shader programs the layout will need while the scene payload is still downloading
  // (programs are cached by their parameters, so the real materials reuse them).
  warmup() {
    const t0 = performance.now();
    const cheap = !this.quality.shadows;
    const geom = new THREE.BoxGeometry(1, 1, 1);
    geom.setAttribute('color', new THREE.BufferAttribute(new Float32Array(geom.attributes.position.count * 3).fill(1), 3));
    const lit = cheap ? new THREE.MeshLambertMaterial({ vertexColors: true }) : new THREE.MeshStandardMaterial({ vertexColors: true });
    const inst = new THREE.InstancedMesh(geom, lit, 1);
    inst.setColorAt(0, new THREE.Color(1, 1, 1));
    inst.castShadow = inst.receiveShadow = !cheap;
    const flat = new THREE.Mesh(geom, cheap ? new THREE.MeshBasicMaterial() : new THREE.MeshStandardMaterial());
    flat.receiveShadow = !cheap;
    const lineGeom = new THREE.BufferGeometry();
    lineGeom.setAttribute('position', new THREE.Float32BufferAttribute([0, 0, 0, 1, 0, 0], 3));
    lineGeom.setAttribute('color', new THREE.Float32BufferAttribute([1, 1, 1, 1, 1, 1], 3));
    const lines = new THREE.LineSegments(lineGeom, new THREE.LineBasicMaterial({ vertexColors: true, transparent: true }));
    const axesLike = new THREE.LineSegments(lineGeom, new THREE.LineBasicMaterial({ vertexColors: true, toneMapped: false }));
    const group = new THREE.Group();
    group.add(inst, flat, lines, axesLike);
    if (this.assetMeshes.blobMaterial) {
      const blob = new THREE.InstancedMesh(geom, this.assetMeshes.blobMaterial, 1);
      group.add(blob);
    }
    this.scene.add(group);
    try {
      this.renderer.compile(this.scene, this.camera);
    } catch {
      /* warm-up is best effort */
    }
    this.scene.remove(group);
    // Keep the warm-up materials alive until the first frame has taken over their programs:
    // disposing them now would release (and delete) the programs we just compiled.
    this.afterFirstFrame.push(() =>
      setTimeout(() => {
        inst.dispose();
        geom.dispose();
        lineGeom.dispose();
        lit.dispose();
        flat.material.dispose();
        lines.material.dispose();
        axesLike.material.dispose();
      }, 0),
    );
    this.warmupMs = performance.now() - t0;
  }

  structureChanged() {
    this.connections.needsLayout = true;
    this.outlineDirty = true;
    this.beaconsDirty = true;
    this.labels.dirty = true;
    this.invalidate();
  }

  updateOutline() {
    const items = this.editor.selection.map((id) => {
      const pose = this.assetMeshes.poseOf(id);
      const asset = this.editor.assets.get(id);
      return { pose, type: asset && this.editor.types.get(asset.asset_type) };
    }).filter((i) => i.pose);
    this.outline.update(items);
    this.outlineDirty = false;
  }

  updateBeacons() {
    const items = [];
    for (const asset of this.editor.assets.values()) {
      if (!asset.twin_key) continue;
      const twin = this.editor.twins.get(asset.twin_key);
      items.push({ id: asset.id, pose: this.assetMeshes.poseOf(asset.id), type: this.editor.types.get(asset.asset_type), status: twin ? twin.status || 'unknown' : 'unknown' });
    }
    this.beacons.update(items);
    this.beaconsDirty = false;
  }

  // ---- camera ---------------------------------------------------------------------------------------
  frameAll(animate = true) {
    const b = this.floor ? this.floor.bounds : { cx: 30, cz: 20, width: 60, depth: 40 };
    // Fit the floor (plus its dimension marks) in view from a 50° elevation, whatever the aspect.
    const elev = THREE.MathUtils.degToRad(50);
    const vfov = THREE.MathUtils.degToRad(this.camera.fov);
    const aspect = this.size.width / Math.max(1, this.size.height);
    const hfov = 2 * Math.atan(Math.tan(vfov / 2) * aspect);
    const w = b.width + 8;
    const d = b.depth + 8;
    const distW = w / 2 / Math.tan(hfov / 2) + d / 2;
    const distD = (d * Math.sin(elev)) / 2 / Math.tan(vfov / 2) + (d / 2) * Math.cos(elev);
    const dist = Math.max(distW, distD) * 0.98;
    const target = new THREE.Vector3(b.cx, 0, b.cz + 1);
    const position = new THREE.Vector3(b.cx, Math.sin(elev) * dist, b.cz + 1 + Math.cos(elev) * dist);
    this.flyTo(position, target, animate);
  }

  frameAssets(ids, animate = true) {
    const box = new THREE.Box3();
    for (const id of ids) {
      const pose = this.assetMeshes.poseOf(id);
      const asset = this.editor.assets.get(id);
      if (!pose || !asset) continue;
      const t = this.editor.types.get(asset.asset_type) || { width_m: 1, depth_m: 1, height_m: 1 };
      const r = Math.max(t.width_m, t.depth_m) / 2;
      box.expandByPoint(new THREE.Vector3(pose.x - r, 0, pose.z - r));
      box.expandByPoint(new THREE.Vector3(pose.x + r, t.height_m, pose.z + r));
    }
    if (box.isEmpty()) return;
    const center = box.getCenter(new THREE.Vector3());
    const size = box.getSize(new THREE.Vector3()).length();
    const dist = Math.max(11, size * 2.4);
    const dir = this.camera.position.clone().sub(this.controls.target).normalize();
    if (dir.y < 0.3) dir.y = 0.45;
    dir.normalize();
    this.flyTo(center.clone().add(dir.multiplyScalar(dist)), center, animate);
  }

  // Toggles between a plan view of the whole floor and the view the user had before.
  topView(animate = true) {
    const cam = this.camera.position;
    const t = this.controls.target;
    const isTop = Math.hypot(cam.x - t.x, cam.z - t.z) < 0.05 && cam.y > t.y;
    if (isTop && this.beforeTop) {
      const prev = this.beforeTop;
      this.beforeTop = null;
      this.inTopView = false;
      return this.flyTo(prev.p, prev.t, animate);
    }
    this.beforeTop = { p: cam.clone(), t: t.clone() };
    this.inTopView = true;
    const b = this.floor.bounds;
    const span = Math.max(b.width, b.depth * (this.size.width / Math.max(1, this.size.height)));
    const dist = (span / 2 / Math.tan(THREE.MathUtils.degToRad(this.camera.fov / 2))) * 1.12;
    this.flyTo(new THREE.Vector3(b.cx, dist, b.cz + 0.001), new THREE.Vector3(b.cx, 0, b.cz), animate);
  }

  flyTo(position, target, animate = true) {
    if (this.floor && this.firstFrameDone) this.userMoved = true;
    if (!animate) {
      this.camera.position.copy(position);
      this.controls.target.copy(target);
      this.controls.update();
      this.invalidate();
      return;
    }
    const p0 = this.camera.position.clone();
    const t0 = this.controls.target.clone();
    const start = performance.now();
    const duration = 600;
    this.flight = (now) => {
      const k = Math.min(1, (now - start) / duration);
      const e = k < 0.5 ? 4 * k * k * k : 1 - Math.pow(-2 * k + 2, 3) / 2;
      this.camera.position.lerpVectors(p0, position, e);
      this.controls.target.lerpVectors(t0, target, e);
      if (k >= 1) this.flight = null;
    };
    this.invalidate();
  }

  // ---- rendering ------------------------------------------------------------------------------------------
  resize() {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.size = { width: w, height: h };
    this.renderer.setSize(w, h, false);
    this.renderer.domElement.style.width = `${w}px`;
    this.renderer.domElement.style.height = `${h}px`;
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    // Until the user has moved the camera, keep the whole floor framed as panels settle.
    if (this.floor && !this.userMoved && !this.flight && !this.walking) {
      this.frameAll(false);
      this.userMoved = false;
    }
    this.invalidate();
  }

  invalidate() {
    this.dirty = true;
    this.idleSince = performance.now();
  }

  start() {
    this.renderer.setAnimationLoop((t) => this.tick(t));
  }

  tick() {
    const now = performance.now();
    this.timer.update();
    const dt = Math.min(0.1, this.timer.getDelta());
    if (this.flight) this.flight(now);
    for (const fn of this.beforeRender) fn(dt);
    if (!this.walking) this.controls.update();
    this.updateDetail();
    if (this.connections.needsLayout) this.connections.layout();
    if (this.outlineDirty) this.updateOutline();
    if (this.beaconsDirty) this.updateBeacons();
    // Render every frame while something moves; when idle, keep the belts animating at ~12 fps.
    const idle = now - this.idleSince > 1500 && !this.flight && !this.renderer.xr.isPresenting;
    if (!this.dirty && idle && now - this.lastRender < 80) return;
    this.connections.animate(this.lastRender ? Math.min(0.2, (now - this.lastRender) / 1000) : dt);
    this.render();
    this.lastRender = now;
    this.dirty = false;
  }

  // What is drawn of the assets follows the camera: only what is in view, in full when near, as boxes when
  // far (AssetMeshes.cull; a no-op when neither the camera nor an asset changed).
  updateDetail(camera = this.camera) {
    this.assetMeshes.cull(camera, this.walking);
    this.connections.cull(camera);
  }

  render() {
    const t0 = this.firstFrameDone ? 0 : performance.now();
    this.renderer.render(this.scene, this.camera);
    if (!this.firstFrameDone) this.firstRenderMs = performance.now() - t0;
    const info = this.renderer.info.render;
    this.lastInfo = { calls: info.calls, triangles: info.triangles };
    this.labels.update(this.camera, this.size.width, this.size.height);
    const now = performance.now();
    this.frameTimes.push(now);
    while (this.frameTimes.length && now - this.frameTimes[0] > 1000) this.frameTimes.shift();
    for (const fn of this.afterRenderHooks || []) fn();
    if (!this.firstFrameDone) {
      this.firstFrameDone = true;
      const hooks = this.afterFirstFrame;
      this.afterFirstFrame = [];
      for (const fn of hooks) fn();
    }
  }

  stats() {
    const now = performance.now();
    const frames = this.frameTimes.filter((t) => now - t <= 1000);
    let fps = frames.length;
    if (frames.length >= 2) fps = Math.round(((frames.length - 1) * 1000) / Math.max(1, frames[frames.length - 1] - frames[0]));
    return { assets: this.editor.assets.size, drawCalls: this.lastInfo.calls, triangles: this.lastInfo.triangles, fps };
  }

  // CSS-pixel position (relative to the page) of an asset's centre.
  screenPosition(id, y = null) {
    const pose = this.assetMeshes.poseOf(this.editor.resolveId(id));
    if (!pose) return null;
    const asset = this.editor.getAsset(id);
    const t = asset && this.editor.types.get(asset.asset_type);
    const v = new THREE.Vector3(pose.x, y ?? (t ? t.height_m / 2 : 0.5), pose.z).project(this.camera);
    const rect = this.renderer.domElement.getBoundingClientRect();
    return { x: rect.left + ((v.x + 1) / 2) * rect.width, y: rect.top + ((1 - v.y) / 2) * rect.height, visible: v.z < 1 && Math.abs(v.x) <= 1 && Math.abs(v.y) <= 1 };
  }

  worldToScreen(x, y, z) {
    const v = new THREE.Vector3(x, y, z).project(this.camera);
    const rect = this.renderer.domElement.getBoundingClientRect();
    return { x: rect.left + ((v.x + 1) / 2) * rect.width, y: rect.top + ((1 - v.y) / 2) * rect.height };
  }

  // PNG of the current view without editing helpers (gizmo, selection outline).
  screenshot() {
    const hidden = this.scene.children.filter((o) => o.visible && (o.name === 'GizmoHelper' || o.name === 'SelectionOutline'));
    for (const o of hidden) o.visible = false;
    this.renderer.render(this.scene, this.camera);
    const url = this.renderer.domElement.toDataURL('image/png');
    for (const o of hidden) o.visible = true;
    this.invalidate();
    return url;
  }
}
