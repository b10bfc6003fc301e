// DOM markers anchored to 3D points (comment pins, numbered changes): crisp, clickable, no draw calls.
// Positions are re-projected after every rendered frame.
import * as THREE from 'three';

const v = new THREE.Vector3();

export class Markers {
  constructor(view, className) {
    this.view = view;
    this.root = document.createElement('div');
    this.root.className = `review-markers ${className}`;
    view.container.appendChild(this.root);
    this.items = new Map(); // key -> {el, pos}
    view.afterRenderHooks = view.afterRenderHooks || [];
    view.afterRenderHooks.push(() => this.update());
  }

  set(key, el, pos) {
    const old = this.items.get(key);
    if (old && old.el !== el) old.el.remove();
    if (!old || old.el !== el) this.root.appendChild(el);
    this.items.set(key, { el, pos: new THREE.Vector3(...pos) });
    this.view.invalidate();
  }

  clear() {
    for (const it of this.items.values()) it.el.remove();
    this.items.clear();
    this.view.invalidate();
  }

  setVisible(on) {
    this.root.hidden = !on;
    this.view.invalidate();
  }

  update() {
    if (this.root.hidden || !this.items.size) return;
    const { width, height } = this.view.size;
    const cam = this.view.camera;
    for (const it of this.items.values()) {
      v.copy(it.pos).project(cam);
      if (v.z > 1 || Math.abs(v.x) > 1.05 || Math.abs(v.y) > 1.05) {
        it.el.style.display = 'none';
        continue;
      }
      it.el.style.display = '';
      it.el.style.transform = `translate(${(((v.x + 1) / 2) * width).toFixed(1)}px, ${(((1 - v.y) / 2) * height).toFixed(1)}px)`;
    }
  }
}
