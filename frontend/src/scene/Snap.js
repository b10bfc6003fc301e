// Grid and angle snapping, shared by the gizmo and drag by the body. Whether the grid is on is the user's
// choice and outlives the page (localStorage); rotation always goes in 15° steps.
import { Signal } from '../util/Signal.js';

export const GRID_SNAP = 0.5;
export const ANGLE_SNAP = 15;
const KEY = 'metaverse.snapToGrid';

function stored() {
  try {
    return localStorage.getItem(KEY) !== 'off';
  } catch {
    return true;
  }
}

export const snapping = {
  enabled: stored(),
  changed: new Signal(),
  set(on) {
    this.enabled = !!on;
    try {
      localStorage.setItem(KEY, this.enabled ? 'on' : 'off');
    } catch {
      /* private mode: the choice lasts for this page */
    }
    this.changed.dispatch(this.enabled);
  },
  // `free` (Alt held) suspends the grid for one gesture.
  grid(v, free = false) {
    return this.enabled && !free ? Math.round(v / GRID_SNAP) * GRID_SNAP : Math.round(v * 1000) / 1000;
  },
};
