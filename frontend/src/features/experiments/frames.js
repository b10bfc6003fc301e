// `exp.progress` frames of the room (CONTRACT §8). The room's Socket turns the frame types it knows into
// signals and drops the others, and it has no signal for this one yet, so this listens to the socket's
// current WebSocket beside it (read-only; re-attached on every welcome, i.e. after each reconnect).
// When Socket.js gains an `expProgress` signal, this module becomes `socket.signals.expProgress.add(fn)`.
export function onExperimentProgress(socket, fn) {
  if (!socket) return () => {};
  const attached = new WeakSet();
  let stopped = false;
  const listen = () => {
    const ws = socket.ws;
    if (!ws || attached.has(ws)) return;
    attached.add(ws);
    ws.addEventListener('message', (ev) => {
      if (stopped || typeof ev.data !== 'string' || !ev.data.includes('"exp.progress"')) return;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (m && m.type === 'exp.progress' && typeof m.id === 'number') fn(m);
    });
  };
  listen();
  const off = socket.signals.welcome.add(listen);
  return () => {
    stopped = true;
    off();
  };
}
