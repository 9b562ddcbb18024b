// The Manager (socket.io-client's `socket.io`): the app's calls on the connection become
// the core's commands, and the core's connection events the Manager's and its engine's.
// It decides nothing (backoff, attempts, buffering are the core's); a namespace's events
// are socket.js's, the instance and its traps instance.js's.

import { OP } from "./contract.js";
import { Driver } from "./driver.js";
import { Emitter, call } from "./emitter.js";
import { Engine, enginePacket, socketPacket } from "./engine.js";
import { current, fail } from "./instance.js";
import { hold, relay, release } from "./live.js";
import { checkManager, httpOptions, initialSettings, setting, settings, transportOptions, withSettings, withoutAuth } from "./options.js";
import { Socket } from "./socket.js";
import { engineUrl, targets } from "./url.js";

// The page's timer functions when this module loaded, for `useNativeTimers` (a fake clock
// installed later does not drive a client that asks for these).
const NATIVE_TIMERS = [globalThis.setTimeout.bind(globalThis), globalThis.clearTimeout.bind(globalThis)];
// A Manager the app let go of frees its connection: the driver's transports, timer and
// page listeners hold the driver, never the Manager.
const collected = new FinalizationRegistry((driver) => driver.free());

/**
 * One Engine.IO connection and its reconnection, shared by the sockets (namespaces) of
 * one server (socket.io-client's Manager, `socket.io`).
 */
export class Manager extends Emitter {
  constructor(uri, opts) {
    super();
    if (uri && typeof uri == "object" && !(uri instanceof URL) && !Array.isArray(uri)) [uri, opts] = [undefined, uri];
    opts = opts || {};
    checkManager(opts);
    // socket.io-client's `opts`, without `auth`: the credentials live on the socket alone
    // (`socket.auth`), so that clearing or replacing them leaves no copy behind.
    this.opts = withoutAuth(opts);
    const cfg = (this._cfg = initialSettings(opts));
    this._auto = opts.autoConnect !== false;
    this._n = Object.create(null); // namespace -> Socket
    this._socks = []; // core key -> Socket

    // The servers to try, in order (one, or a failover list): every failed attempt moves
    // the next one to the next server; a working connection stays where it is.
    this._uris = targets(uri, opts);
    this._uri = this._uris[(this._at = 0)];
    const i = (this._i = current());
    const port = (this._port = { w: new WeakRef(this), m: null });
    const protocols = opts.protocols == null ? [] : [].concat(opts.protocols);
    this._c = new Driver(port, relay(port), i, (this._u = this._url()), httpOptions(opts), protocols, opts.useNativeTimers && NATIVE_TIMERS);
    collected.register(this, this._c);
    this._c.cmd(OP.configure, 0, 0, 0, JSON.stringify({ ...settings(cfg), limits: opts.limits, ...transportOptions(opts) }));
    // socket.io-client's `socket.io.engine`: its transport, state and events ("open",
    // "close", "upgrade", "upgradeError"); close() drops the transport as a network failure
    // would (the sockets reconnect, and may recover their session).
    this._engine = new Engine(this);
    // As socket.io-client's: the connection opens at once, before any socket.
    if (this._auto) this.open();
  }

  _hold() {
    hold(this);
  }

  // The instance trapped; told once, from a microtask (the app's call that trapped has
  // returned; a listener may create its new client at once): the Manager hears "error",
  // each socket that wanted a connection "disconnect" ("transport error") or
  // "connect_error", and pending acks fail, all with the trap's error. The connection is
  // freed first: its WebSocket, timer and page listeners go.
  _dead() {
    if (this._told) return;
    this._told = 1;
    release(this);
    const err = this._i.trap;
    const socks = this._socks.filter(Boolean).map((s) => [s, s._st]);
    queueMicrotask(() => {
      this._c.free();
      this._fire("error", err);
      for (const [s, st] of socks) {
        if (st & 1) s._fire("disconnect", "transport error", err);
        else if (st & 2) s._fire("connect_error", err);
        const acks = s._acks ? [...s._acks.values()] : [];
        s._acks?.clear();
        for (const [fn, errorFirst] of acks) if (errorFirst) call(fn, s, [err]);
      }
    });
  }

  _set(name, v) {
    if (v === undefined) return this._cfg[name];
    this._cfg[name] = setting(name, v);
    this._c.cmd(OP.configure, 0, 0, 0, JSON.stringify(settings(this._cfg)));
    return this;
  }

  // The Engine.IO URL from `opts` as they are now (see engineUrl).
  _url() {
    return engineUrl(this._uri, this.opts);
  }

  /** The server's URL this connection is on, or tries next. */
  get uri() {
    return this._uri[0].href;
  }

  // As socket.io-client's, `engine` is there once the Manager has started connecting
  // (an app may test it to know whether a connection was ever started).
  get engine() {
    return this._began ? this._engine : undefined;
  }

  // Before a connection is opened: the URL follows changes made to `opts` since.
  _refreshUrl() {
    this._began = 1;
    const u = this._url();
    if (u != this._u) this._c.setUrl((this._u = u));
  }

  // The app listens to packets: the core reports them from now on.
  _packets() {
    if (this._pk) return;
    this._pk = 1;
    this._c.cmd(OP.configure, 0, 0, 0, '{"packets":true}');
  }

  on(ev, fn) {
    if (ev == "packet") this._packets();
    return super.on(ev, fn);
  }

  // Manager events: "open", "close"(reason), "error"(err), "ping", and the reconnection
  // events, which every socket of this manager also emits.
  _ev(name, a, b) {
    const e = this._engine;
    if (name == "packet") {
      const created = enginePacket(b);
      if (a) created.options = { compress: this._compress ?? true };
      e._fire(a ? "packetCreate" : "packet", created);
      // The Manager's "packet": each Socket.IO packet received.
      const packet = !a && typeof b == "string" && b[0] == "4" && socketPacket(b.slice(1));
      if (packet) this._fire("packet", packet);
      return;
    }
    if (name == "drain") return e._fire("drain");
    // The engine's own events: the transport it is on, and the upgrade.
    if (name == "upgrade" || name == "upgradeError") {
      if (name == "upgrade") e.transport = { name: a };
      return e._fire(name, name == "upgrade" ? e.transport : Object.assign(fail("probe error", "TransportError"), { transport: a }));
    }
    if (name == "open") {
      Object.assign(e, { transport: { name: a }, readyState: "open" });
      e._fire("open");
      a = undefined;
    }
    if (name == "close") {
      e.readyState = "closed";
      e._fire("close", a);
    }
    const args = a === undefined ? [] : [b === undefined ? a : fail(a, b)];
    // An attempt failed (or the server broke the protocol): the next goes to the next
    // server of a failover list.
    if (name == "error" && this._uris.length > 1) this._uri = this._uris[(this._at = (this._at + 1) % this._uris.length)];
    this._fire(name, ...args);
    // Open on another server than the last time: "failover" (uri, previous uri).
    if (name == "open") {
      const last = this._last;
      this._last = this.uri;
      if (last && last != this._last) this._fire("failover", this._last, last);
    }
    if (name.startsWith("reconnect")) for (const s of this._socks) s?._fire(name, ...args);
    // The transport of this attempt is opened once its listeners have run.
    if (name == "reconnect_attempt") this._refreshUrl();
  }

  /** The socket of namespace `nsp` (one per namespace per manager). */
  socket(nsp, opts) {
    let s = this._n[nsp];
    if (!s) s = this._n[nsp] = new Socket(this, nsp, opts);
    else if (this._auto && !s.active) s.connect();
    return s;
  }

  // Opens the connection, with or without a socket, as socket.io-client does: it stays,
  // and is re-established, until a socket disconnects or disconnect() is called. `fn`
  // hears about the next open or error.
  open(fn) {
    if (fn) {
      const opened = () => (this.off("error", failed), fn());
      const failed = (err) => (this.off("open", opened), fn(err));
      this.once("open", opened).once("error", failed);
    }
    this._refreshUrl();
    this._c.cmd(OP.open);
    for (const s of this._socks) if (s?.active) s.connect();
    this._hold();
    return this;
  }

  connect(fn) {
    return this.open(fn);
  }

  /** Disconnects every socket of this manager; the connection then closes. */
  _close() {
    for (const s of this._socks) s?.disconnect();
    this._c.cmd(OP.close);
    this._hold();
  }

  disconnect() {
    this._close();
  }
}
withSettings(Manager);
