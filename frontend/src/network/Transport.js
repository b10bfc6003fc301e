// Where edits are sent: over the websocket when it is open (ops), otherwise REST. Same promise interface
// either way: resolves with the saved object, rejects with an error carrying status (409 + current).
import { Api } from './Api.js';

export class Transport {
  constructor() {
    this.socket = null;
  }

  useSocket(socket) {
    this.socket = socket;
  }

  get viaSocket() {
    return !!(this.socket && this.socket.canSendOps);
  }

  createAsset(data) {
    return this.viaSocket ? this.socket.op('asset.create', { data }) : Api.createAsset(data);
  }

  updateAsset(id, changes, version) {
    return this.viaSocket ? this.socket.op('asset.update', { asset: id, version, changes }) : Api.updateAsset(id, changes, version);
  }

  deleteAsset(id, version) {
    return this.viaSocket ? this.socket.op('asset.delete', { asset: id, version }) : Api.deleteAsset(id, version);
  }

  createConnection(data) {
    return this.viaSocket ? this.socket.op('connection.create', { data }) : Api.createConnection(data);
  }

  updateConnection(id, changes, version) {
    // The protocol has no connection.update op: always REST.
    return Api.updateConnection(id, changes, version);
  }

  deleteConnection(id) {
    return this.viaSocket ? this.socket.op('connection.delete', { connection: id }) : Api.deleteConnection(id);
  }
}
