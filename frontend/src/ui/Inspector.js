// Right-hand panel: every field and param of the selected asset (validated, with units), the selected
// connection's settings, or the layout summary. Edits become commands; the panel redraws on signals.
import { h, clear, fmt } from '../util/dom.js';
import { paramSpecsFor, parseValue, CONNECTION_SPECS, QUANTITY_SPEC, TYPE_PARAM_KINDS } from '../editor/params.js';
import { UpdateAssetCommand, MoveAssetCommand, RotateAssetCommand, SetParamCommand, UpdateConnectionCommand, DeleteConnectionCommand, normDeg } from '../editor/commands/index.js';
import { STATUS_COLORS } from '../scene/AssetGeometry.js';
import { typeTable, typeChips, operatorSelect, typesDatalist } from './PartTypes.js';

const WEIGHT_SPEC = { key: 'weight', label: 'Weight', unit: '', min: 0, exclusiveMin: true };
const TYPE_CYCLE_SPEC = { key: 'cycle_time_s', label: 'Cycle time', unit: 's', min: 0, exclusiveMin: true };

const FIELD_SPECS = {
  x: { key: 'x', label: 'X', unit: 'm', min: -10000, max: 10000 },
  z: { key: 'z', label: 'Z', unit: 'm', min: -10000, max: 10000 },
  rotation_deg: { key: 'rotation_deg', label: 'Rotation', unit: '°', min: -36000, max: 36000 },
};

export class Inspector {
  constructor(root, editor) {
    const e = editor;
    this.editor = editor;
    this.root = root;
    this.body = h('div', { class: 'inspector-body', testid: 'inspector' });
    root.insertBefore(this.body, root.children[1] || null);
    this.inputs = new Map();
    this.customs = []; // (obj) => redraw of an editor that is not one text field (part types, operator)
    this.current = null;
    const s = editor.signals;
    s.selectionChanged.add(() => this.render());
    s.sceneLoaded.add(() => this.render());
    s.layoutChanged.add(() => this.render());
    s.assetChanged.add((a) => {
      if (this.current === `a${a.id}`) this.refreshValues();
      else if (this.current === 'multi' && e.selection.includes(a.id)) this.renderSoon();
      this.refreshLayoutFigures();
    });
    s.connectionChanged.add((c) => (this.current === `c${c.id}` ? this.refreshValues() : this.connectionTouched(c)));
    s.assetRemoved.add(() => (this.current === 'layout' || this.current === 'multi' ? this.renderSoon() : this.refreshLayoutFigures()));
    s.assetAdded.add(() => (this.current === 'layout' ? this.renderSoon() : this.refreshLayoutFigures()));
    s.connectionAdded.add((c) => this.connectionTouched(c));
    s.connectionRemoved.add(() => (this.current && this.current.startsWith('a') ? this.renderSoon() : this.refreshLayoutFigures()));
    s.twinsChanged.add(() => this.current && this.current.startsWith('a') && this.renderTwin());
    // Someone typing keeps the field they are in: a redraw waits until the focus leaves the panel.
    this.body.addEventListener('focusout', () => setTimeout(() => this.redrawDeferred && !this.body.contains(document.activeElement) && this.renderSoon(), 0));
  }

  // A redraw for a change in the room that alters the panel's structure (a connection, the assets of a
  // multi-selection), after a short pause so a burst of events redraws once.
  renderSoon() {
    clearTimeout(this.soon);
    this.soon = setTimeout(() => {
      if (this.body.contains(document.activeElement)) {
        this.redrawDeferred = true;
        return this.refreshLayoutFigures();
      }
      this.redrawDeferred = false;
      this.render();
    }, 200);
  }

  connectionTouched(c) {
    const cur = this.current || '';
    if (cur === `a${c.source}` || cur === `a${c.target}`) this.renderSoon();
    else this.refreshLayoutFigures();
  }

  // The layout's revision (every accepted change bumps it: the socket's seq) and counts, in place.
  refreshLayoutFigures() {
    if (this.current !== 'layout' || !this.editor.layout) return;
    const set = (id, v) => {
      const el = this.body.querySelector(`[data-testid="${id}"]`);
      if (el) el.textContent = v;
    };
    set('layout-revision', this.revision());
    set('asset-count', this.editor.assets.size);
    set('connection-count', this.editor.connections.size);
  }

  revision() {
    return Math.max(Number(this.editor.layout.revision) || 0, Number(this.editor.seq) || 0);
  }

  render() {
    const e = this.editor;
    clear(this.body);
    this.inputs.clear();
    this.customs = [];
    this.twinBox = null;
    if (!e.layout) return;
    if (e.selectedConnection !== null && e.connections.has(e.selectedConnection)) return this.renderConnection(e.connections.get(e.selectedConnection));
    if (e.selection.length === 1 && e.assets.has(e.selection[0])) return this.renderAsset(e.assets.get(e.selection[0]));
    if (e.selection.length > 1) return this.renderMulti();
    return this.renderLayout();
  }

  section(title, ...children) {
    return h('section', { class: 'insp-section' }, title ? h('h3', {}, title) : null, ...children);
  }

  // A validated numeric/text field. onCommit(value) receives the parsed value (undefined = default).
  field(spec, value, onCommit, { placeholder = '', text = false, disabled = false } = {}) {
    const input = h('input', {
      name: spec.key,
      testid: spec.key,
      type: 'text',
      inputmode: text ? 'text' : 'decimal',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder,
      disabled: disabled || !this.editor.canEdit,
      'aria-label': spec.label,
    });
    input.value = value === undefined || value === null ? '' : text ? value : fmt(typeof value === 'number' && spec.scale ? value * spec.scale : value, 3);
    const error = h('div', { class: 'field-error', testid: `error-${spec.key}` });
    const validate = () => {
      if (text) return { value: input.value };
      const r = parseValue(spec, input.value);
      error.textContent = r.error || '';
      input.classList.toggle('invalid', !!r.error);
      input.setAttribute('aria-invalid', r.error ? 'true' : 'false');
      return r;
    };
    input.addEventListener('input', validate);
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') input.blur();
      if (ev.key === 'Escape') {
        input.value = input.dataset.committed ?? '';
        validate();
        input.blur();
      }
      ev.stopPropagation();
    });
    input.addEventListener('change', () => {
      const r = validate();
      if (r.error) return;
      const v = r.empty ? undefined : r.value;
      if ((input.dataset.committed ?? '') === input.value) return;
      input.dataset.committed = input.value;
      onCommit(v);
    });
    input.dataset.committed = input.value;
    this.inputs.set(spec.key, { input, spec, text });
    return h(
      'label',
      { class: 'field' },
      h('span', { class: 'field-label', title: spec.help || '' }, spec.label),
      h('span', { class: 'field-input' }, input, spec.unit ? h('span', { class: 'unit' }, spec.unit) : null),
      error,
    );
  }

  renderAsset(asset) {
    const e = this.editor;
    this.current = `a${asset.id}`;
    const type = e.typeOf(asset) || { name: '?', kind: 'decor', defaults: {} };
    const ro = !e.canEdit;
    const typeSelect = h('select', { name: 'asset_type', testid: 'asset_type', disabled: ro }, [...e.types.values()].map((t) => h('option', { value: t.id, selected: t.id === asset.asset_type }, `${t.name} (${t.kind})`)));
    typeSelect.addEventListener('change', () => e.execute(new UpdateAssetCommand(e, asset.id, { asset_type: Number(typeSelect.value) }, null, 'Change type')));
    this.body.append(
      h('div', { class: 'insp-head' }, h('span', { class: 'swatch', style: { background: type.color } }), h('div', {}, h('div', { class: 'insp-title', testid: 'inspector-title' }, asset.name), h('div', { class: 'muted small' }, `${type.name} · ${type.kind} · ${fmt(type.width_m)}×${fmt(type.depth_m)}×${fmt(type.height_m)} m`))),
      this.section(
        'Asset',
        this.field({ key: 'name', label: 'Name' }, asset.name, (v) => {
          if (!v || !String(v).trim()) return e.notify('A name is required.', 'warn');
          e.execute(new UpdateAssetCommand(e, asset.id, { name: String(v).trim() }, null, 'Rename'));
        }, { text: true }),
        h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Type'), h('span', { class: 'field-input' }, typeSelect)),
        this.field({ key: 'twin_key', label: 'Twin key' }, asset.twin_key || '', (v) => {
          const key = String(v || '').trim();
          if (key && !/^[A-Za-z0-9_-]+$/.test(key)) return e.notify('Twin key: letters, digits, - and _ only.', 'warn');
          e.execute(new UpdateAssetCommand(e, asset.id, { twin_key: key }, null, 'Set twin key'));
        }, { text: true, placeholder: 'not bound' }),
      ),
      this.section(
        'Placement',
        h(
          'div',
          { class: 'grid3' },
          this.field(FIELD_SPECS.x, asset.x, (v) => v !== undefined && e.execute(new MoveAssetCommand(e, asset.id, { x: v, z: e.getAsset(asset.id).z }))),
          this.field(FIELD_SPECS.z, asset.z, (v) => v !== undefined && e.execute(new MoveAssetCommand(e, asset.id, { x: e.getAsset(asset.id).x, z: v }))),
          this.field(FIELD_SPECS.rotation_deg, asset.rotation_deg, (v) => v !== undefined && e.execute(new RotateAssetCommand(e, asset.id, normDeg(v)))),
        ),
      ),
    );
    const specs = paramSpecsFor(type.kind, asset.params, type.defaults);
    if (specs.length) {
      const fields = specs.map((spec) => {
        const def = type.defaults ? type.defaults[spec.key] : undefined;
        const placeholder = def === undefined ? 'default' : def === null ? `default: ${spec.nullText || '—'}` : `default: ${fmt(spec.scale && typeof def === 'number' ? def * spec.scale : def, 3)}`;
        const value = asset.params && spec.key in asset.params ? asset.params[spec.key] : undefined;
        const f = this.field(spec, value === null ? 'null' : value, (v) => e.execute(new SetParamCommand(e, asset.id, spec.key, v)), { placeholder });
        if (value === null) this.inputs.get(spec.key).input.value = spec.nullText || 'null';
        return f;
      });
      this.body.append(this.section('Simulation parameters', h('p', { class: 'muted small' }, 'Empty = the type default. Type "none" for no value where allowed.'), ...fields));
    }
    this.body.append(...this.lineModelSections(asset, type));
    const conns = e.connectionsOf(asset.id);
    if (conns.length) {
      this.body.append(
        this.section(
          'Connections',
          h(
            'ul',
            { class: 'conn-list' },
            conns.map((c) => {
              const out = c.source === asset.id;
              const other = e.assets.get(out ? c.target : c.source);
              const routing = `${c.part_types ? ` · ${c.part_types.join(', ')}` : ''}${c.quantity > 1 ? ` · ×${c.quantity}` : ''}`;
              const li = h('li', { testid: `connection-${c.id}` }, h('span', { class: 'arrow' }, out ? '→' : '←'), other ? other.name : '?', h('span', { class: 'muted small' }, `${c.buffer_capacity === null ? ' ∞' : ` cap ${c.buffer_capacity}`}${routing}`));
              li.addEventListener('click', () => e.selectConnection(c.id));
              return li;
            }),
          ),
        ),
      );
    }
    this.twinBox = h('div');
    this.body.append(this.twinBox);
    this.renderTwin();
    this.body.append(h('p', { class: 'muted small ids', testid: 'asset-ids' }, `id ${asset.id} · version `, h('span', { testid: 'asset-version' }, asset.version), ` · uid ${String(asset.uid || '').slice(0, 8)}`));
  }

  // CONTRACT §7 editors of an asset: the mix of a source, per-type cycle times, the output type of an
  // assembly, the operator pools a station needs, and which stations an operator pool serves.
  lineModelSections(asset, type) {
    const e = this.editor;
    const kind = type.kind;
    const ro = !e.canEdit;
    const params = asset.params || {};
    const uses = (key) => TYPE_PARAM_KINDS[key].includes(kind) || key in params;
    const set = (key) => (v) => e.execute(new SetParamCommand(e, asset.id, key, v));
    const out = [];
    const table = (key, opts) => {
      const t = typeTable({ key, value: params[key], disabled: ro, onCommit: set(key), ...opts });
      this.customs.push((a) => t.refresh((a.params || {})[key]));
      return t.el;
    };
    if (uses('mix')) {
      out.push(this.section('Product mix', h('p', { class: 'muted small' }, 'Each new part draws its type by weight. Empty: every part is of type “part”.'), table('mix', { spec: WEIGHT_SPEC, share: true, addLabel: 'Add a part type' })));
    }
    const typed = [];
    if (uses('cycle_time_by_type')) typed.push(h('p', { class: 'muted small' }, 'Other types take the cycle time above; setups happen on a change of type.'), table('cycle_time_by_type', { spec: TYPE_CYCLE_SPEC }));
    if (uses('output_type')) typed.push(this.field({ key: 'output_type', label: 'Output type', help: 'The type of the part this assembly emits' }, params.output_type ?? '', (v) => set('output_type')(String(v || '').trim() ? String(v) : undefined), { text: true, placeholder: `default: ${asset.name}` }));
    if (typed.length) out.push(this.section('Part types', ...typed));
    if (uses('operator') || uses('repair_operator')) {
      const pick = (key, label, noneText) => {
        const s = operatorSelect({ key, editor: e, value: params[key], disabled: ro, noneText, onCommit: set(key) });
        this.customs.push((a) => s.refresh((a.params || {})[key]));
        return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), h('span', { class: 'field-input' }, s.el));
      };
      out.push(this.section('Operators', pick('operator', 'Operator pool', 'none: runs unattended'), pick('repair_operator', 'Repair crew', 'none: repairs need nobody'), h('p', { class: 'muted small' }, 'Setups and processing hold a worker of the pool; a repair waits for one of the crew.')));
    }
    if (kind === 'operator') {
      const served = [...e.assets.values()].filter((a) => a.params && (a.params.operator === asset.id || a.params.repair_operator === asset.id));
      out.push(this.section('Pool', h('p', { class: 'muted small', testid: 'operator-serves' }, served.length ? `Serves ${served.map((a) => a.name).join(', ')}.` : 'No station uses this pool yet: pick it in a station’s Operators section.')));
    }
    if (out.length) out.push(typesDatalist(e));
    return out;
  }

  renderTwin() {
    if (!this.twinBox) return;
    clear(this.twinBox);
    const asset = this.editor.assets.get(this.editor.selection[0]);
    this.twinShown = (asset && asset.twin_key) || '';
    if (!asset || !asset.twin_key) return;
    const twin = this.editor.twins.get(asset.twin_key);
    const status = twin ? twin.status || 'unknown' : 'unknown';
    const values = twin && twin.values ? Object.entries(twin.values) : [];
    this.twinBox.append(
      this.section(
        'Live twin',
        h('div', { class: 'twin-status', testid: 'twin-status' }, h('span', { class: 'dot', style: { background: STATUS_COLORS[status] } }), `${asset.twin_key}: ${status}`),
        values.length ? h('table', { class: 'kv' }, values.slice(0, 20).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, fmt(v, 3))))) : h('p', { class: 'muted small' }, twin ? 'No telemetry yet.' : 'No twin with this key yet.'),
      ),
    );
  }

  refreshValues() {
    const e = this.editor;
    let obj = null;
    if (this.current && this.current.startsWith('a')) obj = e.assets.get(Number(this.current.slice(1)));
    if (this.current && this.current.startsWith('c')) obj = e.connections.get(Number(this.current.slice(1)));
    if (!obj) return this.render();
    for (const refresh of this.customs) refresh(obj);
    for (const [key, { input, spec, text }] of this.inputs) {
      if (document.activeElement === input) continue;
      let v = key in obj ? obj[key] : obj.params ? obj.params[key] : undefined;
      if (obj.params && key in (obj.params || {}) && !(key in obj)) v = obj.params[key];
      let shown = v === undefined ? '' : v === null ? (spec.nullable ? spec.nullText || 'null' : '') : text ? v : fmt(spec.scale ? v * spec.scale : v, 3);
      if (this.current.startsWith('a') && !(key in obj) && !(obj.params && key in obj.params)) shown = '';
      input.value = shown;
      input.dataset.committed = shown;
      input.classList.remove('invalid');
    }
    const ver = this.body.querySelector('[data-testid="asset-version"]');
    if (ver && obj.version !== undefined) ver.textContent = obj.version;
    const title = this.body.querySelector('[data-testid="inspector-title"]');
    if (title && obj.name) title.textContent = obj.name;
    const typeSel = this.body.querySelector('select[name="asset_type"]');
    if (typeSel && obj.asset_type && Number(typeSel.value) !== obj.asset_type) return this.render();
    if (this.current.startsWith('a') && this.twinShown !== (obj.twin_key || '')) this.renderTwin();
  }

  renderConnection(conn) {
    const e = this.editor;
    this.current = `c${conn.id}`;
    const src = e.assets.get(conn.source);
    const dst = e.assets.get(conn.target);
    const del = h('button', { class: 'danger', testid: 'delete-connection', disabled: !e.canEdit }, 'Delete connection');
    del.addEventListener('click', () => e.execute(new DeleteConnectionCommand(e, conn.id)));
    const fields = CONNECTION_SPECS.map((spec) => {
      const v = conn[spec.key];
      const f = this.field(spec, v, (value) => {
        let val = value;
        if (val === undefined) val = spec.nullable ? null : 1;
        e.execute(new UpdateConnectionCommand(e, conn.id, { [spec.key]: val }));
      }, { placeholder: spec.nullable ? spec.nullText : '' });
      if (v === null) this.inputs.get(spec.key).input.value = '';
      this.inputs.get(spec.key).input.dataset.committed = this.inputs.get(spec.key).input.value;
      return f;
    });
    const quantity = this.field(QUANTITY_SPEC, conn.quantity ?? 1, (value) => e.execute(new UpdateConnectionCommand(e, conn.id, { quantity: value === undefined ? 1 : value })));
    const chips = typeChips({ key: 'part_types', value: conn.part_types, disabled: !e.canEdit, onCommit: (v) => e.execute(new UpdateConnectionCommand(e, conn.id, { part_types: v })) });
    this.customs.push((c) => chips.refresh(c.part_types));
    const dstKind = dst ? (e.typeOf(dst) || {}).kind : null;
    const selSrc = h('a', { href: '#', testid: 'connection-source' }, src ? src.name : '?');
    selSrc.addEventListener('click', (ev) => (ev.preventDefault(), e.select([conn.source])));
    const selDst = h('a', { href: '#', testid: 'connection-target' }, dst ? dst.name : '?');
    selDst.addEventListener('click', (ev) => (ev.preventDefault(), e.select([conn.target])));
    const length = src && dst ? Math.hypot(dst.x - src.x, dst.z - src.z) : 0;
    this.body.append(
      h('div', { class: 'insp-head' }, h('span', { class: 'swatch conveyor' }), h('div', {}, h('div', { class: 'insp-title', testid: 'inspector-title' }, 'Connection'), h('div', { class: 'muted small' }, selSrc, ' → ', selDst, ` · ${fmt(length, 1)} m`))),
      this.section('Flow', h('p', { class: 'muted small' }, 'Empty buffer = unbounded; empty speed = no transport time.'), ...fields),
      this.section(
        'Part types',
        h('p', { class: 'muted small' }, 'A finished part takes a connection that accepts its type (Enter adds a type).'),
        chips.el,
        quantity,
        h('p', { class: 'muted small', testid: 'quantity-hint' }, dstKind === 'assembly' ? `${dst.name} takes this many parts from here per cycle.` : 'Quantity counts only when the target is an assembly.'),
      ),
      typesDatalist(e),
      this.section(null, del),
    );
  }

  renderMulti() {
    const e = this.editor;
    this.current = 'multi';
    const counts = new Map();
    for (const id of e.selection) {
      const t = e.typeOf(e.assets.get(id));
      counts.set(t ? t.name : '?', (counts.get(t ? t.name : '?') || 0) + 1);
    }
    this.body.append(
      h('div', { class: 'insp-head' }, h('div', {}, h('div', { class: 'insp-title', testid: 'inspector-title' }, `${e.selection.length} assets selected`), h('div', { class: 'muted small' }, 'Move or rotate them together with the gizmo; Delete or Ctrl+D act on all.'))),
      this.section('By type', h('table', { class: 'kv' }, [...counts].map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, v))))),
    );
  }

  renderLayout() {
    const e = this.editor;
    this.current = 'layout';
    const l = e.layout;
    const f = e.factory;
    const counts = new Map();
    for (const a of e.assets.values()) counts.set(a.asset_type, (counts.get(a.asset_type) || 0) + 1);
    this.body.append(
      h('div', { class: 'insp-head' }, h('div', {}, h('div', { class: 'insp-title', testid: 'inspector-title' }, l.name), h('div', { class: 'muted small' }, `${f.name || ''} · ${fmt(f.floor_width_m)} × ${fmt(f.floor_depth_m)} m floor`))),
      this.section(
        'Layout',
        h(
          'table',
          { class: 'kv' },
          h('tr', {}, h('td', {}, 'Status'), h('td', {}, h('span', { class: `chip status-${l.status}` }, l.status.replace('_', ' ')))),
          h('tr', {}, h('td', {}, 'Revision'), h('td', { testid: 'layout-revision' }, this.revision())),
          h('tr', {}, h('td', {}, 'Your role'), h('td', {}, e.role)),
          h('tr', {}, h('td', {}, 'Assets'), h('td', { testid: 'asset-count' }, e.assets.size)),
          h('tr', {}, h('td', {}, 'Connections'), h('td', { testid: 'connection-count' }, e.connections.size)),
        ),
        l.description ? h('p', { class: 'muted small' }, l.description) : null,
      ),
      this.section(
        'Assets by type',
        h('table', { class: 'kv' }, [...e.types.values()].filter((t) => counts.get(t.id)).map((t) => h('tr', {}, h('td', {}, h('span', { class: 'swatch small', style: { background: t.color } }), t.name), h('td', {}, counts.get(t.id))))),
      ),
      this.section(null, h('p', { class: 'muted small' }, 'Click an asset to inspect it. Shift-drag to box select. Press ? for all shortcuts.')),
    );
  }
}
