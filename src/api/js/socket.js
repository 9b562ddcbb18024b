// A Socket: one namespace of a Manager's connection, what `io()` returns. Emits (with
// their acks, flags and Blobs to read first) become the core's commands, and the core's
// events for this namespace the app's. What to buffer, retry or drop is the core's; the
// connection is the Manager's (manager.js), which this module never imports.

import { sendAuth } from "./auth.js";
import { decode, encode, hasBinary, hasBlob, withBytes } from "./codec.js";
import { DELIVER, OP, REPORT_SENT, VOLATILE, WITH_ACK } from "./contract.js";
import { call, report } from "./emitter.js";
import { features } from "./features.js";
import { fail } from "./instance.js";
import { checkSocket, withoutAuth } from "./options.js";
import { SocketSurface, checkName } from "./surface.js";
import { socketKey } from "./url.js";

// Exactly-once emits (`exactlyOnce`), with the helper of resocket/server on the server:
// every emit but a volatile one travels as ["~eo", client, seq, wantsReply, event,
// ...args], sent and resent by the core as an at-least-once emit, and the server's
// helper hands it to the app's handlers once. The helper says it is there with a "~eo"
// event right after CONNECT; the app's "connect" waits for it.
const EO = "~eo";
// How long after CONNECT the helper's word may take (it is written right after it).
const EO_CONFIRM_MS = 5000;
// Resends of an emit the server has not answered: the helper does not answer a copy of
// an emit whose handler has not answered yet.
const EO_ACK_TIMEOUT = 10000;
const EO_RETRIES = 4294967295;
const clientId = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16)))).replace(/[+/=]/g, (c) => ({ "+": "-", "/": "_", "=": "" })[c]);

/** A namespace of a Manager's connection: what `io()` returns. */
export class Socket extends SocketSurface {
  constructor(io, nsp, opts = {}) {
    super();
    checkSocket(opts);
    this.io = io;
    this.nsp = nsp;
    this.auth = opts.auth;
    this._o = withoutAuth(opts);
    // `_acks` (ack id -> [callback, error-first?]) is made by the first emit that asks
    // for one: a socket costs no more memory than it uses.
    // Always ask for the CONNECT payload at connect time: `auth` is read anew on every
    // (re)connect and may be reassigned at any time, as in socket.io-client. `retries`
    // (at-least-once emits) and the offline queue's bounds are the core's.
    const o = this._o;
    const options = { namespace: nsp };
    for (const k of ["retries", "ackTimeout", "maxQueue", "maxQueueAge", "queueOverflow", "volatileEvents"]) if (o[k] != null) options[k] = o[k];
    if (o.exactlyOnce) {
      // [this client's id, the last seq]: the server keeps the last seq of each client.
      this._eo = [clientId(), 0];
      options.retries = o.retries > 0 ? o.retries : EO_RETRIES;
      options.ackTimeout = o.ackTimeout ?? EO_ACK_TIMEOUT;
    }
    this._k = io._c.cmd(OP.socket, 0, 0, 0, JSON.stringify(options));
    io._socks[this._k] = this;
    if (o.persistQueue) this._restore();
    if (io._auto) this.connect();
  }

  // persistQueue: the emits of gone pages for the same servers and namespace are sent
  // first; the app's emits wait behind them (as behind a Blob being read), then every
  // emit kept is written to storage too (persist.js).
  _restore() {
    const io = this.io;
    const key = socketKey(io._uris, io.opts, this.nsp);
    const turn = (this._wait = features.persist
      .open(key)
      .then(async (store) => {
        const restored = await store.claim();
        this._pq = store;
        if (!restored.length) return;
        // What came back, before it is sent: its acks could not survive the page.
        this._fire("queue_restored", restored);
        for (const data of restored) this._send(data, undefined, this._f);
      })
      .catch(report)
      .finally(() => {
        if (this._wait === turn) this._wait = null;
      }));
  }

  // How many emits the core keeps now (offline, or unacknowledged at-least-once ones).
  _waiting() {
    return this.io._c.ask(OP.waiting, this._k) ?? 0;
  }

  // The emits that went for good (sent, acknowledged, dropped) leave storage too.
  _kept() {
    this._pq?.keep(this._waiting());
  }

  get id() {
    return this.io._c.ask(OP.sid, this._k);
  }

  // A flag of the core's state(): 1 connected, 2 active, 4 recovered.
  _flag(bit) {
    return !!(this.io._c.ask(OP.state, this._k) & bit);
  }

  // Not before the app's "connect" (see exactlyOnce below).
  get connected() {
    return this._flag(1) && !this._held;
  }

  get disconnected() {
    return !this.connected;
  }

  /** Whether the socket wants a connection (and so reconnects by itself). */
  get active() {
    return this._flag(2);
  }

  get recovered() {
    return this._flag(4);
  }

  connect() {
    const { trap } = this.io._i;
    if (trap) {
      // A dead client: each attempt fails, as one to an unreachable server would.
      this.io._dead();
      queueMicrotask(() => this._fire("connect_error", trap));
      return this;
    }
    if (!this.connected) {
      this.io._refreshUrl();
      this.io._c.cmd(OP.connect, this._k);
    }
    this.io._hold();
    return this;
  }

  disconnect() {
    this.io._c.cmd(OP.disconnect, this._k);
    this.io._hold();
    return this;
  }

  emit(ev, ...args) {
    checkName(ev);
    const s = this._s;
    const f = this._f;
    const ack = typeof args[args.length - 1] == "function" ? args.pop() : undefined;
    const data = [ev, ...args];
    const binary = hasBinary(data);
    // An emit without ack, binary data nor outgoing listeners, none waiting before it,
    // while the core lets such emits go straight to the WebSocket (see driver.js
    // direct()): nothing to ask it.
    if (!ack && !binary && !s._wait && !s._anyOut.length && !s._eo && s.io._c.direct(s._k, data)) return s;
    if (!s._wait && !(binary && hasBlob(data))) return s._send(data, ack, f);
    // A Blob's (or File's) bytes can only be read asynchronously: this emit, and every
    // emit after it until they are read, waits its turn, so that none overtakes another.
    const turn = (s._wait || Promise.resolve())
      .then(() => withBytes(data))
      .then(
        (read) => s._send(read, ack, f),
        (err) => {
          report(err);
          s._fire("emit_dropped", "unreadable", data);
          if (ack && s._errorFirst(f, ack)) call(ack, s, [fail("a Blob of the emit could not be read", "DroppedError")]);
        },
      )
      .finally(() => {
        if (s._wait === turn) s._wait = null;
      });
    s._wait = turn;
    return s;
  }

  _send(data, ack, f) {
    const s = this;
    const timeout = s._timeout(f);
    const outerSending = s._sending;
    const outerCompress = s.io._compress;
    // An emit that goes on the wire at once is reported within this call: its listeners
    // get the very arguments emitted, as socket.io-client's do, and its packetCreate its
    // compress flag (which a browser WebSocket cannot act on).
    s._sending = data;
    s.io._compress = f.compress !== false;
    const c = s.io._c;
    const persist = s._pq && !f.volatile;
    const before = persist && s._waiting();
    let id;
    try {
      // With onAnyOutgoing listeners, the core reports each copy it puts on the wire
      // ("sent"): an emit queued offline is reported when it goes out, never if dropped.
      // Without an ack, the emit's events are delivered within the same call.
      const flags = (ack ? WITH_ACK : DELIVER) | (f.volatile ? VOLATILE : 0) | (s._anyOut.length ? REPORT_SENT : 0);
      // A volatile emit is never sent twice: it needs no dedupe.
      const wire = s._eo && !f.volatile ? [EO, s._eo[0], ++s._eo[1], ack ? 1 : 0, ...data] : data;
      id = c.run(OP.emit, s._k, timeout ?? -1, flags, ...encode(wire));
      // Before the emit's events are delivered: an emit refused at once (a full queue
      // dropping the newest) is settled among them.
      if (ack && id !== undefined) (s._acks ??= new Map()).set(id, [ack, s._errorFirst(f, ack)]);
      if (persist) s._persisted(data, before);
    } finally {
      if (ack) c.deliver();
      s._sending = outerSending;
      s.io._compress = outerCompress;
    }
    // A volatile emit dropped while disconnected: no answer can ever come.
    if (ack && id === undefined && s._errorFirst(f, ack)) queueMicrotask(() => call(ack, s, [s.io._i.trap || fail("socket has been disconnected", "DisconnectedError")]));
    return s;
  }

  // Whether the core keeps the emit just made with `before` emits kept: it is the newest
  // kept (a full queue dropping the oldest kept as many as before, one dropping the
  // newest refused it).
  _keeps(before) {
    const after = this._waiting();
    return after > before || (after == before && after > 0 && this._o.queueOverflow != "drop-newest");
  }

  // An emit just made with `before` emits kept: written to storage if the core keeps it,
  // then storage keeps as many as the core.
  _persisted(data, before) {
    if (!this._keeps(before)) return;
    try {
      this._pq.add(data);
    } catch (err) {
      // Not storable (a value IndexedDB cannot clone): kept in memory only, and said.
      return report(err);
    }
    this._kept();
  }

  /**
   * Declares an emit that restores server-side state (a room join, a subscription):
   * sent now if connected, and again after every (re)connection that did NOT recover
   * the session, in declaration order, before the emits queued offline. Returns a
   * function that stops re-sending it.
   */
  rejoin(ev, ...args) {
    checkName(ev);
    const c = this.io._c;
    const id = c.cmd(OP.add_rejoin, this._k, 0, 0, ...encode([ev, ...args]));
    return () => c.cmd(OP.remove_rejoin, this._k, id);
  }

  /** The emits waiting for a connection, oldest first, as `[event, ...args]` arrays. */
  get sendBuffer() {
    return JSON.parse(this.io._c.ask(OP.queued, this._k)).map((a) => this._own(a));
  }

  // The app's `[event, ...args]` of an emit as it is on the wire.
  _own(data) {
    return this._eo && data[0] == EO ? data.slice(4) : data;
  }

  // socket.io-client's (private) queue of `retries` emits, which some apps read for its
  // length: the at-least-once emits not yet acknowledged.
  get _queue() {
    return new Array(this.io._c.ask(OP.state, this._k) >>> 4);
  }

  // socket.io-client's documented way to drop the buffer is `socket.sendBuffer = []`.
  set sendBuffer(v) {
    if (!Array.isArray(v) || v.length) throw new TypeError("resocket: sendBuffer can only be assigned [] (it drops the queue, as clearQueue() does)");
    this.clearQueue();
  }

  /**
   * Drops every emit waiting for a connection (each reported by an "emit_dropped" event,
   * and its acknowledgement rejected).
   */
  clearQueue() {
    this.io._c.cmd(OP.clear_queue, this._k);
    return this;
  }

  _notify(data) {
    for (const fn of this._anyOut.slice()) call(fn, this, data);
  }

  // Socket events from the core.
  _ev(name, a, b, c, d) {
    switch (name) {
      case "event": {
        // An event that came with a connection a listener has just left (disconnect()
        // in a "connect" listener) is not delivered, as with socket.io-client.
        if (!this._up) return;
        // `a`: the arguments, parsed by the driver; `b`: the ack id, or -1 when the
        // last argument is the recovery offset.
        const args = a;
        const offset = b === -1 ? args.pop() : undefined;
        if (b >= 0) args.push(this._reply(b));
        if (this._eo && args[0] == EO) return this._confirmed();
        if (this._held) return this._held.push([args, offset]);
        return this._deliver(args, offset);
      }
      case "ack":
        this._kept();
        return this._settle(a, null, b);
      case "ack_error":
        this._kept();
        return this._settle(a, fail(b, c));
      case "sent": {
        // An emit that went on the wire, for the onAnyOutgoing listeners: the emit
        // under way, if this is it; else (sent later, from the queue or again) the
        // arguments as they went on the wire.
        const own = this._sending;
        this._sending = undefined;
        return this._notify(own ?? this._own(decode(a, b)));
      }
      case "connect": {
        this._up = true;
        // The offline queue went out.
        this._kept();
        if (!this._eo) return this._fire(name);
        // The app hears "connect" once the helper has said it is there; what the server
        // sends meanwhile (the events a recovered session missed) waits for it.
        // What a connection cut before the helper's word held (a replay) belongs to the
        // session, and the core presented the offset past it: a recovered session hands
        // it on first; a new one drops it (the app hears recovered false).
        this._held = this._held && this.recovered ? this._held : [];
        this._eoTimer = setTimeout(() => this._noHelper(), EO_CONFIRM_MS);
        return;
      }
      case "dropped":
        // An emit that never reached the server (offline queue overflow or expiry,
        // cleared, or `retries` used up): (reason, [event, ...args]).
        this._kept();
        return this._fire("emit_dropped", b, this._own(JSON.parse(a)));
      case "connect_error": {
        const own = b == "AuthError" && this._authError;
        this._authError = null;
        const err = own ? Object.assign(own, { type: b }) : fail(a, b);
        // A refusal by the server (a middleware's next(err)) carries its `data`.
        if (c !== undefined) err.data = JSON.parse(c);
        return this._fire(name, err);
      }
      case "auth":
        return sendAuth(this, a);
      default: // "disconnect"(reason)
        this._up = false;
        clearTimeout(this._eoTimer);
        // A connection the app never heard of (the helper's word had not come) ends
        // unheard of too; what it held waits for the next one.
        if (this._held) return;
        return this._fire(name, a);
    }
  }

  // `offset`: the event's recovery offset, if it has one (for shareAcrossTabs, whose
  // leading page relays the socket's events through `_relay` instead).
  _deliver(args, offset) {
    if (this._relay) return this._relay(args, offset);
    if (this._any.length) for (const fn of this._any.slice()) call(fn, this, args);
    this._fire(...args);
  }

  // The server's exactly-once helper is there: the connection is the app's.
  _confirmed() {
    const held = this._held;
    if (!held) return;
    clearTimeout(this._eoTimer);
    this._held = null;
    this._fire("connect");
    for (const [args, offset] of held) if (this._up) this._deliver(args, offset);
  }

  // No helper: emits would reach no handler. The socket gives up as on a refusal by the
  // server, and the emits stay queued.
  _noHelper() {
    this.disconnect();
    this._fire("connect_error", fail("exactlyOnce: the server does not run the exactlyOnce helper of resocket/server", "ExactlyOnceError"));
  }

  _settle(id, err, args) {
    const entry = this._acks?.get(id);
    if (!entry) return;
    this._acks.delete(id);
    const [fn, errorFirst] = entry;
    if (!err) call(fn, this, errorFirst ? [null, ...args] : args);
    // As socket.io-client: a plain callback (no timeout, not emitWithAck) is never called
    // with an error; when its answer cannot come any more it is just forgotten.
    else if (errorFirst) call(fn, this, [err]);
  }

  // The function handed to the app for the server's ack request `id` (answers once).
  _reply(id) {
    let sent;
    return (...args) => {
      if (!sent) {
        sent = 1;
        this.io._c.cmd(OP.ack, this._k, id, 0, ...encode(args));
      }
    };
  }
}
