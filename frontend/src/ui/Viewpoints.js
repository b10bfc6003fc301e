// Saved camera viewpoints per layout, kept in localStorage; 1–9 recall, Ctrl+1–9 save.
import * as THREE from 'three';
import { h, clear } from '../util/dom.js';

export class Viewpoints {
  constructor(root, view, layoutId) {
    this.view = view;
    this.key = `metaverse:viewpoints:${layoutId}`;
    this.items = this.load();
    this.list = h('ul', { class: 'vp-list', testid: 'viewpoint-list' });
    const save = h('button', { class: 'small-btn', testid: 'save-viewpoint', title: 'Save the current view' }, '+ Save view');
    save.addEventListener('click', () => this.save());
    this.el = h('div', { class: 'viewpoints', testid: 'viewpoints' }, h('div', { class: 'vp-head' }, h('span', {}, 'Viewpoints'), save), this.list);
    root.appendChild(this.el);
    this.render();
  }

  load() {
    try {
      return JSON.parse(localStorage.getItem(this.key) || '[]');
    } catch {
      return [];
    }
  }

  persist() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.items));
    } catch {
      /* storage full or disabled: keep them for this session */
    }
    this.render();
  }

  save(slot = null, name = null) {
    const cam = this.view.camera;
    const t = this.view.controls.target;
    const vp = { name: name || `View ${slot ?? this.items.length + 1}`, p: cam.position.toArray().map((v) => +v.toFixed(3)), t: t.toArray().map((v) => +v.toFixed(3)) };
    if (slot !== null && slot - 1 < this.items.length) this.items[slot - 1] = vp;
    else this.items.push(vp);
    this.items = this.items.slice(0, 9);
    this.persist();
  }

  go(index) {
    const vp = this.items[index];
    if (!vp) return false;
    this.view.flyTo(new THREE.Vector3(...vp.p), new THREE.Vector3(...vp.t));
    return true;
  }

  render() {
    clear(this.list);
    if (!this.items.length) this.list.append(h('li', { class: 'muted small' }, 'No saved views yet.'));
    this.items.forEach((vp, i) => {
      const go = h('button', { class: 'link', testid: `viewpoint-${i + 1}` }, `${i + 1}. ${vp.name}`);
      go.addEventListener('click', () => this.go(i));
      const del = h('button', { class: 'ghost small', title: 'Delete', testid: `viewpoint-delete-${i + 1}` }, '×');
      del.addEventListener('click', () => {
        this.items.splice(i, 1);
        this.persist();
      });
      this.list.append(h('li', {}, go, del));
    });
  }
}
