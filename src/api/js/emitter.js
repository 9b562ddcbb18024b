// Event listeners, and how app code is called (listeners, ack callbacks, auth functions).
// Knows nothing of the wasm module or of sockets: Manager, Engine and Socket build on it.

// App code (listeners, ack callbacks, auth functions) runs through `call`: an exception is
// reported as an uncaught error would be, delivery to the other listeners goes on, and
// nothing unwinds into the wasm core.
export const report = (e) => (globalThis.reportError ? reportError(e) : setTimeout(() => { throw e; }));
export const call = (fn, self, args) => {
  try {
    fn.apply(self, args);
  } catch (e) {
    report(e);
  }
};

// @socket.io/component-emitter's semantics: `off()` removes all, `off(ev)` all of `ev`,
// `off(ev, fn)` the first `fn` (or a `once` wrapper of it); listeners run on a copy.
export class Emitter {
  _l = Object.create(null);

  on(ev, fn) {
    (this._l[ev] ||= []).push(fn);
    return this;
  }

  once(ev, fn) {
    const once = (...args) => {
      this.off(ev, once);
      fn.apply(this, args);
    };
    once.fn = fn;
    return this.on(ev, once);
  }

  off(ev, fn) {
    const l = this._l;
    if (!arguments.length) for (const k in l) delete l[k];
    else if (arguments.length < 2) delete l[ev];
    else {
      const list = l[ev] || [];
      const i = list.findIndex((f) => f === fn || f.fn === fn);
      if (i >= 0) list.splice(i, 1);
      if (!list.length) delete l[ev];
    }
    return this;
  }

  listeners(ev) {
    return this._l[ev] || [];
  }

  hasListeners(ev) {
    return !!this.listeners(ev).length;
  }

  emit(ev, ...args) {
    return this._fire(ev, ...args);
  }

  _fire(ev, ...args) {
    for (const fn of this.listeners(ev).slice()) call(fn, this, args);
    return this;
  }
}
const E = Emitter.prototype;
E.addEventListener = E.on;
E.removeListener = E.removeAllListeners = E.removeEventListener = E.off;
