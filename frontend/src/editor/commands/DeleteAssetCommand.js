// Deletes one or more assets and their connections; undo recreates them (same uids, new ids, remapped).
import { Command, runAll } from './Command.js';

const clone = (v) => JSON.parse(JSON.stringify(v));

export class DeleteAssetCommand extends Command {
  constructor(editor, assetIds) {
    const ids = Array.isArray(assetIds) ? assetIds : [assetIds];
    super(editor, ids.length > 1 ? `Delete ${ids.length} assets` : 'Delete asset');
    this.assetIds = ids;
    this.snapshots = [];
    this.connections = [];
  }

  async execute() {
    const editor = this.editor;
    this.snapshots = this.assetIds.map((id) => editor.getAsset(id)).filter(Boolean).map((a) => ({ id: a.id, data: editor.assetData(a, { keepUid: true }) }));
    const conns = new Map();
    for (const s of this.snapshots) for (const c of editor.connectionsOf(s.id)) conns.set(c.id, clone(c));
    this.connections = [...conns.values()];
    await runAll(this.snapshots.map((s) => editor.persistAssetDelete(s.id)));
  }

  async undo() {
    const editor = this.editor;
    await runAll(
      this.snapshots.map(async (s) => {
        const asset = await editor.persistAssetCreate(s.data);
        editor.remapAsset(s.id, asset.id);
      }),
    );
    await runAll(
      this.connections.map(async (c) => {
        const conn = await editor.persistConnectionCreate({
          layout: editor.layout.id,
          source: editor.resolveId(c.source),
          target: editor.resolveId(c.target),
          buffer_capacity: c.buffer_capacity,
          transport_speed_mps: c.transport_speed_mps,
          weight: c.weight,
        });
        editor.remapConnection(c.id, conn.id);
      }),
    );
    editor.select(this.snapshots.map((s) => s.id));
  }

  toJSON() {
    return { ...super.toJSON(), assets: this.assetIds };
  }
}
