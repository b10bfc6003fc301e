// Changes buffer_capacity / transport_speed_mps / weight of a connection.
import { Command } from './Command.js';

export class UpdateConnectionCommand extends Command {
  constructor(editor, connectionId, newValues) {
    super(editor, 'Edit connection');
    this.connectionId = connectionId;
    this.newValues = { ...newValues };
    const conn = editor.getConnection(connectionId);
    this.oldValues = {};
    for (const k of Object.keys(newValues)) this.oldValues[k] = conn ? conn[k] : null;
    this.updatable = true;
    this.mergeKey = `conn:${connectionId}:${Object.keys(newValues).join(',')}`;
  }

  apply(values) {
    const conn = this.editor.getConnection(this.connectionId);
    if (conn) this.editor.setConnectionLocal({ ...conn, ...values });
    return this.editor.persistConnectionUpdate(this.connectionId, values);
  }

  execute() {
    return this.apply(this.newValues);
  }

  undo() {
    return this.apply(this.oldValues);
  }

  update(cmd) {
    Object.assign(this.newValues, cmd.newValues);
  }

  toJSON() {
    return { ...super.toJSON(), connection: this.connectionId, newValues: this.newValues };
  }
}
