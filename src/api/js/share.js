// shareAcrossTabs: one connection for every page (tab, window, iframe) of the origin that
// asks for the same servers and namespace with the option. This module is each page's
// side: the Socket the app holds, which behaves as if it had a connection of its own, the
// election of the page that holds the real one, and the messages between pages. The
// real connection is leader.js's, loaded only in the page elected. An app enables the
// option by importing this module ("resocket/share"), which registers it in features.js.
//
// Election: every active socket asks for the Web Lock "resocket-share:<key>"; the page
// granted it leads, the others wait in the lock's queue. A page that closes, crashes or
// disconnects its socket lets go of the lock, and the next one in the queue leads at
// once, resuming the session with the private session id and the offset of the last
// event it delivered, which every page knows. Relay: a BroadcastChannel of the same
// name. A SharedWorker would keep the connection through the close of any page, but it
// needs a script of its own beside the app's bundle (and a CSP that allows it), it loads
// the wasm module once more, and Chrome for Android has none; locks and a channel need
// nothing but the page.
//
// Messages: a follower's carry `from` (its socket's id) and, but for "join", `to` (the
// leader's); the leader's carry `by` (its id) and, when meant for one socket, `to`.
//   follower: join | emit {n, data, ack, f} | reply {r, args} | clear | set {name, v} |
//             drop (the transport)
//   leader:   lead {s} | state {s} | connect {s} | disconnect {reason, s} |
//             connect_error {e} | io {name, args} | ev {args, o, r, p} |
//             took {n, q} | ack {n, e, args} | dropped {n, reason}
// where `s` is the connection's state { c: connected, id, r: recovered, u: uri, p: the
// session's private id, once known }, `o` an event's recovery offset, `p` the session's
// private id (with the first event that has an offset), `r` an ack request of the server.

import { Emitter, call, report } from "./emitter.js";
import { features } from "./features.js";
import { fail } from "./instance.js";
import { checkManager, initialSettings, setting, withSettings } from "./options.js";
import { SocketSurface, checkName } from "./surface.js";
import { targets } from "./url.js";

const NAME = "resocket-share:";
// Offsets remembered to recognise an event a new leader's session replays to a page that
// had it from the previous leader.
const SEEN = 1024;
const sockets = Object.create(null);

// An Error as a message can carry it (a structured clone keeps neither `type` nor `data`).
export const errorInfo = (e) => ({ $error: String(e?.message ?? e), type: e?.type, data: e?.data });
const error = (i) => Object.assign(fail(i.$error, i.type), i.data === undefined ? {} : { data: i.data });
const fromMessage = (v) => (v && v.$error !== undefined ? error(v) : v);

/**
 * `io(uri, { shareAcrossTabs: true })`: the page's socket for connection `key` (servers
 * and namespace), one per page unless `forceNew`.
 */
export const shared = (uri, opts, key, nsp) => {
  const cached = sockets[key];
  if (cached && !opts.forceNew) return opts.autoConnect === false || cached.active ? cached : cached.connect();
  return (sockets[key] = new SharedSocket(uri, opts, key, nsp));
};

/**
 * `socket.io` of a shared socket: the shared connection's events, as a Manager's; its
 * reconnection settings and `engine.close()` go to the leading page's Manager.
 */
class SharedManager extends Emitter {
  constructor(uri, opts, socket) {
    super();
    Object.assign(this, { _cfg: initialSettings(opts), _uri: uri, opts, _sock: socket, engine: { close: () => this._tell({ t: "drop" }) } });
  }

  /** The server's URL the shared connection is on, or tries next. */
  get uri() {
    return this._sock._st.u ?? targets(this._uri, this.opts)[0][0].href;
  }

  _tell(m) {
    const s = this._sock;
    if (s._lead) s._post({ ...m, to: s._lead });
  }

  _set(name, v) {
    if (v === undefined) return this._cfg[name];
    this._cfg[name] = setting(name, v);
    this._tell({ t: "set", name, v });
    return this;
  }
}
withSettings(SharedManager);

/** A page's socket on a connection shared by the pages of its origin. */
export class SharedSocket extends SocketSurface {
  constructor(uri, opts, key, nsp) {
    super();
    checkManager(opts);
    this.nsp = nsp;
    this.auth = opts.auth;
    this.io = new SharedManager(uri, opts, this);
    Object.assign(this, { _lock: NAME + key, _o: opts, _me: crypto.randomUUID(), _n: 0, _rejoins: [] });
    // Emits not yet gone for good, by number: { data, ack, first (error-first), f, q
    // (queued by the leader while offline), sent (on the wire, its answer awaited) }.
    this._out = new Map();
    this._seen = new Set();
    // The leader's last word on the connection; the id of the leading page's socket;
    // this page's Leader (leader.js) while it leads.
    this._st = {};
    this._lead = this._leader = null;
    // Whether the app wants the connection (connect() .. disconnect()), and whether this
    // socket is connected as the app sees it.
    this._active = this._up = false;
    this._chan = null;
    if (opts.autoConnect !== false) this.connect();
  }

  get connected() {
    return this._up;
  }

  get disconnected() {
    return !this._up;
  }

  get active() {
    return this._active;
  }

  get id() {
    return this._up ? this._st.id : undefined;
  }

  get recovered() {
    return !!this._st.r;
  }

  /** Whether this page holds the shared connection. */
  get leading() {
    return !!this._leader;
  }

  /** The emits of this page not yet on the wire, oldest first, as `[event, ...args]`. */
  get sendBuffer() {
    return [...this._out.values()].filter((e) => !e.sent).map((e) => e.data);
  }

  // As a Socket's: `socket.sendBuffer = []` clears the queue.
  set sendBuffer(v) {
    if (!Array.isArray(v) || v.length) throw new TypeError("resocket: sendBuffer can only be assigned [] (it drops the queue, as clearQueue() does)");
    this.clearQueue();
  }

  connect() {
    if (this._active) {
      // The connection gave up (the server disconnected the socket, or refused it): the
      // app asks for it again, as with a Socket.
      if (!this._up) this.io._tell({ t: "open" });
      return this;
    }
    this._active = this._joining = true;
    const locks = globalThis.navigator?.locks;
    if (!locks || !globalThis.BroadcastChannel) {
      report(new Error("resocket: shareAcrossTabs needs Web Locks and BroadcastChannel (a secure context); this page keeps a connection of its own"));
      // A grant of its own, which nothing else asks for.
      this._take((this._release = () => {}));
      return this;
    }
    this._chan = new BroadcastChannel(this._lock);
    this._chan.onmessage = (e) => this._heard(e.data);
    const abort = (this._abort = new AbortController());
    locks
      .request(this._lock, { signal: abort.signal }, () => new Promise((release) => ((this._release = release), this._take(release))))
      .catch((err) => err.name != "AbortError" && report(err));
    this._post({ t: "join" });
    return this;
  }

  // This page leads, by the lock's grant `release`: once the messages the previous leader
  // posted before it went are in (a task later), it opens the connection (leader.js),
  // unless the socket let go of that grant meanwhile (a disconnect(), and maybe a
  // connect() waiting for a grant of its own).
  _take(release) {
    setTimeout(() =>
      import("./leader.js")
        .then(({ Leader }) => this._release === release && (this._active ? new Leader(this) : this._letGo()))
        .catch((err) => (report(err), this._letGo())),
    );
  }

  _letGo() {
    this._release?.();
    this._release = null;
  }

  /** This page's socket leaves the connection; the other pages' stay connected. */
  disconnect() {
    if (!this._active) return this;
    this._active = false;
    this._abort?.abort();
    const leader = this._leader;
    // Whoever leads when the socket connects again says so then.
    this._leader = this._lead = null;
    if (leader) {
      // Another page waiting for the lock takes the session over (the transport is
      // dropped, so the server keeps it); with none, the connection ends.
      const queue = this._abort ? navigator.locks.query() : Promise.resolve({ pending: [] });
      queue
        .then(({ pending }) => leader.stop(pending.some((lock) => lock.name == this._lock)), report)
        .finally(() => this._letGo());
    } else this._letGo();
    // Nothing of the connection is this page's until it connects again.
    this._chan?.close();
    this._chan = null;
    this._down("io client disconnect");
    return this;
  }

  emit(ev, ...args) {
    checkName(ev);
    const s = this._s;
    const f = this._f;
    const ack = typeof args[args.length - 1] == "function" ? args.pop() : undefined;
    const first = !!ack && s._errorFirst(f, ack);
    const n = ++s._n;
    s._out.set(n, { data: [ev, ...args], ack, first, f });
    s._send(n);
    return s;
  }

  /** As a Socket's rejoin(): sent now if connected, and after every connection that did not recover the session. */
  rejoin(ev, ...args) {
    checkName(ev);
    const data = [ev, ...args];
    this._rejoins.push(data);
    if (this._up) this.emit(...data);
    return () => this._rejoins.includes(data) && this._rejoins.splice(this._rejoins.indexOf(data), 1);
  }

  /**
   * Drops the emits waiting for the shared connection: those of every page (each page's
   * told by "emit_dropped"), for the queue is the connection's.
   */
  clearQueue() {
    this.io._tell({ t: "clear" });
    for (const [n, e] of this._out) {
      if (this._lead || e.sent) continue;
      this._out.delete(n);
      this._fire("emit_dropped", "cleared", e.data);
      if (e.first) call(e.ack, this, [fail("the queue was cleared", "DroppedError")]);
    }
    return this;
  }

  // Emit `n` goes to the leader, once there is one and the socket is active; a volatile
  // emit that cannot go now is dropped.
  _send(n) {
    const e = this._out.get(n);
    if (!this._active || !this._lead) {
      if (!e.f.volatile) return;
      // No connection to send it on now: never sent, as a Socket's.
      this._out.delete(n);
      if (e.first) call(e.ack, this, [fail("socket has been disconnected", "DisconnectedError")]);
      return;
    }
    e.to = this._lead;
    try {
      this._post({ t: "emit", to: this._lead, n, data: e.data, ack: !!e.ack, f: e.f });
    } catch (err) {
      // Not a value another page can receive (a function, say).
      this._out.delete(n);
      this._fire("emit_dropped", "unclonable", e.data);
      if (e.first) call(e.ack, this, [err]);
      else report(err);
    }
  }

  // A message to the leader: at once in the page that leads.
  _post(m) {
    m.from = this._me;
    if (this._leader) this._leader.handle(m);
    else this._chan?.postMessage(m);
  }

  _heard(m) {
    if (m.from) {
      if (this._leader && (m.to == this._leader.id || m.t == "join")) this._leader.handle(m);
    } else this._on(m);
  }

  // A message of a leader (of this page or another).
  _on(m) {
    if (m.to && m.to != this._me) return;
    const current = m.by == this._lead;
    switch (m.t) {
      case "lead":
        // The previous leader is gone: its connection with it.
        this._lead = m.by;
        this._learn(m.s);
        this._down("transport close");
        return this._resend();
      case "state":
        // The answer to this socket's "join": where the connection is, and the offset
        // of the last event before this page joined (a take-over presents no older one).
        this._lead = m.by;
        if (m.s.o !== undefined) this._last = m.s.o;
        this._resend();
        return this._state(m.s);
      case "connect":
        if (!current) return;
        // The leader's offline queue went out with the connect.
        for (const [n, e] of this._out) if (e.q) this._awaits(e) ? Object.assign(e, { q: 0, sent: 1 }) : this._out.delete(n);
        return this._state(m.s);
      case "disconnect":
        if (current) this._learn(m.s);
        return current && this._down(m.reason);
      case "connect_error":
        return current && this._active && this._fire("connect_error", error(m.e));
      case "io": {
        if (!current || !this._active) return;
        const args = m.args.map(fromMessage);
        this.io._fire(m.name, ...args);
        if (m.name.startsWith("reconnect")) this._fire(m.name, ...args);
        return;
      }
      case "ev":
        return this._event(m);
      case "took":
        return this._took(m);
      case "ack":
        return this._answer(m);
      case "dropped": {
        // Its ack, if any, is settled by the "ack" that follows.
        const e = this._out.get(m.n);
        if (!e) return;
        if (!e.ack) this._out.delete(m.n);
        return this._fire("emit_dropped", m.reason, e.data);
      }
    }
  }

  // The leader's word on the connection; the session's private id stays known across
  // leaders (the next one presents it).
  _learn(s) {
    this._st = s;
    if (s.p) this._pid = s.p;
  }

  _state(s) {
    this._learn(s);
    if (!s.c || !this._active || this._up) return;
    this._up = true;
    // This page's rejoins go with its first connection, recovered or not (the session
    // never had them), then after every connection that was not.
    const rejoin = !s.r || this._joining;
    this._joining = false;
    this._fire("connect");
    if (rejoin) for (const data of this._rejoins) this.emit(...data);
  }

  _down(reason) {
    if (!this._up) return;
    this._up = false;
    this._fire("disconnect", reason);
  }

  // Whether emit `e` is kept until its answer: it has an ack callback, or emits are
  // at-least-once (`retries`), which the leader sends again until acknowledged.
  _awaits(e) {
    return !!e.ack || this._o.retries > 0;
  }

  // The emits not yet gone for good that the current leader does not have go to it, in
  // order. The answer to one that a gone leader had put on the wire can no longer come:
  // unless emits are at-least-once, which sends it again, it fails as with a
  // disconnection.
  _resend() {
    for (const [n, e] of this._out) {
      if (e.to === this._lead) continue;
      if (e.sent && !(this._o.retries > 0)) {
        this._out.delete(n);
        if (e.first) call(e.ack, this, [fail("socket has been disconnected", "DisconnectedError")]);
        continue;
      }
      e.q = e.sent = 0;
      e.to = undefined;
      this._send(n);
    }
  }

  _took({ n, q }) {
    const e = this._out.get(n);
    if (!e) return;
    if (q) return void (e.q = 1);
    for (const fn of this._anyOut.slice()) call(fn, this, e.data);
    if (this._awaits(e)) e.sent = 1;
    else this._out.delete(n);
  }

  // The answer to emit `n` (its ack, or the error that settles it; `x`: the leader could
  // not make the emit at all).
  _answer({ n, e: err, args, x }) {
    const e = this._out.get(n);
    if (!e) return;
    this._out.delete(n);
    if (!err) return e.ack && call(e.ack, this, e.first ? [null, ...args] : args);
    if (e.first) call(e.ack, this, [error(err)]);
    else if (x) report(error(err));
  }

  // An event of the connection: delivered once to this page, while its socket is active,
  // even if a new leader's session replays it.
  _event({ args, o, r, p, by }) {
    if (p) this._pid = p;
    // Not before this socket's connect (as a Socket's); a late event of a gone leader,
    // after its successor's word, still counts.
    if (!this._active || this._joining) return;
    if (o !== undefined) {
      const seen = this._seen;
      if (seen.has(o)) return;
      seen.add(o);
      if (seen.size > SEEN) seen.delete(seen.values().next().value);
      this._last = o;
    }
    if (r) {
      let sent;
      args.push((...answer) => sent || ((sent = 1), this._post({ t: "reply", to: by, r, args: answer })));
    }
    for (const fn of this._any.slice()) call(fn, this, args);
    this._fire(...args);
  }
}

features.share = shared;
