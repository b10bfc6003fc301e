// Keyboard shortcuts and mouse gestures, toggled with ? or the help button.
import { h } from '../util/dom.js';

export const SHORTCUTS = [
  ['Navigation', [
    ['Left drag', 'Orbit'], ['Right drag / two fingers', 'Pan'], ['Wheel / pinch', 'Zoom to cursor'],
    ['F', 'Frame selection (or everything)'], ['H', 'Frame the whole floor'], ['T', 'Top view'],
    ['V', 'Walk (first person, 1.7 m eye height)'], ['W A S D / arrows', 'Walk; Shift runs; Q/E turn'], ['Esc', 'Leave walk / cancel mode'],
    ['1 – 9', 'Go to saved viewpoint'], ['Ctrl+1 – 9', 'Save current view as viewpoint'], ['M', 'Toggle minimap'], ['L', 'Toggle labels'],
  ]],
  ['Selection', [
    ['Click', 'Select asset or connection'], ['Shift/Ctrl click', 'Add to / remove from selection'], ['Shift drag', 'Box select'],
    ['Ctrl+A', 'Select all'], ['Double click', 'Frame asset'], ['Esc', 'Clear selection'],
  ]],
  ['Editing', [
    ['Drag a selected asset', 'Move the selection on the floor (Alt: off the grid)'], ['R / Shift+R', 'Rotate +15° / −15° (also while dragging)'],
    ['#', 'Grid snapping on / off (0.5 m)'], ['G', 'Move gizmo, for precise moves'], ['Arrow keys', 'Nudge 0.5 m (Shift: 5 m)'],
    ['[ / ]', 'Rotate −15° / +15°'], ['C', 'Connect mode: click source, then target'], ['Ctrl+D', 'Duplicate'], ['Delete / Backspace', 'Delete'],
    ['Ctrl+Z', 'Undo'], ['Ctrl+Shift+Z / Ctrl+Y', 'Redo'], ['Drag from catalogue', 'Add an asset'],
  ]],
  ['View', [['P', 'Screenshot (PNG)'], ['?', 'This help']]],
];

export class HelpPanel {
  constructor(root) {
    this.el = h(
      'div',
      { class: 'help-panel', testid: 'help-panel', role: 'dialog', 'aria-label': 'Keyboard shortcuts', hidden: true },
      h('div', { class: 'help-head' }, h('h2', {}, 'Keyboard shortcuts'), h('button', { class: 'ghost', testid: 'help-close', onclick: () => this.hide() }, '×')),
      h('div', { class: 'help-grid' }, SHORTCUTS.map(([title, rows]) => h('section', {}, h('h3', {}, title), h('table', {}, rows.map(([k, d]) => h('tr', {}, h('td', {}, h('kbd', {}, k)), h('td', {}, d))))))),
    );
    root.appendChild(this.el);
  }

  toggle() {
    this.el.hidden = !this.el.hidden;
  }

  hide() {
    this.el.hidden = true;
  }

  get visible() {
    return !this.el.hidden;
  }
}
