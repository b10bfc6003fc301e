// What the colours in the viewport mean, in a corner of it: body colours are asset types (the catalogue
// lists them); a ring on the floor is a live twin's status (shown when an asset is bound to a twin); while
// simulation results are shown, the shells are utilisation (one hue, pale to deep) or, during playback,
// the station states. Three schemes that never share a meaning.
import { h } from '../util/dom.js';
import { STATUS_COLORS } from '../scene/AssetGeometry.js';
import { STATE_COLORS, UTIL_STOPS } from '../features/simulation/overlay.js';

const STATUS_ORDER = ['running', 'idle', 'blocked', 'starved', 'down', 'offline', 'unknown'];
const STATE_LABELS = { working: 'working', setup: 'setup', waiting_operator: 'waiting for operator', idle: 'idle', blocked: 'blocked', down: 'down', off_shift: 'off shift' };

export class Legend {
  constructor(root, editor, overlay) {
    this.editor = editor;
    this.overlay = overlay;
    this.body = h('div', { class: 'legend-body' });
    this.el = h('div', { class: 'legend', testid: 'legend', hidden: true }, this.body);
    root.appendChild(this.el);
    for (const s of ['sceneLoaded', 'twinsChanged', 'assetChanged', 'assetAdded', 'assetRemoved']) editor.signals[s].add(() => this.renderSoon());
    if (overlay) overlay.changed.add(() => this.render());
  }

  renderSoon() {
    clearTimeout(this.soon);
    this.soon = setTimeout(() => this.render(), 150);
  }

  render() {
    const e = this.editor;
    const bound = [...e.assets.values()].some((a) => a.twin_key);
    const mode = this.overlay ? this.overlay.mode : null;
    const sections = [];
    if (bound) {
      const present = new Set([...e.twins.values()].map((t) => t.status || 'unknown'));
      sections.push(h('section', { testid: 'legend-status' }, h('h4', {}, 'Live status (ring)'), STATUS_ORDER.filter((s) => present.has(s) || ['running', 'idle', 'down'].includes(s)).map((s) => h('span', { class: 'lg-item', dataset: { status: s } }, h('i', { class: 'lg-ring', style: { borderColor: STATUS_COLORS[s] } }), s))));
    }
    if (mode === 'utilisation') {
      const gradient = `linear-gradient(90deg, ${UTIL_STOPS.map(([v, c]) => `${c} ${v * 100}%`).join(', ')})`;
      sections.push(h('section', { testid: 'legend-utilisation' }, h('h4', {}, 'Utilisation (simulation)'), h('div', { class: 'lg-ramp', style: { background: gradient } }), h('div', { class: 'lg-scale' }, h('span', {}, '0 %'), h('span', {}, '50 %'), h('span', {}, '100 %'))));
    } else if (mode === 'states') {
      sections.push(h('section', { testid: 'legend-states' }, h('h4', {}, 'Station state (playback)'), Object.entries(STATE_COLORS).map(([s, c]) => h('span', { class: 'lg-item' }, h('i', { class: 'lg-box', style: { background: c } }), STATE_LABELS[s] || s))));
    }
    this.body.replaceChildren(...sections);
    this.el.hidden = !sections.length;
    this.el.dataset.mode = mode || '';
  }
}
