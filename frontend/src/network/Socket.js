// The layout room websocket: reconnects with backoff, resyncs from the last seen seq, sends edits as
// `op` frames (resolved by the matching `applied`, rejected by `rejected`), queues them while the
// connection is down and re-sends the ones the server never applied. Works without a server socket:
// the state stays "offline" and edits go over REST.
import { Signal } from '../util/Signal.js';
import { msg, FINAL_CLOSES, REJECT_STATUS } from './protocol.js';

let opCounter = 0;

export class Socket {
  constructor({ layoutId, editor, url = null }) {
    this.layoutId = layoutId;
    this.editor = editor;
    this.url = url || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/layouts/${layoutId}/`;
    this.ws = null;
    this.state = 'offline'; // connecting | online | offline | refused
    this.everConnected = false;
    this.attempt = 0;
    this.pending = new Map(); // op id -> {frame, resolve, reject, sent}
    this.queue = []; // op ids waiting for the connection
    this.me = null;
    this.members = [];
    this.locks = {};
    this.retryAt = 0;
    this.early = new Map(); // seq -> live `applied` that overtook the replay of a resync
    this.signals = {
      state: new Signal(), // (state, detail)
      welcome: new Signal(),
      presence: new Signal(),
      poses: new Signal(),
      locks: new Signal(),
      chat: new Signal(),
      summon: new Signal(), // a manager or owner brings everyone to their view
      alarm: new Signal(),
      simProgress: new Signal(),
      error: new Signal(),
      applied: new Signal(), // (event, before) after the editor applied it
    };
    this.lastPong = 0;
    this.stopped = false;
  }

  get canSendOps() {
    // Once the room has worked, edits ride the socket (and wait in the queue while it reconnects).
    return this.everConnected && this.state !== 'refused';
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.lastPong = performance.now();
    };
    ws.onmessage = (ev) => {
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.handle(data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      for (const p of this.pending.values()) p.sent = false;
      if (FINAL_CLOSES.has(ev.code)) {
        this.setState('refused', { code: ev.code });
        this.failQueued(ev.code === 4401 ? 'You were signed out.' : 'You no longer have access to this layout.');
        return;
      }
      this.scheduleReconnect(ev.code);
    };
    ws.onerror = () => {};
  }

  scheduleReconnect(code) {
    if (this.stopped) return;
    this.attempt++;
    const base = Math.min(15000, 500 * 2 ** Math.min(this.attempt - 1, 5));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.retryAt = Date.now() + delay;
    this.setState('offline', { code, retryIn: delay });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.ws || this.state === 'refused') return;
    this.attempt = 0;
    this.connect();
  }

  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000);
  }

  setState(state, detail = {}) {
    this.state = state;
    this.signals.state.dispatch(state, detail);
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // ---- ops ------------------------------------------------------------------------------------------------
  op(kind, fields) {
    const id = `o${Date.now().toString(36)}${(opCounter++).toString(36)}`;
    const frame = msg.op(id, kind, fields);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { frame, resolve, reject, sent: false, kind });
      if (this.state === 'online') this.flushOp(id);
      else this.queue.push(id);
    });
  }

  flushOp(id) {
    const p = this.pending.get(id);
    if (!p) return;
    p.sent = this.send(p.frame);
    if (!p.sent && !this.queue.includes(id)) this.queue.push(id);
  }

  flushQueue() {
    const ids = [...new Set([...this.queue, ...[...this.pending.entries()].filter(([, p]) => !p.sent).map(([id]) => id)])];
    this.queue = [];
    for (const id of ids) this.flushOp(id);
  }

  failQueued(message) {
    for (const [id, p] of this.pending) {
      p.reject(Object.assign(new Error(`Not saved: ${message}`), { status: 0 }));
      this.pending.delete(id);
    }
    this.queue = [];
  }

  // ---- incoming -------------------------------------------------------------------------------------------------
  handle(m) {
    switch (m.type) {
      case 'welcome': {
        this.me = m.you;
        this.members = m.members || [];
        this.locks = m.locks || {};
        const wasConnected = this.everConnected;
        this.everConnected = true;
        this.attempt = 0;
        this.awaitSeq = m.seq;
        this.early.clear();
        this.signals.welcome.dispatch(m, wasConnected);
        this.signals.presence.dispatch(this.members);
        this.signals.locks.dispatch(this.locks);
        if (m.seq > this.editor.seq) this.send(msg.resync(this.editor.seq));
        else this.caughtUp();
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.keepAlive(), 15000);
        break;
      }
      case 'applied':
        this.applied(m);
        break;
      case 'rejected': {
        const p = this.pending.get(m.id);
        if (!p) break;
        this.pending.delete(m.id);
        const status = REJECT_STATUS[m.code] || 400;
        const err = Object.assign(new Error(m.message || m.code), { status, code: m.code, current: m.current || undefined, body: { detail: m.message, current: m.current } });
        p.reject(err);
        break;
      }
      case 'snapshot':
        this.editor.loadSnapshot(m);
        this.applyEarly();
        this.caughtUp();
        break;
      case 'presence':
        this.members = m.members || [];
        this.signals.presence.dispatch(this.members);
        break;
      case 'poses':
        this.signals.poses.dispatch(m.poses || {});
        break;
      case 'locks':
        this.locks = m.locks || {};
        this.signals.locks.dispatch(this.locks);
        break;
      case 'chat':
        this.signals.chat.dispatch(m);
        break;
      case 'summon':
        this.signals.summon.dispatch(m);
        break;
      case 'twin.changed':
        this.editor.applyTwinUpdates(m.updates || []);
        break;
      case 'alarm':
        this.signals.alarm.dispatch(m.alarm || m);
        break;
      case 'sim.progress':
        this.signals.simProgress.dispatch(m);
        break;
      case 'pong':
        this.lastPong = performance.now();
        break;
      case 'error':
        this.signals.error.dispatch(m);
        break;
      default:
        break;
    }
  }

  applied(m) {
    // While a resync is answered, live events can arrive ahead of its replay (they went out between the
    // welcome and the resync): hold them until the replay has filled the gap, or they would skip it.
    if (this.awaitSeq !== undefined && m.seq > this.editor.seq + 1) {
      this.early.set(m.seq, m);
      return;
    }
    this.applyOne(m);
    this.applyEarly();
    if (this.awaitSeq !== undefined && this.editor.seq >= this.awaitSeq) this.caughtUp();
  }

  applyEarly() {
    for (const seq of [...this.early.keys()].filter((s) => s <= this.editor.seq)) this.early.delete(seq);
    while (this.early.has(this.editor.seq + 1)) {
      const next = this.early.get(this.editor.seq + 1);
      this.early.delete(next.seq);
      this.applyOne(next);
    }
  }

  applyOne(m) {
    const kind = m.kind || '';
    const obj = m.object || {};
    const before = kind.startsWith('asset.') && obj.id ? { ...(this.editor.assets.get(obj.id) || {}) } : null;
    const fresh = this.editor.applyEvent(m);
    if (fresh) this.signals.applied.dispatch(m, before);
    if (m.id !== null && m.id !== undefined && this.pending.has(m.id)) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p.resolve(obj.deleted ? null : obj);
    }
  }

  // Everything up to the welcome's seq is in: ops still unanswered were never applied, so send them again.
  caughtUp() {
    if (this.awaitSeq === undefined && this.state === 'online') return;
    this.awaitSeq = undefined;
    // Whatever is still held lies past a gap nobody can fill any more: apply it in order.
    for (const seq of [...this.early.keys()].sort((a, b) => a - b)) this.applyOne(this.early.get(seq));
    this.early.clear();
    this.setState('online');
    this.flushQueue();
  }

  keepAlive() {
    if (!this.ws) return;
    if (performance.now() - this.lastPong > 45000) {
      // No answer for too long: the connection is dead even if the browser has not noticed.
      try {
        this.ws.close();
      } catch {
        /* ignore */
      }
      return;
    }
    this.send(msg.ping());
  }

  // ---- presence helpers ------------------------------------------------------------------------------------------
  sendPose(p, q) {
    if (this.state === 'online') this.send(msg.pose(p, q));
  }

  lock(assetId) {
    if (this.state === 'online') this.send(msg.lock(assetId));
  }

  unlock(assetId) {
    if (this.state === 'online') this.send(msg.unlock(assetId));
  }

  chat(text) {
    if (this.state !== 'online') return false;
    return this.send(msg.chat(text));
  }

  // Bring everyone in the room to this camera view (managers and owners; the server checks).
  summon(position, target) {
    if (this.state !== 'online') return false;
    return this.send(msg.summon(position, target));
  }

  lockedByOther(assetId) {
    const owner = this.locks[String(assetId)];
    return owner !== undefined && this.me && owner !== this.me.id ? owner : null;
  }

  member(id) {
    return this.members.find((m) => m.id === id) || null;
  }
}
