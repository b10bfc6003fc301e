// First-person walk at eye height (1.7 m): WASD/arrows to move, mouse look through pointer lock,
// Shift to run, Esc to leave. Stays inside the floor's margin.
import * as THREE from 'three';
import { PointerLockControls } from 'three/addons/controls/PointerLockControls.js';

export const EYE_HEIGHT = 1.7;

export class WalkControls {
  constructor(view) {
    this.view = view;
    this.controls = new PointerLockControls(view.camera, view.renderer.domElement);
    this.active = false;
    this.keys = new Set();
    this.velocity = new THREE.Vector3();
    this.onChange = () => {};
    this.saved = null;
    this.controls.addEventListener('change', () => view.invalidate());
    this.controls.addEventListener('unlock', () => {
      // Esc releases pointer lock: leave walk mode too.
      if (this.active) this.exit();
    });
    this.keydown = (e) => {
      if (!this.active) return;
      if (e.target && /INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) return;
      this.keys.add(e.code);
      if (['KeyW', 'KeyA', 'KeyS', 'KeyD', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Space'].includes(e.code)) e.preventDefault();
      view.invalidate();
    };
    this.keyup = (e) => this.keys.delete(e.code);
    window.addEventListener('keydown', this.keydown);
    window.addEventListener('keyup', this.keyup);
    window.addEventListener('blur', () => this.keys.clear());
    view.beforeRender.push((dt) => this.update(dt));
    // Clicking the view while walking (re)captures the mouse for looking around.
    view.renderer.domElement.addEventListener('click', () => {
      if (this.active && !this.controls.isLocked) {
        try {
          const p = this.controls.lock();
          if (p && p.catch) p.catch(() => {});
        } catch {
          /* refused: keyboard walking still works */
        }
      }
    });
  }

  enter() {
    if (this.active) return;
    this.active = true;
    const cam = this.view.camera;
    this.saved = { position: cam.position.clone(), target: this.view.controls.target.clone() };
    const target = this.view.controls.target.clone();
    const dir = target.clone().sub(cam.position);
    dir.y = 0;
    if (dir.lengthSq() < 1e-6) dir.set(0, 0, -1);
    dir.normalize();
    // Stand a few metres back from the point we were looking at, facing it.
    cam.position.set(target.x - dir.x * 8, EYE_HEIGHT, target.z - dir.z * 8);
    cam.lookAt(cam.position.x + dir.x, EYE_HEIGHT, cam.position.z + dir.z);
    this.view.controls.enabled = false;
    this.view.walking = true;
    try {
      const p = this.controls.lock();
      if (p && p.catch) p.catch(() => {});
    } catch {
      /* pointer lock may be refused (e.g. headless); keyboard walking still works */
    }
    this.onChange(true);
    this.view.invalidate();
  }

  exit() {
    if (!this.active) return;
    this.active = false;
    this.keys.clear();
    if (this.controls.isLocked) this.controls.unlock();
    this.view.walking = false;
    const cam = this.view.camera;
    const dir = new THREE.Vector3();
    cam.getWorldDirection(dir);
    // Orbit around the point we were looking at.
    const target = cam.position.clone().add(dir.multiplyScalar(6));
    target.y = 0;
    this.view.controls.enabled = true;
    this.view.flyTo(cam.position.clone().add(new THREE.Vector3(0, 6, 0)).add(cam.position.clone().sub(target).setY(0).normalize().multiplyScalar(6)), target);
    this.onChange(false);
  }

  toggle() {
    if (this.active) this.exit();
    else this.enter();
  }

  update(dt) {
    if (!this.active) return;
    const k = this.keys;
    const speed = k.has('ShiftLeft') || k.has('ShiftRight') ? 7 : 2.8;
    let f = 0;
    let r = 0;
    if (k.has('KeyW') || k.has('ArrowUp')) f += 1;
    if (k.has('KeyS') || k.has('ArrowDown')) f -= 1;
    if (k.has('KeyD') || k.has('ArrowRight')) r += 1;
    if (k.has('KeyA') || k.has('ArrowLeft')) r -= 1;
    if (!this.controls.isLocked) {
      // Without pointer lock, Q/E turn.
      const turn = (k.has('KeyQ') ? 1 : 0) - (k.has('KeyE') ? 1 : 0);
      if (turn) {
        this.view.camera.rotateOnWorldAxis(new THREE.Vector3(0, 1, 0), turn * dt * 1.6);
        this.view.invalidate();
      }
    }
    if (!f && !r) return;
    this.controls.moveForward(f * speed * dt);
    this.controls.moveRight(r * speed * dt);
    const cam = this.view.camera;
    const b = this.view.floor ? this.view.floor.bounds : null;
    if (b) {
      cam.position.x = THREE.MathUtils.clamp(cam.position.x, -10, b.width + 10);
      cam.position.z = THREE.MathUtils.clamp(cam.position.z, -10, b.depth + 10);
    }
    cam.position.y = EYE_HEIGHT;
    this.view.invalidate();
  }
}
