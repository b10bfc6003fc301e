// Base class of every edit: execute() applies it locally and persists it; undo() does the reverse.
export class Command {
  constructor(editor, name) {
    this.editor = editor;
    this.type = this.constructor.name;
    this.name = name || this.type;
    this.updatable = false;
    this.mergeKey = null;
  }

  // The local effect, shown at once while execute() may wait for the edits before it (offline, a slow save).
  preview() {}

  execute() {}

  undo() {}

  update() {}

  toJSON() {
    return { type: this.type, name: this.name };
  }
}

// Runs several commands as one undo step. Keeps the step if any part succeeded.
export async function runAll(promises) {
  const results = await Promise.allSettled(promises);
  const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (errors.length) {
    const err = errors.length === 1 ? errors[0] : Object.assign(new Error(`${errors.length} changes failed`), { errors });
    err.keepInHistory = errors.length < results.length || errors.some((e) => e && e.conflict);
    throw err;
  }
  return results.map((r) => r.value);
}
