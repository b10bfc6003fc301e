// Mounts the twin ↔ model loop of CONTRACT §9 into the workspace: the live plant panel (forecast, plan against
// actual) and, on drafts, "Calibrate from the plant". Called once from main.js after the simulation and
// experiments features, whose place on the right of the viewport these panels share: one is open at a time.
import '../../styles/features-plant.css';
import { PlantPanel } from './panel.js';
import { CalibrationPanel } from '../calibration/panel.js';

export function setupForecastAndCalibration({ editor, ui, hooks }) {
  const others = () => [hooks.simulation && hooks.simulation.panel, hooks.experiments && hooks.experiments.panel].filter(Boolean);
  const closeOthers = (except) => {
    for (const p of others()) if (!p.el.hidden) p.toggle(false);
    for (const p of [plant, calibration]) if (p !== except && p.open) p.toggle(false);
  };
  const plant = new PlantPanel({ editor, ui, socket: hooks.socket || null, onOpen: () => closeOthers(plant) });
  const calibration = new CalibrationPanel({ editor, ui, onOpen: () => closeOthers(calibration) });
  // Opening the simulation or experiments panel closes these (through their public buttons, not their code).
  for (const p of others()) p.toggleBtn.addEventListener('click', () => {
    for (const mine of [plant, calibration]) if (mine.open) mine.toggle(false);
  });
  hooks.plant = { panel: plant, calibration, openPlant: () => plant.toggle(true), openCalibration: () => calibration.toggle(true) };
  return { plant, calibration };
}
