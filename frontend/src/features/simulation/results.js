// One finished run's results: KPIs with confidence intervals, a stacked utilisation bar per station, the
// throughput and WIP time series (uPlot), the 3D tint (utilisation, bottleneck) and the playback slider; for
// a run of the §7 line model also throughput by type, scrap, OEE, operator pools and the shifting bottleneck.
import { h, fmt } from '../../util/dom.js';
import '../../styles/line-model.css';
import { lineChart, destroyChart, fmtDuration } from './charts.js';
import { rate, stat } from '../../util/format.js';
import { SimApi } from './api.js';
import { STATE_COLORS, utilColor } from './overlay.js';

export const pct = (v) => `${Math.round((v || 0) * 100)}%`;
// §4's four shares, and §7's setup / waiting for an operator / off shift (present only in line-model runs).
const STATES = ['working', 'setup', 'waiting_operator', 'idle', 'blocked', 'down', 'off_shift'];
const BASE_STATES = ['working', 'idle', 'blocked', 'down'];
const STATE_LABEL = { waiting_operator: 'waiting for operator', off_shift: 'off shift' };

// The current layout's asset for a station of a run (runs of another layout match by name).
export function stationAsset(editor, station) {
  if (editor.assets.has(station.asset)) return station.asset;
  for (const a of editor.assets.values()) if (a.name === station.name) return a.id;
  return null;
}

export function kpiText(r) {
  return {
    throughput: stat(r.throughput_per_hour, 'per_hour'),
    lead: `${fmtDuration(r.lead_time_s.mean)} ± ${fmtDuration(r.lead_time_s.ci95)}`,
    p95: fmtDuration(r.lead_time_s.p95),
    wip: `${fmt(r.wip.mean, 1)} ± ${fmt(r.wip.ci95, 1)} parts`,
  };
}

export function utilBar(u) {
  return h(
    'div',
    { class: 'fx-ubar', title: STATES.filter((s) => s in u).map((s) => `${STATE_LABEL[s] || s} ${pct(u[s])}`).join(' · ') },
    STATES.filter((s) => u[s] > 0).map((s) => h('span', { class: `seg ${s}`, style: { width: `${Math.max(0, u[s] * 100).toFixed(2)}%`, background: STATE_COLORS[s] } })),
  );
}

// The states a run's stations spent time in: the four of §4 always, §7's only when some station had them.
export function statesOf(stations) {
  return STATES.filter((s) => BASE_STATES.includes(s) || (stations || []).some((st) => st.utilization && st.utilization[s] > 0));
}

export function stateLegend(states = BASE_STATES) {
  return h('div', { class: 'fx-legend' }, states.map((s) => h('span', {}, h('i', { style: { background: STATE_COLORS[s] } }), STATE_LABEL[s] || s)));
}

// A labelled horizontal bar (a share 0..1) per row: [{name, value, title?, strong?, testid?, asset?}].
function shareBars(rows, { testid, onPick, text = pct } = {}) {
  return h(
    'div',
    { testid },
    rows.map((r) =>
      h(
        'div',
        { class: `fx-hbar${r.strong ? ' bn' : ''}`, testid: r.testid, dataset: r.asset !== undefined ? { asset: String(r.asset) } : {}, title: r.title || '' },
        onPick && r.pick !== null && r.pick !== undefined ? h('button', { class: 'link name', onclick: () => onPick(r.pick) }, r.name) : h('span', { class: 'name' }, r.name),
        h('span', { class: 'track' }, h('span', { class: 'fill', style: { width: `${Math.max(0, Math.min(1, r.value || 0)) * 100}%` } })),
        h('span', { class: 'val' }, text(r.value)),
      ),
    ),
  );
}

const ci = (s, unit = '', digits = 1) => (s ? `${fmt(s.mean, digits)} ± ${fmt(s.ci95, digits)}${unit}` : '—');

export class ResultsView {
  constructor({ editor, view, overlay, run, overlayOn, onOverlayToggle }) {
    this.editor = editor;
    this.view = view;
    this.overlay = overlay;
    this.run = run;
    this.overlayOn = overlayOn;
    this.onOverlayToggle = onOverlayToggle;
    this.playing = null;
    this.mode = 'util';
    this.el = h('div', { class: 'fx-results', testid: 'sim-results', dataset: { run: String(run.id), status: run.status } });
    this.staleNote = h('div', { class: 'fx-stale small', testid: 'sim-stale', hidden: true });
    this.offContent = editor.signals.contentChanged.add(() => this.renderStale());
    this.render();
  }

  // Stale once a change that can alter the results (assets, connections) came after the run's revision;
  // renames and review transitions (submit, approve…) leave it current. Updated live as changes arrive.
  renderStale() {
    const run = this.run;
    const content = this.editor.contentRevision || 0;
    const stale = run.layout === this.editor.layout.id && run.layout_revision < content;
    this.staleNote.hidden = !stale;
    this.staleNote.textContent = stale
      ? `Assets or connections of the layout have changed since this run (revision ${run.layout_revision} → ${content}); run again for current figures.`
      : '';
  }

  render() {
    const run = this.run;
    const r = run.results;
    const p = run.params || {};
    const shifts = p.calendar ? ` · shifts: on ${fmtDuration(p.calendar.on.reduce((a, [x, y]) => a + y - x, 0))} of every ${fmtDuration(p.calendar.period_s)}` : '';
    const meta = h('div', { class: 'muted small' }, `Run #${run.id} · ${r.replications || p.replications} replications · ${fmtDuration(r.horizon_s ?? p.horizon_s)} (warm-up ${fmtDuration(r.warmup_s ?? p.warmup_s)}) · seed ${p.seed} · revision ${run.layout_revision}${r.engine ? ` · ${r.engine} engine` : ''}${shifts}`);
    this.renderStale();
    const exports = h(
      'div',
      { class: 'fx-exports' },
      h('a', { class: 'fx-btn', href: SimApi.exportUrl(run.id, 'csv'), download: `simulation-${run.id}.csv`, testid: 'sim-export-csv' }, 'Export CSV'),
      h('a', { class: 'fx-btn', href: SimApi.exportUrl(run.id, 'json'), download: `simulation-${run.id}.json`, testid: 'sim-export-json' }, 'Export JSON'),
    );
    const k = kpiText(r);
    const kpis = h(
      'div',
      { class: 'fx-kpis', testid: 'sim-kpis' },
      h('div', { class: 'fx-kpi', testid: 'sim-kpi-throughput' }, h('label', {}, 'Throughput (95% CI)'), h('b', {}, k.throughput)),
      h('div', { class: 'fx-kpi', testid: 'sim-kpi-lead' }, h('label', {}, 'Lead time (mean ± CI)'), h('b', {}, k.lead), h('small', {}, `p95 ${k.p95}`)),
      h('div', { class: 'fx-kpi', testid: 'sim-kpi-wip' }, h('label', {}, 'WIP (95% CI)'), h('b', {}, k.wip)),
      r.scrap_per_hour && r.scrap_per_hour.mean > 0 ? h('div', { class: 'fx-kpi', testid: 'sim-kpi-scrap' }, h('label', {}, 'Scrap (95% CI)'), h('b', {}, stat(r.scrap_per_hour, 'per_hour'))) : null,
    );
    const stations = (r.stations || []).filter((s) => s.kind !== 'sink');
    const bn = stations.find((s) => s.asset === r.bottleneck) || (r.stations || []).find((s) => s.asset === r.bottleneck);
    const bnAsset = bn ? stationAsset(this.editor, bn) : null;
    const bottleneck = h(
      'div',
      { class: 'fx-bottleneck', testid: 'sim-bottleneck' },
      h('span', {}, 'Bottleneck: ', h('b', {}, bn ? bn.name : '—'), bn ? ` (working ${pct(bn.utilization.working)}, blocked ${pct(bn.utilization.blocked)})` : ''),
      bnAsset !== null ? h('button', { class: 'small-btn', onclick: () => this.focus(bnAsset) }, 'Show in 3D') : '',
    );
    const toggle = h('input', { type: 'checkbox', testid: 'sim-overlay-toggle', checked: this.overlayOn });
    toggle.addEventListener('change', () => {
      this.overlayOn = toggle.checked;
      this.onOverlayToggle(toggle.checked);
      this.applyOverlay();
    });
    const rows = stations.map((s) =>
      h(
        'div',
        { class: `fx-urow${s.asset === r.bottleneck ? ' bottleneck' : ''}`, testid: 'sim-util-row', dataset: { asset: String(s.asset) } },
        h('button', { class: 'link fx-uname', title: `${s.name}: ${rate(s.throughput_per_hour)}, mean queue ${fmt(s.mean_queue, 2)}`, onclick: () => this.focus(stationAsset(this.editor, s)) }, s.name),
        utilBar(s.utilization),
        h('span', { class: 'fx-upct' }, pct(s.utilization.working)),
      ),
    );
    this.charts = h('div', { class: 'fx-charts', testid: 'sim-charts' });
    this.el.replaceChildren(
      h('div', { class: 'fx-rhead' }, h('h4', {}, `Results of run #${run.id}`), exports),
      meta,
      this.staleNote,
      kpis,
      bottleneck,
      h('label', { class: 'fx-check' }, toggle, ' Tint stations in 3D by utilisation'),
      ...this.byType(r),
      h('h5', {}, 'Utilisation per station'),
      stateLegend(statesOf(stations)),
      h('div', { class: 'fx-util', testid: 'sim-utilization' }, rows),
      ...this.lineModel(r, stations),
      h('h5', {}, 'Over simulated time'),
      this.charts,
      this.playbackControls(r.playback),
    );
  }

  // Throughput per part type (when the run has a product mix or assemblies).
  byType(r) {
    const types = Object.entries(r.throughput_by_type || {});
    if (!types.length || (types.length === 1 && types[0][0] === 'part')) return [];
    const total = types.reduce((a, [, s]) => a + (s.mean || 0), 0);
    return [
      h('h5', {}, 'Throughput by part type'),
      h(
        'table',
        { class: 'fx-table', testid: 'sim-by-type' },
        h('tr', {}, h('th', {}, 'Type'), h('th', { class: 'num' }, 'parts/h (95% CI)'), h('th', { class: 'num' }, 'share')),
        types.map(([name, s]) => h('tr', { testid: 'sim-by-type-row', dataset: { type: name } }, h('td', {}, name), h('td', { class: 'num' }, ci(s)), h('td', { class: 'num' }, total > 0 ? pct(s.mean / total) : '—'))),
      ),
    ];
  }

  // OEE per station, operator pools, and each station's share of time as the momentary bottleneck.
  lineModel(r, stations) {
    const out = [];
    const focus = (id) => this.focus(id);
    const withOee = stations.filter((s) => s.oee);
    if (withOee.length) {
      out.push(
        h('h5', {}, 'OEE per station'),
        h(
          'table',
          { class: 'fx-table', testid: 'sim-oee', title: 'Planned time = on-shift time. Availability = (planned − down − setup) / planned; performance = ideal cycle time × parts / run time; quality = good / processed.' },
          h('tr', {}, h('th', {}, 'Station'), h('th', { class: 'num' }, 'Avail.'), h('th', { class: 'num' }, 'Perf.'), h('th', { class: 'num' }, 'Quality'), h('th', { class: 'num' }, 'OEE'), h('th', { class: 'num' }, 'scrap/h')),
          withOee.map((s) =>
            h(
              'tr',
              { testid: 'sim-oee-row', dataset: { asset: String(s.asset) } },
              h('td', {}, h('button', { class: 'link', onclick: () => focus(stationAsset(this.editor, s)) }, s.name)),
              h('td', { class: 'num' }, pct(s.oee.availability)),
              h('td', { class: 'num' }, pct(s.oee.performance)),
              h('td', { class: 'num' }, pct(s.oee.quality)),
              h('td', { class: 'num' }, h('b', {}, pct(s.oee.oee))),
              h('td', { class: 'num' }, fmt(s.scrapped || 0, 1)),
            ),
          ),
        ),
      );
    }
    const pools = r.resources || [];
    if (pools.length) {
      out.push(
        h('h5', {}, 'Operator pools'),
        shareBars(
          pools.map((p) => {
            const asset = this.editor.assets.has(p.asset) ? p.asset : [...this.editor.assets.values()].find((a) => a.name === p.name)?.id ?? null;
            const size = p.capacity ?? (this.editor.assets.get(asset)?.params || {}).capacity;
            return { name: size ? `${p.name} (${size})` : p.name, value: p.utilization, pick: asset, asset: p.asset, testid: 'sim-pool-row', title: `${p.name}: its workers are busy ${pct(p.utilization)} of the on-shift time`, strong: p.utilization >= 0.95 };
          }),
          { testid: 'sim-pools', onPick: focus },
        ),
      );
    }
    const shares = r.bottleneck_shares || {};
    const ranked = Object.entries(shares).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
    if (ranked.length) {
      const names = new Map((r.stations || []).map((s) => [String(s.asset), s]));
      out.push(
        h('h5', { title: 'Share of the time each station was the momentary bottleneck (active-period method, Roser et al.)' }, 'Shifting bottleneck'),
        shareBars(
          ranked.map(([id, v]) => {
            const st = names.get(id);
            return { name: st ? st.name : `asset ${id}`, value: v, pick: st ? stationAsset(this.editor, st) : null, asset: id, strong: Number(id) === r.bottleneck, testid: 'sim-bn-share' };
          }),
          { testid: 'sim-bottleneck-shares', onPick: focus },
        ),
      );
    }
    return out;
  }

  mounted() {
    const ts = this.run.results.timeseries || { t: [] };
    const tp = h('div', { class: 'fx-chart-box' });
    const wip = h('div', { class: 'fx-chart-box' });
    this.charts.replaceChildren(tp, wip);
    this.chartBoxes = [tp, wip];
    lineChart(tp, { testid: 'sim-chart-throughput', x: ts.t, series: [{ label: 'throughput /h', color: '#0369a1', values: ts.throughput_per_hour }], height: 130 });
    lineChart(wip, { testid: 'sim-chart-wip', x: ts.t, series: [{ label: 'WIP (parts)', color: '#7c3aed', values: ts.wip }], height: 130 });
    this.applyOverlay();
  }

  // ---- 3D ----------------------------------------------------------------------------------------------
  utilColors() {
    const colors = new Map();
    for (const s of this.run.results.stations || []) {
      if (s.kind === 'sink') continue;
      const id = stationAsset(this.editor, s);
      if (id !== null) colors.set(id, utilColor(s.utilization.working));
    }
    return colors;
  }

  applyOverlay() {
    if (!this.overlayOn) return this.overlay.hide();
    const r = this.run.results;
    const bn = (r.stations || []).find((s) => s.asset === r.bottleneck);
    const bnAsset = bn ? stationAsset(this.editor, bn) : null;
    if (this.mode === 'playback' && r.playback) this.overlay.show(this.stateColors(this.frame || 0), bnAsset, 'states');
    else this.overlay.show(this.utilColors(), bnAsset, 'utilisation');
  }

  focus(assetId) {
    if (assetId === null || assetId === undefined) return;
    this.editor.select([assetId]);
    this.view.frameAssets([assetId]);
  }

  // ---- playback ----------------------------------------------------------------------------------------
  stateColors(i) {
    const pb = this.run.results.playback;
    const colors = new Map();
    for (const s of this.run.results.stations || []) {
      if (s.kind === 'sink') continue;
      const states = pb.states[String(s.asset)];
      const id = stationAsset(this.editor, s);
      if (!states || id === null) continue;
      colors.set(id, STATE_COLORS[states[Math.min(i, states.length - 1)]] || '#94a3b8');
    }
    return colors;
  }

  playbackControls(pb) {
    if (!pb || !pb.t || !pb.t.length) return h('p', { class: 'muted small' }, 'No playback stored for this run.');
    const n = pb.t.length;
    const slider = h('input', { type: 'range', min: 0, max: n - 1, step: 1, value: 0, testid: 'sim-playback', 'aria-label': 'Simulated time' });
    const label = h('span', { class: 'fx-ptime', testid: 'sim-playback-time' }, fmtDuration(pb.t[0]));
    const play = h('button', { class: 'small-btn', testid: 'sim-play' }, 'Play');
    const back = h('button', { class: 'small-btn', testid: 'sim-playback-exit', hidden: true }, 'Show utilisation');
    const show = (i) => {
      this.frame = i;
      slider.value = String(i);
      label.textContent = fmtDuration(pb.t[i]);
      this.mode = 'playback';
      back.hidden = false;
      if (!this.overlayOn) return;
      this.overlay.recolor(this.stateColors(i));
    };
    slider.addEventListener('input', () => {
      if (this.mode !== 'playback' && this.overlayOn) {
        this.mode = 'playback';
        this.applyOverlay();
      }
      show(Number(slider.value));
    });
    slider.addEventListener('keydown', (e) => e.stopPropagation());
    play.addEventListener('click', () => {
      if (this.playing) return this.stopPlaying(play);
      if (!this.overlayOn) {
        this.overlayOn = true;
        this.onOverlayToggle(true);
        const t = this.el.querySelector('[data-testid="sim-overlay-toggle"]');
        if (t) t.checked = true;
      }
      this.mode = 'playback';
      this.applyOverlay();
      play.textContent = 'Pause';
      let i = Number(slider.value) >= n - 1 ? 0 : Number(slider.value);
      this.playing = setInterval(() => {
        show(i);
        if (++i >= n) this.stopPlaying(play);
      }, 60);
    });
    back.addEventListener('click', () => {
      this.stopPlaying(play);
      this.mode = 'util';
      back.hidden = true;
      this.applyOverlay();
    });
    return h('div', { class: 'fx-playback' }, h('h5', {}, 'Playback: station states over simulated time'), h('div', { class: 'fx-prow' }, play, slider, label), h('div', { class: 'fx-prow' }, stateLegend(statesOf(this.run.results.stations)), back));
  }

  stopPlaying(play) {
    clearInterval(this.playing);
    this.playing = null;
    if (play) play.textContent = 'Play';
  }

  destroy() {
    this.offContent();
    this.stopPlaying();
    for (const box of this.chartBoxes || []) destroyChart(box);
    this.el.remove();
  }
}
