// Adds an asset (POST /api/assets/). Undo deletes it; redo recreates it and remaps the id.
import { Command } from './Command.js';

export class AddAssetCommand extends Command {
  constructor(editor, data, { select = true } = {}) {
    super(editor, 'Add asset');
    this.data = JSON.parse(JSON.stringify(data));
    this.assetId = null;
    this.selectAfter = select;
  }

  async execute() {
    const asset = await this.editor.persistAssetCreate(this.data);
    if (this.assetId === null) this.assetId = asset.id;
    else this.editor.remapAsset(this.assetId, asset.id);
    if (this.selectAfter) this.editor.select([asset.id]);
    return asset;
  }

  async undo() {
    if (this.assetId === null) return;
    const current = this.editor.getAsset(this.assetId);
    if (current) this.data = { ...this.data, ...this.editor.assetData(current, { keepUid: true }) };  // redo: the same asset
    await this.editor.persistAssetDelete(this.assetId);
  }

  toJSON() {
    return { ...super.toJSON(), data: this.data, asset: this.assetId };
  }
}
