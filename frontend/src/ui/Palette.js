// Left panel: the asset catalogue. Drag an item onto the floor to add it, or click it and then click
// the floor. Hidden in read-only workspaces.
import { h, clear, fmt } from '../util/dom.js';
import { thumbnailFor } from '../scene/ModelThumbnails.js';

const KIND_ORDER = ['source', 'machine', 'assembly', 'robot', 'buffer', 'conveyor', 'operator', 'sink', 'decor'];

export class Palette {
  constructor(root, editor, { dropOnViewport, viewportEl }) {
    this.editor = editor;
    this.root = root;
    this.dropOnViewport = dropOnViewport;
    this.viewportEl = viewportEl;
    this.filter = h('input', { type: 'search', placeholder: 'Search catalogue…', class: 'palette-filter', testid: 'palette-filter' });
    this.filter.addEventListener('input', () => this.render());
    this.filter.addEventListener('keydown', (e) => e.stopPropagation());
    this.list = h('div', { class: 'palette-list', testid: 'palette' });
    root.append(h('div', { class: 'panel-title' }, 'Catalogue'), this.filter, this.list);
    this.ghost = h('div', { class: 'drag-ghost' });
    document.body.appendChild(this.ghost);
    editor.signals.sceneLoaded.add(() => this.render());
    editor.signals.layoutChanged.add(() => this.render());
    editor.signals.modeChanged.add(() => this.markActive());
  }

  render() {
    const e = this.editor;
    clear(this.list);
    const q = this.filter.value.trim().toLowerCase();
    const types = [...e.types.values()].filter((t) => !q || t.name.toLowerCase().includes(q) || t.kind.includes(q));
    types.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name));
    let kind = null;
    for (const t of types) {
      if (t.kind !== kind) {
        kind = t.kind;
        this.list.append(h('div', { class: 'palette-kind' }, kind));
      }
      const item = h(
        'div',
        { class: 'palette-item', testid: `palette-${t.name}`, dataset: { typeId: t.id }, title: `Drag onto the floor (or click, then click the floor) to add a ${t.name}`, role: 'button', tabindex: 0 },
        h('span', { class: 'swatch', style: { background: t.color } }),
        h('span', { class: 'palette-name' }, t.name),
        h('span', { class: 'muted small' }, `${fmt(t.width_m)}×${fmt(t.depth_m)} m`),
      );
      if (t.model_url) this.showThumbnail(item, t);
      item.addEventListener('pointerdown', (ev) => this.startDrag(ev, t, item));
      item.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          this.arm(t);
        }
      });
      this.list.append(item);
    }
    if (!types.length) this.list.append(h('div', { class: 'muted small' }, 'Nothing matches.'));
    this.markActive();
  }

  // A type with a 3D model shows a picture of it instead of its colour swatch (drawn once, then cached).
  showThumbnail(item, type) {
    thumbnailFor(type).then((src) => {
      const swatch = item.querySelector('.swatch');
      if (!src || !swatch) return;
      swatch.replaceWith(h('img', { class: 'palette-thumb', src, alt: '', testid: `thumb-${type.name}`, style: { width: '40px', height: '30px', flex: 'none', objectFit: 'contain' } }));
    });
  }

  arm(type) {
    const e = this.editor;
    if (!e.canEdit) return e.notify(e.readOnlyReason, 'warn');
    if (e.mode === 'place' && e.placeType === type) e.setMode('select');
    else {
      e.setMode('place', { type });
      e.notify(`Click the floor to place a ${type.name} (Esc to cancel, Shift-click to place several).`, 'info');
    }
  }

  markActive() {
    for (const el of this.list.querySelectorAll('.palette-item')) el.classList.toggle('active', this.editor.mode === 'place' && this.editor.placeType && String(this.editor.placeType.id) === el.dataset.typeId);
  }

  startDrag(ev, type, item) {
    if (ev.button !== 0) return;
    ev.preventDefault();
    const start = { x: ev.clientX, y: ev.clientY };
    let dragging = false;
    const move = (e) => {
      if (!dragging && Math.hypot(e.clientX - start.x, e.clientY - start.y) > 5) {
        dragging = true;
        this.ghost.textContent = type.name;
        this.ghost.style.borderColor = type.color;
        this.ghost.style.display = 'block';
        document.body.classList.add('dragging-type');
      }
      if (dragging) this.ghost.style.transform = `translate(${e.clientX + 12}px, ${e.clientY + 12}px)`;
    };
    const up = (e) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      this.ghost.style.display = 'none';
      document.body.classList.remove('dragging-type');
      if (!dragging) return this.arm(type);
      const r = this.viewportEl.getBoundingClientRect();
      if (e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom) this.dropOnViewport(type, e.clientX, e.clientY);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    item.focus();
  }
}
