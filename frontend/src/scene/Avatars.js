// Other people in the room: a body and head in their colour with a name tag, placed at their camera pose
// and smoothly interpolated between pose ticks. A floating camera (orbiting) shows as a head + view cone.
import * as THREE from 'three';

const BODY = new THREE.CapsuleGeometry(0.22, 0.9, 3, 10).translate(0, -0.95, 0);
const HEAD = new THREE.SphereGeometry(0.17, 14, 10);
const VISOR = new THREE.BoxGeometry(0.22, 0.07, 0.08).translate(0, 0.02, -0.15);
const CONE = new THREE.ConeGeometry(0.35, 0.8, 4, 1, true).rotateX(-Math.PI / 2).rotateZ(Math.PI / 4).translate(0, 0, -0.55);

export class Avatars {
  constructor(view) {
    this.view = view;
    this.group = new THREE.Group();
    this.group.name = 'Avatars';
    view.scene.add(this.group);
    this.items = new Map(); // user id -> {root, body, target{p,q}, label}
    this.tags = document.createElement('div');
    this.tags.className = 'avatar-tags';
    view.container.appendChild(this.tags);
    view.beforeRender.push((dt) => this.update(dt));
    view.afterRenderHooks = view.afterRenderHooks || [];
    view.afterRenderHooks.push(() => this.updateTags());
  }

  ensure(member) {
    let it = this.items.get(member.id);
    if (it) {
      if (it.color !== member.color) this.recolor(it, member.color);
      it.label.firstChild.textContent = member.username;
      return it;
    }
    const color = new THREE.Color(member.color || '#888');
    const mat = new THREE.MeshLambertMaterial({ color });
    const dark = new THREE.MeshBasicMaterial({ color: '#0f172a' });
    const coneMat = new THREE.MeshBasicMaterial({ color, transparent: true, opacity: 0.25, side: THREE.DoubleSide, depthWrite: false });
    const root = new THREE.Group();
    root.name = `Avatar:${member.username}`;
    const head = new THREE.Mesh(HEAD, mat);
    const visor = new THREE.Mesh(VISOR, dark);
    const body = new THREE.Mesh(BODY, mat);
    const cone = new THREE.Mesh(CONE, coneMat);
    head.add(visor);
    root.add(head, cone);
    // The body stays upright: it is a sibling that only follows the yaw.
    const bodyRoot = new THREE.Group();
    bodyRoot.add(body);
    this.group.add(root, bodyRoot);
    const label = document.createElement('div');
    label.className = 'avatar-tag';
    label.style.borderColor = member.color;
    label.append(document.createTextNode(member.username), document.createElement('span'));
    label.dataset.testid = `avatar-${member.username}`;
    this.tags.appendChild(label);
    it = { id: member.id, root, bodyRoot, head, mat, coneMat, label, color: member.color, target: null, has: false, member };
    this.items.set(member.id, it);
    return it;
  }

  recolor(it, color) {
    it.color = color;
    it.mat.color.set(color);
    it.coneMat.color.set(color);
    it.label.style.borderColor = color;
  }

  setMembers(members, meId) {
    const ids = new Set();
    for (const m of members) {
      if (m.id === meId) continue;
      ids.add(m.id);
      this.ensure(m);
    }
    for (const [id, it] of this.items) if (!ids.has(id)) this.removeItem(id, it);
    this.view.invalidate();
  }

  removeItem(id, it) {
    this.group.remove(it.root, it.bodyRoot);
    it.mat.dispose();
    it.coneMat.dispose();
    it.label.remove();
    this.items.delete(id);
  }

  setPoses(poses) {
    for (const [uid, pose] of Object.entries(poses)) {
      const it = this.items.get(Number(uid));
      if (!it || !pose || !pose.p || !pose.q) continue;
      const p = new THREE.Vector3(...pose.p);
      const q = new THREE.Quaternion(...pose.q).normalize();
      it.target = { p, q };
      if (!it.has) {
        it.root.position.copy(p);
        it.root.quaternion.copy(q);
        it.has = true;
      }
    }
    this.view.invalidate();
  }

  poseOf(userId) {
    const it = this.items.get(userId);
    return it && it.target ? it.target : null;
  }

  update(dt) {
    let moving = false;
    const k = 1 - Math.exp(-dt * 12);
    const eye = this.view.camera.position;
    for (const it of this.items.values()) {
      // Someone standing where our camera is would fill the whole view: hide them until they step away.
      const tooClose = it.root.position.distanceToSquared(eye) < 1.5 * 1.5;
      it.root.visible = it.has && !tooClose;
      it.bodyRoot.visible = it.has && !tooClose && it.root.position.y < 2.6;
      if (!it.target) continue;
      if (it.root.position.distanceToSquared(it.target.p) > 1e-6 || it.root.quaternion.angleTo(it.target.q) > 1e-3) {
        it.root.position.lerp(it.target.p, k);
        it.root.quaternion.slerp(it.target.q, k);
        moving = true;
      }
      // Body under the head, turned with the view's yaw.
      const e = new THREE.Euler().setFromQuaternion(it.root.quaternion, 'YXZ');
      it.bodyRoot.position.set(it.root.position.x, Math.min(it.root.position.y, 1.7), it.root.position.z);
      it.bodyRoot.rotation.set(0, e.y, 0);
    }
    if (moving) this.view.invalidate();
  }

  updateTags() {
    const cam = this.view.camera;
    const { width, height } = this.view.size;
    const v = new THREE.Vector3();
    for (const it of this.items.values()) {
      if (!it.has) {
        it.label.style.display = 'none';
        continue;
      }
      v.copy(it.root.position);
      v.y += 0.45;
      v.project(cam);
      if (v.z > 1 || Math.abs(v.x) > 1.1 || Math.abs(v.y) > 1.1) {
        it.label.style.display = 'none';
        continue;
      }
      it.label.style.display = '';
      it.label.style.transform = `translate(-50%, -100%) translate(${(((v.x + 1) / 2) * width).toFixed(1)}px, ${(((1 - v.y) / 2) * height).toFixed(1)}px)`;
    }
  }

  setActivity(userId, text) {
    const it = this.items.get(userId);
    if (it) it.label.lastChild.textContent = text ? ` · ${text}` : '';
  }

  clear() {
    for (const [id, it] of this.items) this.removeItem(id, it);
  }
}
