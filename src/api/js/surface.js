// What the app calls on a socket besides emit() and the connection: the flagged views
// (volatile, timeout, compress), emitWithAck over emit, the listeners of every event
// and of every outgoing emit, and the reserved names. Shared by the two kinds of socket,
// a Manager's namespace (socket.js) and a page's socket on a connection shared with
// other pages (share.js), which each own how an emit is made and events come in.

import { Emitter } from "./emitter.js";

const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

/** Throws for an event name the app may not emit. */
export const checkName = (ev) => {
  if (RESERVED.includes(ev)) throw new Error(`"${ev}" is a reserved event name`);
};

const remove = (self, list, fn) => {
  if (!fn) list.length = 0;
  else if (list.includes(fn)) list.splice(list.indexOf(fn), 1);
  return self;
};

export class SocketSurface extends Emitter {
  // `_s`: the socket itself, also from a flagged view.
  _s = this;
  _any = [];
  _anyOut = [];

  open() {
    return this.connect();
  }

  // With `retries` (or `exactlyOnce`), an emit with flags `f` is sent at least once,
  // each try timed out after `ackTimeout`: it has no ack timeout of its own. A volatile
  // emit is never sent again.
  _reliable(f) {
    return (this._o.retries > 0 || !!this._o.exactlyOnce) && !f.volatile;
  }

  // The ack timeout of an emit with flags `f`, if it has one.
  _timeout(f) {
    return this._reliable(f) ? undefined : (f.timeout ?? this._o.ackTimeout);
  }

  // Whether the callback `ack` of an emit with flags `f` takes an error first: when the
  // emit is sent at least once, has a timeout, or comes from emitWithAck, as in
  // socket.io-client.
  _errorFirst(f, ack) {
    return this._reliable(f) || this._timeout(f) != null || !!ack._e;
  }

  close() {
    return this.disconnect();
  }

  send(...args) {
    return this.emit("message", ...args);
  }

  // Flags apply to the next emit only: a flagged view of the socket carries them, so
  // nothing stays set on the socket when the view is not used.
  _with(flags) {
    return Object.assign(Object.create(this), { _f: { ...this._f, ...flags } });
  }

  get volatile() {
    return this._with({ volatile: true });
  }

  /** Accepted for compatibility: a browser WebSocket compresses per the connection, not per message; the flag shows in packetCreate's `options`. */
  compress(compress) {
    return this._with({ compress });
  }

  timeout(ms) {
    return this._with({ timeout: ms });
  }

  emitWithAck(ev, ...args) {
    return new Promise((resolve, reject) => {
      const settle = (err, value) => (err ? reject(err) : resolve(value));
      settle._e = 1;
      this.emit(ev, ...args, settle);
    });
  }
}
// No flags unless a flagged view sets its own.
SocketSurface.prototype._f = Object.freeze({});

// The listeners of every incoming event (onAny, prependAny, offAny, listenersAny) and
// of every outgoing emit (onAnyOutgoing, ...).
for (const [kind, list] of [["Any", "_any"], ["AnyOutgoing", "_anyOut"]]) {
  Object.assign(SocketSurface.prototype, {
    [`on${kind}`](fn) {
      this[list].push(fn);
      return this;
    },
    [`prepend${kind}`](fn) {
      this[list].unshift(fn);
      return this;
    },
    [`off${kind}`](fn) {
      return remove(this, this[list], fn);
    },
    [`listeners${kind}`]() {
      return this[list];
    },
  });
}
