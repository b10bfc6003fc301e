// Mounts the simulation panel and the live twin features into the workspace. Called once from main.js
// after the room is set up (it needs the room's socket from hooks.socket).
import '../../styles/features-sim-twins.css';
import { SimulationPanel } from './panel.js';
import { setupTwins } from '../twins/index.js';

export function setupSimulationAndTwins({ editor, view, ui, hooks }) {
  const socket = hooks.socket || null;
  const simulation = new SimulationPanel({ editor, view, ui, socket });
  const twins = setupTwins({ editor, view, ui, socket });
  Object.assign(hooks, {
    simulation: {
      panel: simulation,
      open: () => simulation.toggle(true),
      overlayColor: (assetId) => simulation.overlay.colorOf(assetId),
      bottleneckShown: () => simulation.overlay.ring.visible && simulation.overlay.group.visible ? simulation.overlay.bottleneck : null,
    },
    twinsLive: twins,
  });
  return { simulation, twins };
}
