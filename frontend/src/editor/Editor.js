// The one state owner of the workspace: layout, catalogue, assets, connections, twins, selection.
// Everything else listens to its signals; edits go through execute(command); remote events through applyEvent().
import { Signal } from '../util/Signal.js';
import { History } from './History.js';
import { isContentKind } from './contentKinds.js';

export const ROLE_RANK = { viewer: 0, engineer: 1, manager: 2, owner: 3 };
const ASSET_FIELDS = ['layout', 'asset_type', 'name', 'twin_key', 'x', 'z', 'rotation_deg', 'params'];

const clone = (obj) => (obj === undefined ? undefined : JSON.parse(JSON.stringify(obj)));

export class Editor {
  constructor({ transport, user = null } = {}) {
    this.transport = transport;
    this.user = user;
    this.signals = {
      sceneLoaded: new Signal(),
      assetAdded: new Signal(),
      assetChanged: new Signal(),
      assetRemoved: new Signal(),
      assetPreview: new Signal(), // (id, {x, z, rotation_deg}) while dragging; state unchanged
      connectionAdded: new Signal(),
      connectionChanged: new Signal(),
      connectionRemoved: new Signal(),
      selectionChanged: new Signal(),
      historyChanged: new Signal(),
      twinsChanged: new Signal(),
      layoutChanged: new Signal(),
      modeChanged: new Signal(),
      notice: new Signal(), // ({message, level, detail})
      conflict: new Signal(), // ({kind, label, mine, current, keepMine(), useTheirs()})
      savingChanged: new Signal(),
      remoteEdit: new Signal(), // ({by, kind, object})
      focusRequested: new Signal(), // (ids) frame these assets
      membersChanged: new Signal(), // (members) people in the room (from the socket)
      contentChanged: new Signal(), // (contentRevision) a change that can alter simulation results arrived
    };
    this.layout = null;
    this.factory = null;
    this.types = new Map();
    this.assets = new Map();
    this.serverAssets = new Map();
    this.connections = new Map();
    this.twins = new Map();
    this.selection = [];
    this.members = [];
    this.me = null;
    this.selectedConnection = null;
    this.mode = 'select'; // select | connect | place
    this.placeType = null;
    this.seq = 0;
    this.history = new History(this);
    this.assetIdMap = new Map();
    this.connIdMap = new Map();
    this.queues = new Map();
    this.pending = new Map(); // asset id -> merged changes not yet confirmed
    this.ownVersions = new Set();
    this.savingCount = 0;
  }

  // ---- loading -------------------------------------------------------------------------------
  load(scene) {
    this.layout = scene.layout;
    this.factory = scene.layout.factory_info || { id: scene.layout.factory, floor_width_m: 60, floor_depth_m: 40 };
    this.types = new Map((scene.asset_types || []).map((t) => [t.id, t]));
    this.assets = new Map((scene.assets || []).map((a) => [a.id, a]));
    this.serverAssets = new Map((scene.assets || []).map((a) => [a.id, clone(a)]));
    this.connections = new Map((scene.connections || []).map((c) => [c.id, c]));
    this.twins = new Map((scene.twins || []).map((t) => [t.key, t]));
    this.seq = scene.seq || 0;
    this.selection = [];
    this.selectedConnection = null;
    this.history.clear();
    this.signals.sceneLoaded.dispatch(this);
    this.signals.selectionChanged.dispatch(this.selection);
  }

  // A full state from the server (websocket snapshot): replaces everything, keeps selection and history.
  loadSnapshot(scene) {
    const selection = this.selection;
    this.layout = { ...(this.layout || {}), ...(scene.layout || {}) };
    if (scene.layout && scene.layout.factory_info) this.factory = scene.layout.factory_info;
    if (scene.asset_types) this.types = new Map(scene.asset_types.map((t) => [t.id, t]));
    this.assets = new Map((scene.assets || []).map((a) => [a.id, a]));
    this.serverAssets = new Map((scene.assets || []).map((a) => [a.id, clone(a)]));
    this.connections = new Map((scene.connections || []).map((c) => [c.id, c]));
    if (scene.twins) this.twins = new Map(scene.twins.map((t) => [t.key, t]));
    this.seq = Math.max(this.seq, scene.seq || 0);
    this.signals.sceneLoaded.dispatch(this, { keepView: true });
    this.selection = [];
    this.select(selection);
    this.signals.layoutChanged.dispatch(this.layout);
    this.signals.contentChanged.dispatch(this.contentRevision);
  }

  // The revision of the last change that can alter simulation results: runs of an older revision are stale.
  get contentRevision() {
    return (this.layout && this.layout.content_revision) ?? this.seq;
  }

  get role() {
    return (this.layout && this.layout.my_role) || 'viewer';
  }

  get roleRank() {
    return ROLE_RANK[this.role] ?? 0;
  }

  get canEdit() {
    return !!this.layout && this.roleRank >= 1 && this.layout.status === 'draft';
  }

  get canBranch() {
    return !!this.layout && this.roleRank >= 1 && this.layout.status !== 'draft';
  }

  get readOnlyReason() {
    if (!this.layout) return 'Loading';
    if (this.roleRank < 1) return 'You are a viewer in this factory: the layout is read-only.';
    if (this.layout.status !== 'draft') return `This layout is ${this.layout.status.replace('_', ' ')}: it is read-only. Branch it to edit.`;
    return '';
  }

  // ---- lookups ---------------------------------------------------------------------------------
  resolveId(id) {
    let guard = 0;
    while (this.assetIdMap.has(id) && guard++ < 1000) id = this.assetIdMap.get(id);
    return id;
  }

  resolveConnId(id) {
    let guard = 0;
    while (this.connIdMap.has(id) && guard++ < 1000) id = this.connIdMap.get(id);
    return id;
  }

  remapAsset(oldId, newId) {
    const latest = this.resolveId(oldId);
    if (latest !== newId) this.assetIdMap.set(latest, newId);
  }

  remapConnection(oldId, newId) {
    const latest = this.resolveConnId(oldId);
    if (latest !== newId) this.connIdMap.set(latest, newId);
  }

  getAsset(id) {
    return this.assets.get(this.resolveId(id));
  }

  getConnection(id) {
    return this.connections.get(this.resolveConnId(id));
  }

  typeOf(asset) {
    return asset ? this.types.get(asset.asset_type) : undefined;
  }

  typeByName(name) {
    for (const t of this.types.values()) if (t.name === name) return t;
    return undefined;
  }

  connectionsOf(assetId) {
    const out = [];
    for (const c of this.connections.values()) if (c.source === assetId || c.target === assetId) out.push(c);
    return out;
  }

  twinOf(asset) {
    return asset && asset.twin_key ? this.twins.get(asset.twin_key) : undefined;
  }

  effectiveParam(asset, key) {
    if (asset.params && key in asset.params) return asset.params[key];
    const t = this.typeOf(asset);
    return t && t.defaults ? t.defaults[key] : undefined;
  }

  uniqueName(base) {
    const names = new Set([...this.assets.values()].map((a) => a.name));
    const stem = base.replace(/[-\s]\d+$/, '');
    for (let i = 1; i < 100000; i++) {
      const candidate = `${stem}-${i}`;
      if (!names.has(candidate)) return candidate;
    }
    return `${stem}-${Date.now()}`;
  }

  // The fields to create `asset` again. `keepUid` when it comes back as itself (undoing a delete): the same
  // uid keeps its identity for diffs, comments and branch matching; a duplicate gets a fresh one.
  assetData(asset, { keepUid = false } = {}) {
    const data = {};
    for (const f of ASSET_FIELDS) if (f in asset) data[f] = clone(asset[f]);
    if (keepUid && asset.uid) data.uid = asset.uid;
    data.layout = this.layout.id;
    return data;
  }

  // A new catalogue type appeared (someone added one): fetch the catalogue once and redraw.
  refreshTypes() {
    if (!this.typeLoader || this.loadingTypes) return;
    this.loadingTypes = this.typeLoader()
      .then((types) => {
        for (const t of types || []) this.types.set(t.id, t);
        this.signals.sceneLoaded.dispatch(this, { keepView: true });
      })
      .catch(() => {})
      .finally(() => {
        this.loadingTypes = null;
      });
  }

  // ---- local state primitives (no history, no persistence) ---------------------------------------
  setAssetLocal(asset) {
    if (asset.asset_type !== undefined && !this.types.has(asset.asset_type)) this.refreshTypes();
    const existing = this.assets.get(asset.id);
    if (existing) {
      Object.assign(existing, asset);
      this.signals.assetChanged.dispatch(existing);
    } else {
      this.assets.set(asset.id, asset);
      this.signals.assetAdded.dispatch(asset);
    }
  }

  updateAssetLocal(id, changes) {
    const asset = this.getAsset(id);
    if (!asset) return;
    Object.assign(asset, clone(changes));
    this.signals.assetChanged.dispatch(asset);
  }

  removeAssetLocal(id) {
    id = this.resolveId(id);
    for (const c of this.connectionsOf(id)) this.removeConnectionLocal(c.id);
    if (!this.assets.has(id)) return;
    this.assets.delete(id);
    this.serverAssets.delete(id);
    if (this.selection.includes(id)) this.select(this.selection.filter((s) => s !== id));
    this.signals.assetRemoved.dispatch(id);
  }

  setConnectionLocal(conn) {
    const existing = this.connections.get(conn.id);
    if (existing) {
      Object.assign(existing, conn);
      this.signals.connectionChanged.dispatch(existing);
    } else {
      this.connections.set(conn.id, conn);
      this.signals.connectionAdded.dispatch(conn);
    }
  }

  removeConnectionLocal(id) {
    id = this.resolveConnId(id);
    if (!this.connections.has(id)) return;
    this.connections.delete(id);
    if (this.selectedConnection === id) this.selectConnection(null);
    this.signals.connectionRemoved.dispatch(id);
  }

  preview(id, pose) {
    this.signals.assetPreview.dispatch(this.resolveId(id), pose);
  }

  // ---- persistence: one queue per object so versions chain correctly -------------------------------
  serial(key, fn) {
    const prev = this.queues.get(key) || Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.queues.set(key, tail);
    tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return this.track(run);
  }

  track(promise) {
    this.savingCount++;
    this.signals.savingChanged.dispatch(this.savingCount);
    const done = () => {
      this.savingCount--;
      this.signals.savingChanged.dispatch(this.savingCount);
    };
    promise.then(done, done);
    return promise;
  }

  confirmAsset(server, { force = false } = {}) {
    const prev = this.serverAssets.get(server.id);
    if (!force && prev && prev.version > server.version) return; // an older echo
    this.serverAssets.set(server.id, clone(server));
    const pending = this.pending.get(server.id);
    if (pending && !force) {
      // Keep the user's unconfirmed values on screen; take everything else from the server.
      const merged = { ...clone(server) };
      for (const k of Object.keys(pending)) merged[k] = clone(pending[k]);
      this.setAssetLocal(merged);
    } else {
      this.setAssetLocal(clone(server));
    }
  }

  persistAssetUpdate(id, changes, seenVersion) {
    const firstId = this.resolveId(id);
    const base = this.serverAssets.get(firstId);
    const baseVersion = seenVersion ?? (base ? base.version : undefined);
    const pending = this.pending.get(firstId) || {};
    Object.assign(pending, clone(changes));
    this.pending.set(firstId, pending);
    let pendingCount = (this.pendingCounts ||= new Map()).get(firstId) || 0;
    this.pendingCounts.set(firstId, pendingCount + 1);
    const release = (rid) => {
      const n = (this.pendingCounts.get(firstId) || 1) - 1;
      if (n <= 0) {
        this.pendingCounts.delete(firstId);
        this.pending.delete(firstId);
        this.pending.delete(rid);
      } else this.pendingCounts.set(firstId, n);
    };
    return this.serial(`a${firstId}`, async () => {
      const rid = this.resolveId(firstId);
      const server = this.serverAssets.get(rid);
      if (!server) {
        release(rid);
        throw Object.assign(new Error('That asset no longer exists.'), { status: 404 });
      }
      // Use the newest version only if it came from our own saves; otherwise send the one the user saw,
      // so a change made meanwhile by someone else surfaces as a conflict instead of being overwritten.
      let version = server.version;
      if (baseVersion !== undefined && version !== baseVersion && !this.ownVersions.has(`${rid}:${version}`)) version = baseVersion;
      try {
        const saved = await this.transport.updateAsset(rid, changes, version);
        this.ownVersions.add(`${rid}:${saved.version}`);
        release(rid);
        this.confirmAsset(saved);
        return saved;
      } catch (err) {
        release(rid);
        if (err.status === 409 && err.current) {
          this.confirmAsset(err.current, { force: true });
          const asset = err.current;
          err.conflict = {
            kind: 'update',
            label: asset.name || `asset ${rid}`,
            mine: clone(changes),
            base: clone(base),
            current: asset,
            keepMine: () => {
              this.updateAssetLocal(rid, changes);
              return this.persistAssetUpdate(rid, changes).catch((e) => this.reportError(e));
            },
          };
        } else if (err.status === 404) {
          this.removeAssetLocal(rid);
        } else {
          const s = this.serverAssets.get(rid);
          if (s) this.confirmAsset(s, { force: true });
        }
        throw err;
      }
    });
  }

  persistAssetCreate(data) {
    return this.track(
      this.transport.createAsset(data).then((asset) => {
        this.ownVersions.add(`${asset.id}:${asset.version}`);
        this.serverAssets.set(asset.id, clone(asset));
        this.setAssetLocal(clone(asset));
        return asset;
      }),
    );
  }

  persistAssetDelete(id) {
    const firstId = this.resolveId(id);
    return this.serial(`a${firstId}`, async () => {
      const rid = this.resolveId(firstId);
      const server = this.serverAssets.get(rid);
      if (!server) return null;
      try {
        await this.transport.deleteAsset(rid, server.version);
      } catch (err) {
        if (err.status === 404) {
          this.removeAssetLocal(rid);
          return null;
        }
        if (err.status === 409 && err.current) {
          this.confirmAsset(err.current, { force: true });
          err.conflict = {
            kind: 'delete',
            label: err.current.name || `asset ${rid}`,
            mine: { deleted: true },
            current: err.current,
            keepMine: () => this.persistAssetDelete(rid).catch((e) => this.reportError(e)),
          };
        }
        throw err;
      }
      this.removeAssetLocal(rid);
      return server;
    });
  }

  persistConnectionCreate(data) {
    return this.track(
      this.transport.createConnection(data).then((conn) => {
        this.setConnectionLocal(clone(conn));
        return conn;
      }),
    );
  }

  persistConnectionUpdate(id, changes) {
    const rid = this.resolveConnId(id);
    return this.serial(`c${rid}`, async () => {
      try {
        const id2 = this.resolveConnId(rid);
        const local = this.connections.get(id2);
        const conn = await this.transport.updateConnection(id2, changes, local ? local.version : undefined);
        this.setConnectionLocal(clone(conn));
        return conn;
      } catch (err) {
        if (err.status === 404) this.removeConnectionLocal(rid);
        if (err.status === 409 && err.current) {
          this.setConnectionLocal(clone(err.current));
          err.conflict = {
            kind: 'connection',
            label: 'connection',
            mine: clone(changes),
            current: err.current,
            keepMine: () => this.persistConnectionUpdate(rid, changes).catch((e) => this.reportError(e)),
          };
        }
        throw err;
      }
    });
  }

  persistConnectionDelete(id) {
    const rid = this.resolveConnId(id);
    return this.serial(`c${rid}`, async () => {
      try {
        await this.transport.deleteConnection(this.resolveConnId(rid));
      } catch (err) {
        if (err.status !== 404) throw err;
      }
      this.removeConnectionLocal(rid);
    });
  }

  // ---- history ----------------------------------------------------------------------------------
  execute(cmd) {
    if (!this.canEdit) {
      this.notify(this.readOnlyReason || 'This layout is read-only.', 'warn');
      return Promise.resolve();
    }
    return this.history.execute(cmd);
  }

  undo() {
    if (!this.canEdit) return Promise.resolve();
    return this.history.undo();
  }

  redo() {
    if (!this.canEdit) return Promise.resolve();
    return this.history.redo();
  }

  // ---- selection & modes --------------------------------------------------------------------------
  select(ids) {
    const list = [...new Set((ids || []).map((i) => this.resolveId(i)).filter((i) => this.assets.has(i)))];
    const same = list.length === this.selection.length && list.every((v, i) => v === this.selection[i]);
    let connCleared = false;
    if (list.length && this.selectedConnection !== null) {
      this.selectedConnection = null;
      connCleared = true;
    }
    if (same && !connCleared) return;
    this.selection = list;
    this.signals.selectionChanged.dispatch(this.selection);
  }

  toggleSelect(id) {
    id = this.resolveId(id);
    this.select(this.selection.includes(id) ? this.selection.filter((s) => s !== id) : [...this.selection, id]);
  }

  selectConnection(id) {
    this.selectedConnection = id === null ? null : this.resolveConnId(id);
    if (id !== null && this.selection.length) this.selection = [];
    this.signals.selectionChanged.dispatch(this.selection);
  }

  setMode(mode, extra = {}) {
    this.mode = mode;
    this.placeType = extra.type || null;
    this.connectSource = null;
    this.signals.modeChanged.dispatch(mode, extra);
  }

  // ---- remote events (websocket `applied`, snapshots): never enter the undo stack -----------------------
  applyEvent(event) {
    if (event.seq !== undefined && event.seq !== null) {
      if (event.seq <= this.seq) return false;
      this.seq = event.seq;
    }
    const { kind = '', object } = event;
    if (object) {
      if (kind.startsWith('asset.')) {
        if (object.deleted || kind === 'asset.delete') this.removeAssetLocal(object.id);
        else this.confirmAsset(object);
      } else if (kind === 'assets.update') {
        // One change of several assets (a calibration): each is confirmed as an `asset.update` would be.
        for (const asset of object.assets || []) this.confirmAsset(asset);
      } else if (kind.startsWith('connection.')) {
        if (object.deleted || kind === 'connection.delete') this.removeConnectionLocal(object.id);
        else this.setConnectionLocal(clone(object));
      } else if (kind.startsWith('layout.')) {
        Object.assign(this.layout, object);
        this.signals.layoutChanged.dispatch(this.layout);
      } else if (kind.startsWith('asset_type.')) {
        // A catalogue type used here changed its kind or default parameters: redraw with the new type.
        this.types.set(object.id, object);
        this.signals.sceneLoaded.dispatch(this, { keepView: true });
      }
    }
    // After the object: a layout object was written before its own change bumped the revisions.
    if (isContentKind(kind) && event.seq !== undefined && event.seq !== null && this.layout) {
      this.layout.content_revision = event.seq;
      this.signals.contentChanged.dispatch(event.seq);
    }
    if (!object) return true;
    if (event.by && this.user && event.by !== this.user.id) this.signals.remoteEdit.dispatch(event);
    return true;
  }

  setMembers(members, me = this.me) {
    this.members = members || [];
    this.me = me;
    this.signals.membersChanged.dispatch(this.members);
  }

  applyTwinUpdates(updates) {
    const keys = [];
    for (const u of updates || []) {
      const key = u.key || u.twin;
      if (!key) continue;
      const prev = this.twins.get(key) || { key };
      this.twins.set(key, { ...prev, ...u, key, values: { ...(prev.values || {}), ...(u.values || {}) } });
      keys.push(key);
    }
    if (keys.length) this.signals.twinsChanged.dispatch(keys);
  }

  // ---- notices --------------------------------------------------------------------------------------
  notify(message, level = 'info', detail) {
    this.signals.notice.dispatch({ message, level, detail });
  }

  reportError(err, cmd) {
    if (!err) return;
    if (err.conflict) {
      const conflict = err.conflict;
      this.signals.conflict.dispatch({
        ...conflict,
        useTheirs: () => {
          if (cmd) this.history.remove(cmd);
        },
      });
      return;
    }
    if (Array.isArray(err.errors)) {
      for (const e of err.errors) this.reportError(e);
      return;
    }
    const what = cmd && cmd.name ? `${cmd.name} failed: ` : '';
    this.notify(`${what}${err.message || err}`, 'error');
  }
}
