// Toolbar icons of the simulation and alarm features, in the stroke style of ui/icons.js.
const p = (d) => `<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${d}</svg>`;

export const FX_ICONS = {
  simulate: p('<path d="M3 12a9 9 0 1 1 18 0"/><path d="M12 12l4-4"/><path d="M3 17h18M7 21h10"/>'),
  bell: p('<path d="M6 16V11a6 6 0 1 1 12 0v5l2 2H4z"/><path d="M10 21h4"/>'),
};
