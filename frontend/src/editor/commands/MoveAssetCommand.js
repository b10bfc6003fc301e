// Moves an asset on the floor (x, z in metres). Consecutive moves of the same asset merge into one step.
import { UpdateAssetCommand } from './UpdateAssetCommand.js';

export class MoveAssetCommand extends UpdateAssetCommand {
  constructor(editor, assetId, position, oldPosition = null) {
    super(editor, assetId, { x: position.x, z: position.z }, oldPosition && { x: oldPosition.x, z: oldPosition.z }, 'Move');
    this.updatable = true;
    this.mergeKey = `move:${assetId}`;
  }
}
