// Undo/redo stacks. Operations run one after another (edits persist asynchronously), and consecutive
// updatable commands on the same target within a short window merge into one step (a drag, a nudge run).
const MERGE_WINDOW_MS = 800;

export class History {
  constructor(editor) {
    this.editor = editor;
    this.undos = [];
    this.redos = [];
    this.lastExecuteTime = 0;
    this.queue = Promise.resolve();
  }

  // Serialise history operations so undo cannot overtake the edit it undoes.
  enqueue(fn) {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  execute(cmd) {
    const now = performance.now();
    const last = this.undos[this.undos.length - 1];
    const merge =
      last && cmd.updatable && last.updatable && last.type === cmd.type && last.mergeKey && last.mergeKey === cmd.mergeKey && now - this.lastExecuteTime < MERGE_WINDOW_MS;
    this.lastExecuteTime = now;
    cmd.preview();
    if (merge) {
      last.update(cmd);
      this.redos = [];
      this.editor.signals.historyChanged.dispatch();
      return this.enqueue(() => cmd.execute()).catch((err) => this.failed(last, err));
    }
    this.undos.push(cmd);
    this.redos = [];
    this.editor.signals.historyChanged.dispatch();
    return this.enqueue(() => cmd.execute()).catch((err) => this.failed(cmd, err));
  }

  undo() {
    const cmd = this.undos.pop();
    if (!cmd) return Promise.resolve();
    this.redos.push(cmd);
    this.lastExecuteTime = 0;
    this.editor.signals.historyChanged.dispatch();
    return this.enqueue(() => cmd.undo()).catch((err) => this.failed(cmd, err));
  }

  redo() {
    const cmd = this.redos.pop();
    if (!cmd) return Promise.resolve();
    this.undos.push(cmd);
    this.lastExecuteTime = 0;
    this.editor.signals.historyChanged.dispatch();
    return this.enqueue(() => cmd.execute()).catch((err) => this.failed(cmd, err));
  }

  // A command whose save failed is dropped from history (its local effect was already reverted
  // or replaced by the server's state), so undo never replays something that never happened.
  failed(cmd, err) {
    if (!err || !err.keepInHistory) this.remove(cmd);
    this.editor.reportError(err, cmd);
  }

  remove(cmd) {
    this.undos = this.undos.filter((c) => c !== cmd);
    this.redos = this.redos.filter((c) => c !== cmd);
    this.editor.signals.historyChanged.dispatch();
  }

  get canUndo() {
    return this.undos.length > 0;
  }

  get canRedo() {
    return this.redos.length > 0;
  }

  clear() {
    this.undos = [];
    this.redos = [];
    this.editor.signals.historyChanged.dispatch();
  }

  toJSON() {
    return { undos: this.undos.map((c) => c.toJSON()), redos: this.redos.map((c) => c.toJSON()) };
  }
}
