// Duplicates assets (offset on the floor) together with the connections among them.
import { Command, runAll } from './Command.js';

export class DuplicateAssetCommand extends Command {
  constructor(editor, assetIds, offset = { x: 2, z: 2 }) {
    super(editor, 'Duplicate');
    this.sourceIds = [...assetIds];
    this.offset = offset;
    this.created = null; // [{sourceId, id}]
    this.createdConnections = [];
  }

  async execute() {
    const editor = this.editor;
    const W = editor.factory.floor_width_m;
    const D = editor.factory.floor_depth_m;
    const sources = this.sourceIds.map((id) => editor.getAsset(id)).filter(Boolean);
    const names = new Set();
    const results = await runAll(
      sources.map((src) => {
        const data = editor.assetData(src);
        data.x = Math.min(W, Math.max(0, src.x + this.offset.x));
        data.z = Math.min(D, Math.max(0, src.z + this.offset.z));
        let name = editor.uniqueName(src.name);
        while (names.has(name)) name = `${name}-copy`;
        names.add(name);
        data.name = name;
        data.twin_key = '';
        return editor.persistAssetCreate(data).then((asset) => ({ sourceId: src.id, asset }));
      }),
    );
    const byOld = new Map(results.map((r) => [r.sourceId, r.asset.id]));
    if (this.created) results.forEach((r, i) => this.created[i] && editor.remapAsset(this.created[i].id, r.asset.id));
    this.created = results.map((r) => ({ sourceId: r.sourceId, id: r.asset.id }));
    const conns = [...editor.connections.values()].filter((c) => byOld.has(c.source) && byOld.has(c.target));
    this.createdConnections = await runAll(
      conns.map((c) =>
        editor.persistConnectionCreate({
          layout: editor.layout.id,
          source: byOld.get(c.source),
          target: byOld.get(c.target),
          buffer_capacity: c.buffer_capacity,
          transport_speed_mps: c.transport_speed_mps,
          weight: c.weight,
        }),
      ),
    );
    editor.select(this.created.map((c) => c.id));
  }

  async undo() {
    if (!this.created) return;
    await runAll(this.created.map((c) => this.editor.persistAssetDelete(c.id)));
  }

  toJSON() {
    return { ...super.toJSON(), sources: this.sourceIds, created: this.created };
  }
}
