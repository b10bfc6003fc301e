// Minimal named-signal implementation (like the three.js editor's signals): add/remove/dispatch.
export class Signal {
  constructor() {
    this.listeners = new Set();
  }

  add(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  remove(fn) {
    this.listeners.delete(fn);
  }

  dispatch(...args) {
    for (const fn of [...this.listeners]) {
      try {
        fn(...args);
      } catch (err) {
        // A broken listener must not break the others; surface it once for debugging.
        console.error(err);
      }
    }
  }
}
