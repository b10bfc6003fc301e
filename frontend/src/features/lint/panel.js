// The list of layout issues: a toolbar button with their count, and a panel where each issue says what is
// wrong in words and has "Go to" (select the assets and fly the camera to them).
import { h, clear } from '../../util/dom.js';

const KIND_LABELS = { overlap: 'Overlap', clearance: 'Clearance', unconnected: 'Unconnected', unsimulatable: 'Cannot simulate' };
const ICON = '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><path d="M12 3l9 16H3z"/><path d="M12 10v4M12 17h.01"/></svg>';

export class LintPanel {
  constructor({ checks, ui }) {
    this.checks = checks;
    this.badge = h('span', { class: 'badge-count', testid: 'lint-count', hidden: true }, '0');
    this.button = h('button', { class: 'tool', testid: 'lint-toggle', title: 'Layout checks: overlaps, clearance, unconnected stations', 'aria-label': 'Layout checks', html: ICON });
    this.button.appendChild(this.badge);
    this.button.addEventListener('click', () => this.toggle());
    ui.connBanner.parentNode.insertBefore(this.button, ui.connBanner);
    this.list = h('ul', { class: 'lint-list', testid: 'lint-list' });
    this.summary = h('p', { class: 'muted small', testid: 'lint-summary' }, 'Checking…');
    const close = h('button', { class: 'ghost small', testid: 'lint-close', title: 'Close', onclick: () => this.toggle(false) }, '×');
    this.el = h('section', { class: 'lint-panel', testid: 'lint-panel', hidden: true, 'aria-label': 'Layout checks' }, h('div', { class: 'lint-head' }, h('span', {}, 'Layout checks'), close), this.summary, this.list);
    ui.overlays.appendChild(this.el);
    checks.changed.add(() => this.render());
  }

  toggle(force) {
    this.el.hidden = force === undefined ? !this.el.hidden : !force;
    this.button.classList.toggle('active', !this.el.hidden);
    if (!this.el.hidden) this.render();
  }

  render() {
    const { issues, error, loaded } = this.checks;
    this.badge.hidden = !issues.length;
    this.badge.textContent = issues.length > 99 ? '99+' : String(issues.length);
    this.button.classList.toggle('has-issues', issues.length > 0);
    if (this.el.hidden) return;
    this.summary.textContent = error ? `Could not check the layout: ${error}` : !loaded ? 'Checking…' : issues.length ? `${issues.length} issue${issues.length === 1 ? '' : 's'} in this layout.` : 'No issues: nothing overlaps, every station is connected, the simulation accepts it.';
    clear(this.list);
    for (const issue of issues.slice(0, 200)) {
      const go = h('button', { class: 'small-btn', testid: 'lint-goto', disabled: !issue.assets.length }, 'Go to');
      go.addEventListener('click', () => this.checks.goTo(issue));
      this.list.append(h('li', { class: `lint-issue kind-${issue.kind}`, testid: 'lint-issue', dataset: { kind: issue.kind, assets: issue.assets.join(',') } }, h('span', { class: 'lint-kind' }, KIND_LABELS[issue.kind] || issue.kind), h('span', { class: 'lint-message' }, issue.message), go));
    }
    if (issues.length > 200) this.list.append(h('li', { class: 'muted small' }, `… and ${issues.length - 200} more.`));
  }
}
