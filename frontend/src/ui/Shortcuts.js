// Global keyboard shortcuts of the workspace (listed in HelpPanel).
export function installShortcuts(actions, { isWalking }) {
  window.addEventListener('keydown', (e) => {
    const t = e.target;
    if (t && (/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.isContentEditable)) return;
    const ctrl = e.ctrlKey || e.metaKey;
    const key = e.key;
    if (ctrl && !e.altKey) {
      const k = key.toLowerCase();
      if (k === 'z' && !e.shiftKey) return run(e, actions.undo);
      if ((k === 'z' && e.shiftKey) || k === 'y') return run(e, actions.redo);
      if (k === 'd') return run(e, actions.duplicate);
      if (k === 'a') return run(e, actions.selectAll);
      if (/^[1-9]$/.test(key) || /^Digit[1-9]$/.test(e.code)) return run(e, () => actions.saveViewpoint(Number(e.code.slice(-1))));
      return;
    }
    if (e.altKey) return;
    if (key === 'Escape') return run(e, actions.escape);
    if (isWalking()) return; // WASD & co. belong to the walk controls
    switch (key) {
      case 'Delete':
      case 'Backspace':
        return run(e, actions.remove);
      case 'f':
      case 'F':
        return run(e, actions.frame);
      case 'h':
      case 'H':
      case 'Home':
        return run(e, actions.frameAll);
      case 't':
      case 'T':
        return run(e, actions.topView);
      case 'v':
      case 'V':
        return run(e, actions.walk);
      case 'g':
      case 'G':
        return run(e, actions.translateMode);
      case 'r':
        return run(e, () => actions.rotateBy(15));
      case 'R':
        return run(e, () => actions.rotateBy(-15));
      case '#':
        return run(e, actions.toggleSnap);
      case 'c':
      case 'C':
        return run(e, actions.connectMode);
      case 'm':
      case 'M':
        return run(e, actions.toggleMinimap);
      case 'l':
      case 'L':
        return run(e, actions.toggleLabels);
      case 'p':
      case 'P':
        return run(e, actions.screenshot);
      case '?':
        return run(e, actions.help);
      case '[':
        return run(e, () => actions.rotateBy(-15));
      case ']':
        return run(e, () => actions.rotateBy(15));
      case 'ArrowLeft':
        return run(e, () => actions.nudge(-1, 0, e.shiftKey));
      case 'ArrowRight':
        return run(e, () => actions.nudge(1, 0, e.shiftKey));
      case 'ArrowUp':
        return run(e, () => actions.nudge(0, -1, e.shiftKey));
      case 'ArrowDown':
        return run(e, () => actions.nudge(0, 1, e.shiftKey));
      default:
        if (/^[1-9]$/.test(key)) return run(e, () => actions.goViewpoint(Number(key)));
    }
  });
}

function run(e, fn) {
  e.preventDefault();
  fn();
}
