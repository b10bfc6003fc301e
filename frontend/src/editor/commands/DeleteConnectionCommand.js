// Deletes a connection; undo recreates it between the (possibly remapped) assets.
import { Command } from './Command.js';

export class DeleteConnectionCommand extends Command {
  constructor(editor, connectionId) {
    super(editor, 'Delete connection');
    this.connectionId = connectionId;
    this.snapshot = null;
  }

  async execute() {
    const conn = this.editor.getConnection(this.connectionId);
    if (!conn) return;
    this.snapshot = JSON.parse(JSON.stringify(conn));
    await this.editor.persistConnectionDelete(this.connectionId);
  }

  async undo() {
    const editor = this.editor;
    const s = this.snapshot;
    if (!s) return;
    const conn = await editor.persistConnectionCreate({
      layout: editor.layout.id,
      source: editor.resolveId(s.source),
      target: editor.resolveId(s.target),
      buffer_capacity: s.buffer_capacity,
      transport_speed_mps: s.transport_speed_mps,
      weight: s.weight,
    });
    editor.remapConnection(this.connectionId, conn.id);
  }

  toJSON() {
    return { ...super.toJSON(), connection: this.connectionId };
  }
}
