// Viewport input: click to select (instance id picking), shift-drag to box select, connect mode,
// placement from the palette, hover highlight (a move cursor over what drag by the body would move).
// It only calls editor methods and commands.
import { AddAssetCommand, AddConnectionCommand } from '../editor/commands/index.js';
import { snapping } from './Snap.js';

const snap = (v) => snapping.grid(v);

export class Interaction {
  constructor(view, editor, picking, gizmo) {
    this.view = view;
    this.editor = editor;
    this.picking = picking;
    this.gizmo = gizmo;
    this.canvas = view.renderer.domElement;
    this.down = null;
    this.box = document.createElement('div');
    this.box.className = 'box-select';
    this.box.dataset.testid = 'box-select';
    view.container.appendChild(this.box);
    this.hoverPending = null;
    this.canvas.addEventListener('pointerdown', (e) => this.onDown(e));
    window.addEventListener('pointermove', (e) => this.onMove(e));
    window.addEventListener('pointerup', (e) => this.onUp(e));
    this.canvas.addEventListener('dblclick', (e) => this.onDouble(e));
    this.canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  }

  onDown(e) {
    if (e.button !== 0 || this.view.walking) return;
    if (this.gizmo && this.gizmo.controls.axis !== null && this.gizmo.helper.visible) return; // gizmo handles it
    this.down = { x: e.clientX, y: e.clientY, shift: e.shiftKey, ctrl: e.ctrlKey || e.metaKey, boxing: e.shiftKey && this.editor.mode === 'select' };
    if (this.down.boxing) {
      this.view.controls.enabled = false;
      this.canvas.setPointerCapture?.(e.pointerId);
    }
  }

  onMove(e) {
    if (this.down && this.down.boxing) {
      const { x, y } = this.down;
      const rect = this.view.container.getBoundingClientRect();
      Object.assign(this.box.style, {
        display: 'block',
        left: `${Math.min(x, e.clientX) - rect.left}px`,
        top: `${Math.min(y, e.clientY) - rect.top}px`,
        width: `${Math.abs(e.clientX - x)}px`,
        height: `${Math.abs(e.clientY - y)}px`,
      });
      return;
    }
    if (e.target !== this.canvas || this.view.walking || e.buttons) return;
    if (this.hoverPending) return;
    this.hoverPending = requestAnimationFrame(() => {
      this.hoverPending = null;
      const hit = this.picking.any(e.clientX, e.clientY);
      this.view.assetMeshes.setHovered(hit && hit.kind === 'asset' ? hit.id : null);
      const mode = this.editor.mode;
      const movable = mode === 'select' && this.editor.canEdit && hit && hit.kind === 'asset' && this.editor.selection.includes(hit.id);
      this.canvas.style.cursor = mode === 'place' ? 'copy' : mode === 'connect' ? (hit && hit.kind === 'asset' ? 'crosshair' : 'not-allowed') : movable ? 'move' : hit ? 'pointer' : '';
    });
  }

  onUp(e) {
    const down = this.down;
    this.down = null;
    if (!down) return;
    if (down.boxing) {
      this.box.style.display = 'none';
      this.view.controls.enabled = !this.view.walking;
      const moved = Math.hypot(e.clientX - down.x, e.clientY - down.y);
      if (moved > 4) {
        const ids = this.picking.inRect(down.x, down.y, e.clientX, e.clientY);
        this.editor.select(down.ctrl ? [...this.editor.selection, ...ids] : ids);
        return;
      }
    }
    if (Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4) return; // an orbit drag
    this.click(e.clientX, e.clientY, down);
  }

  click(x, y, mods = {}) {
    const editor = this.editor;
    if (editor.mode === 'place' && editor.placeType) {
      this.placeAt(editor.placeType, x, y);
      if (!mods.shift) editor.setMode('select');
      return;
    }
    if (editor.mode === 'connect') {
      const hit = this.picking.asset(x, y);
      if (!hit) return;
      this.connectClick(hit.id);
      return;
    }
    const hit = this.picking.any(x, y);
    if (!hit) {
      if (!mods.shift && !mods.ctrl) {
        editor.select([]);
        if (editor.selectedConnection !== null) editor.selectConnection(null);
      }
      return;
    }
    if (hit.kind === 'connection') {
      editor.selectConnection(hit.id);
      return;
    }
    if (mods.shift || mods.ctrl) editor.toggleSelect(hit.id);
    else editor.select([hit.id]);
  }

  connectClick(assetId) {
    const editor = this.editor;
    if (!editor.canEdit) return editor.notify(editor.readOnlyReason, 'warn');
    if (editor.connectSource === null || editor.connectSource === undefined) {
      editor.connectSource = assetId;
      editor.select([assetId]);
      editor.signals.modeChanged.dispatch('connect', { source: assetId });
      return;
    }
    const source = editor.connectSource;
    if (source === assetId) return;
    const exists = [...editor.connections.values()].some((c) => c.source === source && c.target === assetId);
    editor.connectSource = null;
    if (exists) {
      editor.notify('These two assets are already connected in that direction.', 'warn');
    } else {
      editor.execute(new AddConnectionCommand(editor, { source, target: assetId })).then(() => {
        const conn = [...editor.connections.values()].find((c) => c.source === editor.resolveId(source) && c.target === editor.resolveId(assetId));
        if (conn) editor.selectConnection(conn.id);
      });
    }
    editor.signals.modeChanged.dispatch('connect', { source: null });
  }

  placeAt(type, clientX, clientY) {
    const editor = this.editor;
    if (!editor.canEdit) return editor.notify(editor.readOnlyReason, 'warn');
    const p = this.picking.floor(clientX, clientY);
    if (!p) return;
    const b = this.view.floor.bounds;
    const x = Math.min(b.maxX, Math.max(b.minX, snap(p.x)));
    const z = Math.min(b.maxZ, Math.max(b.minZ, snap(p.z)));
    return this.addAsset(type, x, z);
  }

  addAsset(type, x, z, rotation = 0) {
    const editor = this.editor;
    return editor.execute(
      new AddAssetCommand(editor, {
        layout: editor.layout.id,
        asset_type: type.id,
        name: editor.uniqueName(type.name),
        x,
        z,
        rotation_deg: rotation,
        params: {},
      }),
    );
  }

  onDouble(e) {
    const hit = this.picking.asset(e.clientX, e.clientY);
    if (hit) this.view.frameAssets([hit.id]);
  }
}
