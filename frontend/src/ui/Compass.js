// A compass rose (north = −z) that turns with the camera's heading; click to face north.
import * as THREE from 'three';
import { h } from '../util/dom.js';

export class Compass {
  constructor(root, view) {
    this.view = view;
    this.rose = h('div', {
      class: 'compass-rose',
      html: '<svg viewBox="0 0 64 64" width="56" height="56"><circle cx="32" cy="32" r="29" fill="rgba(255,255,255,.9)" stroke="#94a3b8"/><path d="M32 8l6 24h-12z" fill="#ef4444"/><path d="M32 56l6-24h-12z" fill="#64748b"/><text x="32" y="7" font-size="0" /><text x="32" y="21" text-anchor="middle" font-size="9" font-weight="700" fill="#fff">N</text><text x="55" y="35" text-anchor="middle" font-size="8" fill="#475569">E</text><text x="9" y="35" text-anchor="middle" font-size="8" fill="#475569">W</text><text x="32" y="52" text-anchor="middle" font-size="8" fill="#fff">S</text></svg>',
    });
    this.el = h('button', { class: 'compass', title: 'Compass (north = −z). Click to face north.', testid: 'compass' }, this.rose, h('div', { class: 'axes-legend' }, h('span', { class: 'ax-x' }, 'x'), h('span', { class: 'ax-z' }, 'z')));
    this.el.addEventListener('click', () => this.faceNorth());
    root.appendChild(this.el);
    this.last = null;
    view.afterRenderHooks = view.afterRenderHooks || [];
    view.afterRenderHooks.push(() => this.update());
  }

  heading() {
    const dir = new THREE.Vector3();
    this.view.camera.getWorldDirection(dir);
    if (Math.hypot(dir.x, dir.z) < 1e-3) {
      const up = new THREE.Vector3(0, 1, 0).applyQuaternion(this.view.camera.quaternion);
      return Math.atan2(up.x, -up.z);
    }
    return Math.atan2(dir.x, -dir.z);
  }

  update() {
    const a = this.heading();
    if (this.last !== null && Math.abs(a - this.last) < 0.002) return;
    this.last = a;
    this.rose.style.transform = `rotate(${(-a * 180) / Math.PI}deg)`;
  }

  faceNorth() {
    const v = this.view;
    const t = v.controls.target.clone();
    const off = v.camera.position.clone().sub(t);
    const horiz = Math.hypot(off.x, off.z);
    v.flyTo(new THREE.Vector3(t.x, v.camera.position.y, t.z + Math.max(horiz, 0.01)), t);
  }
}
