// Realtime collaboration in the browser: the room socket wired to the editor and the view — connection
// banner, presence list, avatars, follow mode, "bring everyone to my view", soft locks while dragging,
// remote edits animated into place, chat with an unread badge, twin/alarm/simulation events.
import * as THREE from 'three';
import { h, clear } from '../util/dom.js';
import { ICONS } from './icons.js';
import { Socket } from '../network/Socket.js';
import { Avatars } from '../scene/Avatars.js';
import { ROLE_RANK } from '../editor/Editor.js';

export function setupCollaboration({ editor, view, ui, transport, layoutId, hooks, gizmo, notices }) {
  const socket = new Socket({ layoutId, editor });
  transport.useSocket(socket);
  const avatars = new Avatars(view);
  let followId = null;

  // ---- connection state ---------------------------------------------------------------------------------
  const banner = h('div', { class: 'conn-banner', testid: 'connection-banner', hidden: true });
  ui.overlays.appendChild(banner);
  let countdown = null;
  socket.signals.state.add((state, detail = {}) => {
    const queued = socket.pending.size;
    ui.connBanner.className = `conn-state ${state === 'online' ? 'online' : state === 'connecting' ? 'connecting' : 'offline'}`;
    ui.connBanner.dataset.state = state;
    ui.connBanner.textContent = state === 'online' ? 'live' : state === 'connecting' ? 'connecting…' : state === 'refused' ? 'no access' : 'offline';
    clearInterval(countdown);
    if (state === 'online' || (!socket.everConnected && state !== 'refused')) {
      banner.hidden = true;
      return;
    }
    const retry = h('button', { class: 'small-btn', testid: 'reconnect-now' }, 'Retry now');
    retry.addEventListener('click', () => socket.reconnectNow());
    const text = h('span');
    const render = () => {
      if (state === 'refused') text.textContent = detail.code === 4401 ? 'You were signed out. Sign in again to keep working.' : 'You no longer have access to this layout.';
      else if (state === 'connecting') text.textContent = `Reconnecting…${queued ? ` ${queued} edit(s) waiting to be sent.` : ''}`;
      else {
        const s = Math.max(0, Math.ceil((socket.retryAt - Date.now()) / 1000));
        text.textContent = `Connection lost — reconnecting in ${s}s. Your edits are kept and sent when it is back.`;
      }
    };
    render();
    countdown = setInterval(render, 500);
    banner.replaceChildren(text, state === 'refused' ? '' : retry);
    banner.hidden = false;
  });

  // ---- presence -----------------------------------------------------------------------------------------
  const list = h('ul', { class: 'presence-list', testid: 'presence-list' });
  const summon = h('button', { class: 'small-btn', testid: 'summon', title: 'Bring everyone to my view', hidden: true }, 'Bring everyone here');
  summon.addEventListener('click', () => {
    const t = view.controls.target;
    const ok = socket.summon(view.camera.position.toArray().map(round), t.toArray().map(round));
    editor.notify(ok ? 'Asked everyone to come to your view.' : 'Not connected.', ok ? 'info' : 'warn');
  });
  const presence = h('div', { class: 'presence', testid: 'presence' }, h('div', { class: 'vp-head' }, h('span', {}, 'In this layout'), summon), list);
  ui.sidePanels.insertBefore(presence, ui.sidePanels.firstChild);

  const renderPresence = () => {
    clear(list);
    const me = socket.me;
    summon.hidden = !me || (ROLE_RANK[me.role] ?? 0) < 2;
    for (const m of socket.members) {
      const isMe = me && m.id === me.id;
      const follow = h('button', { class: 'link small', testid: `follow-${m.username}` }, followId === m.id ? 'following' : 'follow');
      follow.addEventListener('click', () => (followId === m.id ? stopFollow() : startFollow(m.id)));
      list.append(
        h(
          'li',
          { testid: `member-${m.username}`, class: followId === m.id ? 'following' : '' },
          h('span', { class: 'dot', style: { background: m.color } }),
          h('span', { class: 'member-name' }, m.username, isMe ? h('span', { class: 'muted small' }, ' (you)') : ''),
          h('span', { class: 'muted small' }, m.role),
          isMe ? '' : follow,
        ),
      );
    }
    if (!socket.members.length) list.append(h('li', { class: 'muted small' }, socket.everConnected ? 'Nobody here.' : 'Realtime offline.'));
  };
  renderPresence();
  socket.signals.presence.add((members) => {
    editor.setMembers(members, socket.me);
    avatars.setMembers(members, socket.me ? socket.me.id : null);
    if (followId !== null && !members.some((m) => m.id === followId)) stopFollow();
    renderPresence();
  });
  socket.signals.poses.add((poses) => avatars.setPoses(poses));

  // Send my camera pose ~10 times a second when it changed.
  let lastPose = '';
  setInterval(() => {
    if (socket.state !== 'online' || document.hidden) return;
    const c = view.camera;
    const p = c.position.toArray().map(round);
    const q = c.quaternion.toArray().map((v) => Math.round(v * 10000) / 10000);
    const key = p.join() + q.join();
    if (key === lastPose) return;
    lastPose = key;
    socket.sendPose(p, q);
  }, 100);

  // ---- follow mode --------------------------------------------------------------------------------------------
  const followBar = h('div', { class: 'follow-bar', testid: 'follow-bar', hidden: true });
  ui.overlays.appendChild(followBar);
  function startFollow(id) {
    const m = socket.member(id);
    if (!m) return;
    followId = id;
    view.controls.enabled = false;
    const stop = h('button', { class: 'small-btn', testid: 'stop-follow' }, 'Stop');
    stop.addEventListener('click', stopFollow);
    followBar.replaceChildren(h('span', { class: 'dot', style: { background: m.color } }), `Following ${m.username}`, stop);
    followBar.hidden = false;
    renderPresence();
  }
  function stopFollow() {
    if (followId === null) return;
    followId = null;
    followBar.hidden = true;
    const dir = new THREE.Vector3();
    view.camera.getWorldDirection(dir);
    const target = view.camera.position.clone().add(dir.multiplyScalar(Math.max(5, view.camera.position.y * 1.2)));
    if (target.y < 0) target.y = 0;
    view.controls.target.copy(target);
    view.controls.enabled = !view.walking;
    view.controls.update();
    renderPresence();
  }
  view.beforeRender.push((dt) => {
    if (followId === null) return;
    const pose = avatars.poseOf(followId);
    if (!pose) return;
    const k = 1 - Math.exp(-dt * 8);
    view.camera.position.lerp(pose.p, k);
    view.camera.quaternion.slerp(pose.q, k);
    view.invalidate();
  });
  window.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && followId !== null) stopFollow();
  });

  // ---- locks: lock what I drag, show what others hold ----------------------------------------------------------------
  let myLocks = [];
  editor.signals.modeChanged.add((mode, extra = {}) => {
    if (extra.dragging === true && !myLocks.length && extra.ids) {
      myLocks = [...extra.ids];
      for (const id of myLocks) socket.lock(id);
    } else if (extra.dragging === false && myLocks.length) {
      const ids = myLocks;
      myLocks = [];
      // Unlock after the edit's op has been sent (frames are handled in order).
      setTimeout(() => ids.forEach((id) => socket.unlock(id)), 50);
    }
  });
  gizmo.blocked = (ids) => ids.some((id) => socket.lockedByOther(id));
  const lockNotes = new Set();
  socket.signals.locks.add((locks) => {
    for (const id of lockNotes) view.labels.extra.delete(id);
    lockNotes.clear();
    for (const [assetId, userId] of Object.entries(locks)) {
      if (socket.me && userId === socket.me.id) continue;
      const m = socket.member(userId);
      const id = Number(assetId);
      view.labels.extra.set(id, `${m ? m.username : 'someone'} is moving`);
      lockNotes.add(id);
      const a = editor.assets.get(id);
      avatars.setActivity(userId, a ? `moving ${a.name}` : 'editing');
    }
    for (const m of socket.members) if (!Object.values(locks).includes(m.id)) avatars.setActivity(m.id, '');
    view.labels.dirty = true;
    gizmo.attach();
    view.invalidate();
  });

  // ---- remote edits animate into place ------------------------------------------------------------------------------------
  const anims = new Map();
  socket.signals.applied.add((event, before) => {
    const me = socket.me ? socket.me.id : null;
    if (event.by === me || !before || event.kind !== 'asset.update') return;
    const obj = event.object;
    if (before.x === undefined || (before.x === obj.x && before.z === obj.z && before.rotation_deg === obj.rotation_deg)) return;
    if (gizmo.dragging && editor.selection.includes(obj.id)) return;
    anims.set(obj.id, { from: { x: before.x, z: before.z, r: before.rotation_deg || 0 }, t0: performance.now() });
    const m = socket.member(event.by);
    if (m) {
      view.labels.extra.set(obj.id, `moved by ${m.username}`);
      setTimeout(() => {
        if (view.labels.extra.get(obj.id) === `moved by ${m.username}`) view.labels.extra.delete(obj.id);
      }, 2500);
    }
  });
  view.beforeRender.push(() => {
    if (!anims.size) return;
    const now = performance.now();
    for (const [id, a] of anims) {
      const asset = editor.assets.get(id);
      const k = Math.min(1, (now - a.t0) / 450);
      if (!asset || k >= 1) {
        anims.delete(id);
        if (asset) view.assetMeshes.setPreview(id, null);
        view.structureChanged();
        continue;
      }
      const e = 1 - Math.pow(1 - k, 3);
      let dr = ((asset.rotation_deg - a.from.r + 540) % 360) - 180;
      view.assetMeshes.setPreview(id, { x: a.from.x + (asset.x - a.from.x) * e, z: a.from.z + (asset.z - a.from.z) * e, rotation_deg: a.from.r + dr * e });
      view.structureChanged();
    }
  });

  // ---- chat --------------------------------------------------------------------------------------------------------------
  const messages = h('div', { class: 'chat-messages', testid: 'chat-messages' });
  const input = h('input', { class: 'chat-input', testid: 'chat-input', placeholder: 'Message everyone in this layout…', maxlength: 2000 });
  const send = h('button', { class: 'primary small-btn', testid: 'chat-send' }, 'Send');
  const panel = h('div', { class: 'chat-panel', testid: 'chat-panel', hidden: true }, h('div', { class: 'vp-head' }, h('span', {}, 'Chat'), h('button', { class: 'ghost small', testid: 'chat-close', onclick: () => toggleChat(false) }, '×')), messages, h('div', { class: 'chat-form' }, input, send));
  ui.overlays.appendChild(panel);
  const badge = h('span', { class: 'badge-count', testid: 'chat-unread', hidden: true }, '0');
  const chatBtn = h('button', { class: 'tool', testid: 'chat-toggle', title: 'Chat', html: ICONS.chat });
  chatBtn.appendChild(badge);
  chatBtn.addEventListener('click', () => toggleChat());
  ui.connBanner.parentNode.insertBefore(chatBtn, ui.connBanner);
  let unread = 0;
  function toggleChat(force) {
    panel.hidden = force === undefined ? !panel.hidden : !force;
    chatBtn.classList.toggle('active', !panel.hidden);
    if (!panel.hidden) {
      unread = 0;
      badge.hidden = true;
      input.focus();
      messages.scrollTop = messages.scrollHeight;
    }
  }
  const submit = () => {
    const text = input.value.trim();
    if (!text) return;
    if (socket.chat(text)) input.value = '';
    else editor.notify('Chat needs the realtime connection; it is offline right now.', 'warn');
  };
  send.addEventListener('click', submit);
  input.addEventListener('keydown', (e) => {
    e.stopPropagation();
    if (e.key === 'Enter') submit();
    if (e.key === 'Escape') toggleChat(false);
  });
  socket.signals.chat.add((m) => {
    const from = m.from || {};
    const time = new Date(m.ts || Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    messages.append(h('div', { class: 'chat-line' }, h('span', { class: 'chat-from', style: { color: from.color } }, from.username || '?'), h('span', { class: 'muted small' }, ` ${time}`), h('div', { class: 'chat-text' }, m.text)));
    while (messages.children.length > 300) messages.firstChild.remove();
    messages.scrollTop = messages.scrollHeight;
    if (panel.hidden && !(socket.me && from.id === socket.me.id)) {
      unread++;
      badge.textContent = unread > 99 ? '99+' : String(unread);
      badge.hidden = false;
    }
  });

  socket.signals.summon.add((m) => {
    const from = m.from || {};
    if (socket.me && from.id === socket.me.id) return;
    if (followId !== null) stopFollow();
    if (view.walking) hooks.stopWalking();
    view.flyTo(new THREE.Vector3(...m.position), new THREE.Vector3(...m.target));
    editor.notify(`${from.username || 'Someone'} brought everyone to their view.`, 'info');
  });

  // ---- other room events ---------------------------------------------------------------------------------------------------
  socket.signals.alarm.add((a) => {
    if (a.active === false) return;
    editor.notify(`Alarm${a.severity ? ` (${a.severity})` : ''}: ${a.message || a.twin || ''}`, a.severity === 'critical' || a.severity === 'high' ? 'error' : 'warn');
  });
  socket.signals.simProgress.add((m) => {
    ui.statusLeft.dataset.sim = `${m.status}`;
    const pct = Math.round((m.progress || 0) * 100);
    simText.textContent = m.status === 'running' || m.status === 'queued' ? `Simulation #${m.id}: ${m.status} ${pct}%` : `Simulation #${m.id}: ${m.status}`;
  });
  const simText = h('span', { class: 'muted', testid: 'sim-status' });
  ui.statusLeft.parentNode.insertBefore(simText, ui.statusLeft.nextSibling);
  socket.signals.error.add((m) => {
    if (m.code === 'rate_limited') return editor.notify('Slow down: too many messages.', 'warn');
    editor.notify(`Realtime: ${m.message || m.code}`, 'warn');
  });
  socket.signals.welcome.add((m, reconnect) => {
    if (reconnect) editor.notify('Reconnected.', 'success');
  });

  Object.assign(hooks, {
    socket,
    avatars,
    follow: (userId) => startFollow(userId),
    stopFollow,
    sendChat: (text) => socket.chat(text),
    connectionState: () => socket.state,
  });
  // A live getter: Object.assign would copy the value once (always null).
  Object.defineProperty(hooks, 'following', { get: () => followId, configurable: true });
  socket.connect();
  return socket;
}

const round = (v) => Math.round(v * 1000) / 1000;
