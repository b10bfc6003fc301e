// Connects a source asset to a target asset (POST /api/connections/).
import { Command } from './Command.js';

export class AddConnectionCommand extends Command {
  constructor(editor, data) {
    super(editor, 'Connect');
    this.data = { buffer_capacity: null, transport_speed_mps: null, weight: 1, ...data };
    this.connectionId = null;
  }

  async execute() {
    const editor = this.editor;
    const conn = await editor.persistConnectionCreate({
      ...this.data,
      layout: editor.layout.id,
      source: editor.resolveId(this.data.source),
      target: editor.resolveId(this.data.target),
    });
    if (this.connectionId === null) this.connectionId = conn.id;
    else editor.remapConnection(this.connectionId, conn.id);
    return conn;
  }

  async undo() {
    if (this.connectionId === null) return;
    const current = this.editor.getConnection(this.connectionId);
    if (current) for (const k of ['buffer_capacity', 'transport_speed_mps', 'weight']) this.data[k] = current[k];
    await this.editor.persistConnectionDelete(this.connectionId);
  }

  toJSON() {
    return { ...super.toJSON(), data: this.data, connection: this.connectionId };
  }
}
