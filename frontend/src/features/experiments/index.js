// Mounts the experiments panel (CONTRACT §8) as a tab beside the simulation panel. Called once from
// main.js after the simulation feature, whose panel it shares the place of: one of the two is open.
import '../../styles/features-experiments.css';
import { h } from '../../util/dom.js';
import { ExperimentsPanel } from './panel.js';

export function setupExperiments({ editor, ui, hooks }) {
  const sim = hooks.simulation ? hooks.simulation.panel : null;
  const showSimulation = () => {
    panel.toggle(false);
    if (sim) sim.toggle(true);
  };
  const panel = new ExperimentsPanel({ editor, ui, socket: hooks.socket || null, onShowSimulation: showSimulation });
  if (sim) {
    // The other tab, in the simulation panel's head (through its public element, not its code).
    const head = sim.el.querySelector('.fx-head');
    const tab = h('button', { class: 'exp-tab', testid: 'sim-tab-experiments', title: 'Experiments: sweeps and optimisation' }, 'Experiments');
    tab.addEventListener('click', () => {
      sim.toggle(false);
      panel.toggle(true);
    });
    if (head && head.firstElementChild) head.firstElementChild.after(tab);
    // Opening one closes the other: they share the right-hand side of the viewport.
    sim.toggleBtn.addEventListener('click', () => !sim.el.hidden && panel.toggle(false));
    panel.toggleBtn.addEventListener('click', () => panel.open && !sim.el.hidden && sim.toggle(false));
  }
  const open = () => {
    if (sim) sim.toggle(false);
    panel.toggle(true);
  };
  hooks.experiments = { panel, open };
  return panel;
}
