// Sets (or, with value undefined, removes so the type default applies) one simulation param of an asset.
import { UpdateAssetCommand } from './UpdateAssetCommand.js';

export class SetParamCommand extends UpdateAssetCommand {
  constructor(editor, assetId, key, value) {
    const asset = editor.getAsset(assetId);
    const params = { ...(asset.params || {}) };
    if (value === undefined) delete params[key];
    else params[key] = value;
    super(editor, assetId, { params }, { params: { ...(asset.params || {}) } }, `Set ${key}`);
    this.key = key;
    this.updatable = true;
    this.mergeKey = `param:${assetId}:${key}`;
  }
}
