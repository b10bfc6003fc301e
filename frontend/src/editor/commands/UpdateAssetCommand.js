// Changes fields of one asset (any REST field, or the whole params object).
import { Command } from './Command.js';

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

export class UpdateAssetCommand extends Command {
  constructor(editor, assetId, newValues, oldValues = null, name = 'Edit asset') {
    super(editor, name);
    this.assetId = assetId;
    this.newValues = clone(newValues);
    const asset = editor.getAsset(assetId);
    this.oldValues = oldValues ? clone(oldValues) : {};
    if (!oldValues && asset) for (const k of Object.keys(newValues)) this.oldValues[k] = clone(asset[k]);
    // The version the user saw when making the edit: if the save waits (behind another one, or offline) and
    // someone else changes the asset meanwhile, the save is refused as a conflict instead of overwriting it.
    const seen = editor.serverAssets.get(editor.resolveId(assetId));
    this.seenVersion = seen ? seen.version : undefined;
  }

  preview() {
    this.editor.updateAssetLocal(this.assetId, this.newValues);
  }

  execute() {
    this.editor.updateAssetLocal(this.assetId, this.newValues);
    return this.editor.persistAssetUpdate(this.assetId, this.newValues, this.seenVersion);
  }

  undo() {
    this.editor.updateAssetLocal(this.assetId, this.oldValues);
    return this.editor.persistAssetUpdate(this.assetId, this.oldValues);
  }

  update(cmd) {
    Object.assign(this.newValues, clone(cmd.newValues));
    for (const [k, v] of Object.entries(cmd.oldValues)) if (!(k in this.oldValues)) this.oldValues[k] = clone(v);
  }

  toJSON() {
    return { ...super.toJSON(), asset: this.assetId, newValues: this.newValues, oldValues: this.oldValues };
  }
}
