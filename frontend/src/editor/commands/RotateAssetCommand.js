// Rotates an asset about y (degrees, normalised to [0, 360)).
import { UpdateAssetCommand } from './UpdateAssetCommand.js';

export const normDeg = (deg) => Math.round((((deg % 360) + 360) % 360) * 1000) / 1000;

export class RotateAssetCommand extends UpdateAssetCommand {
  constructor(editor, assetId, rotationDeg, oldRotationDeg = null) {
    super(editor, assetId, { rotation_deg: normDeg(rotationDeg) }, oldRotationDeg === null ? null : { rotation_deg: oldRotationDeg }, 'Rotate');
    this.updatable = true;
    this.mergeKey = `rotate:${assetId}`;
  }
}
