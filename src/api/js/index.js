// resocket's public JavaScript API: socket.io-client 4.x's vocabulary (io(), Manager,
// Socket, listeners, option validation) over the wasm `Connection`.
//
// This file translates and dispatches; it decides nothing about the connection. Backoff,
// attempt limits, buffering of emits while disconnected, ack ids and ack timeouts,
// volatile drops, recovery and the per-namespace CONNECT all belong to the Rust core.
// Events come from it through one callback, synchronously and in order; listeners may
// call back into it (emit, disconnect, ...).
import glue from "./resocket_wasm.js";

// Each instance of the wasm module comes with a glue of its own (the glue module exports
// a factory): its own memory, table of JS values, closures and Connection class. So an
// instance that trapped can be let go of whole, its memory with it, while new clients run
// on a fresh one. The module is compiled once, by the first glue (which fetches it from
// beside its code); later instances are made from it synchronously, so a fresh one is
// there as soon as a client needs it. Top-level await: `import { io } from "resocket"`
// needs no explicit init call. The first instance is made in a function of its own: what
// a module's top-level code awaits stays reachable from the module, and its memory with it.
const first = glue();
let inst = await (async () => ({ g: first, memory: (await first.default()).memory }))();
const MODULE = first.module();

// The instance new clients run on: a fresh one once the last one trapped.
const current = () => {
  if (inst.trap) {
    try {
      const g = glue();
      inst = { g, memory: g.initSync({ module: MODULE }).memory };
    } catch (cause) {
      // Memory still exhausted: not even a fresh instance can start (a later call tries again).
      throw Object.assign(fail(`resocket: the WebAssembly module stopped and cannot start again (${cause.message})`, "WasmTrap"), { cause });
    }
  }
  return inst;
};

export const protocol = 5;

// The page's timer functions when this module loaded, for `useNativeTimers` (a fake clock
// installed later does not drive a client that asks for these).
const NATIVE_TIMERS = [globalThis.setTimeout.bind(globalThis), globalThis.clearTimeout.bind(globalThis)];

/** Memory held by the wasm instance new clients run on (used by the memory test and the benchmarks). */
export const stats = () => {
  const { g, memory } = current();
  return { wasmMemoryBytes: memory.buffer.byteLength, connections: g.liveConnections() };
};

const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

// App code (listeners, ack callbacks, auth functions) runs through `call`: an exception is
// reported as an uncaught error would be, delivery to the other listeners goes on, and
// nothing unwinds into the wasm core.
const report = (e) => (globalThis.reportError ? reportError(e) : setTimeout(() => { throw e; }));
const call = (fn, self, args) => {
  try {
    fn.apply(self, args);
  } catch (e) {
    report(e);
  }
};

/** An Error with a stable `.type` (the core's code: "TransportError", "TimeoutError", ...). */
const fail = (message, type) => {
  const e = Object.assign(new Error(message), { type });
  // Formatted at once: until then a stack trace holds the wasm instance of its frames
  // (most errors are made in the core's callback), and so, once the instance trapped, its
  // memory, for as long as the app keeps the error.
  e.stack;
  return e;
};

// --- traps ------------------------------------------------------------------------------

// A trap (unreachable: a panic or a failed allocation; a stack overflow) stops wasm code
// halfway, leaving what it was changing half-changed: a RefCell borrowed for good, which
// answers "Busy" from then on, events never delivered. The instance is given up whole:
// its clients are told once ("WasmTrap") and never call it again, and new clients get a
// fresh instance.
const isTrap = (e) => e instanceof WebAssembly.RuntimeError || e instanceof RangeError || e?.type == "Busy";
const WASM_URL = new URL("./resocket_wasm_bg.wasm", import.meta.url).href;

// Instance `i` trapped (in a call of Manager `m`, if any).
const trapped = (i, cause, m) => {
  if (i.trap) return;
  const why = `resocket: the WebAssembly module stopped (${cause.message}); this client is dead: create a new one`;
  i.trap = Object.assign(fail(why, "WasmTrap"), { cause });
  // As for fail()'s errors (the app gets this one as `cause`).
  cause.stack;
  m?._dead();
  for (const x of live) if (x._i == i) x._dead();
  // Once the connections above are freed (their microtasks come first) and no call into
  // the instance can be on the stack: its glue lets go of it, so that its memory is
  // collected even while the app keeps its dead clients, or a connection that could not
  // be freed keeps listeners (which from then on do nothing).
  queueMicrotask(() => {
    i.g.drop();
    i.g = i.memory = null;
  });
};

// A trap where no call of ours is on the stack (a WebSocket or timer callback of the
// instance) reaches the page as an uncaught error; one in our module is ours.
globalThis.addEventListener?.("error", (e) => {
  if (isTrap(e.error) && `${e.filename} ${e.error.stack}`.includes(WASM_URL)) trapped(inst, e.error);
});

// The commands of the wasm Connection's run(), numbered in the order of `Op` in
// src/api/connection.rs, and its flags (tests/e2e/contract.test.mjs checks both).
const OPS = ["configure", "socket", "open", "close", "set_url", "connect", "disconnect", "close_transport", "emit", "ack", "auth", "auth_failed", "add_rejoin", "remove_rejoin", "clear_queue", "queued", "engine_id", "sid", "state", "use_timers"];
const OP = Object.fromEntries(OPS.map((name, i) => [name, i]));
const WITH_ACK = 1;
const VOLATILE = 2;
const REPORT_SENT = 4;
const DELIVER = 256;

// Manager `m`'s Connection `c`, through calls that a trap cannot escape: once the
// instance trapped, they answer as a closed connection would (`undefined`, state 0, an
// empty queue) and never reach it again.
//   run(op, key, number, flags, text, extra): a command (see `Op`); its events wait
//     for deliver(), made once its result is taken care of (an emit's ack id);
//   cmd(...the same): a command whose events are delivered before it returns;
//   ask(op, key): a read.
const guard = (m, c) => {
  const safe = (f) => (...args) => {
    if (!m._i.trap) {
      try {
        return f(...args);
      } catch (e) {
        if (!isTrap(e)) throw e;
        trapped(m._i, e, m);
      }
    }
    m._dead();
    return args[0] == OP.queued ? "[]" : undefined;
  };
  const run = safe((op, key = 0, n = 0, flags = 0, text, extra) => c.run(op, key, n, flags, text, extra));
  return {
    run,
    cmd: (op, key, n, flags = 0, text, extra) => run(op, key, n, flags | DELIVER, text, extra),
    ask: (op, key) => run(op, key),
    deliver: safe(() => c.deliver()),
    free() {
      try {
        c.free();
      } catch {
        // the instance is dead: nothing more to release
      }
    },
  };
};

const need = (name, ok, what) => {
  if (!ok) throw new TypeError(`resocket: option "${name}" must be ${what}`);
};
const unsupported = (name, why) => {
  throw new TypeError(`resocket: option "${name}" is not supported: ${why}`);
};
const nonNegative = (v) => typeof v == "number" && v >= 0;
const NON_NEGATIVE = "a non-negative number";

// --- binary payloads --------------------------------------------------------------------

const isBlob = (o) => typeof Blob == "function" && o instanceof Blob;
const isBinary = (o) => o instanceof ArrayBuffer || ArrayBuffer.isView(o) || isBlob(o);
const hasBlob = (o) => {
  if (!o || typeof o != "object") return false;
  if (isBinary(o)) return isBlob(o);
  return (Array.isArray(o) ? o : Object.values(o)).some(hasBlob);
};
// `data` with each Blob (File included) replaced by its bytes, copying only the arrays
// and objects on the way to one: the app's own objects are left as they are.
const withBytes = async (o) => {
  if (isBlob(o)) return o.arrayBuffer();
  if (!hasBlob(o)) return o;
  if (Array.isArray(o)) return Promise.all(o.map(withBytes));
  const copy = {};
  for (const [k, v] of Object.entries(o)) copy[k] = await withBytes(v);
  return copy;
};
const hasBinary = (o) => {
  if (o && typeof o == "object") {
    if (isBinary(o)) return true;
    if (Array.isArray(o)) return o.some(hasBinary);
    for (const k in o) if (hasBinary(o[k])) return true;
  }
  return false;
};

// [json, attachments]: binary values (ArrayBuffer or any view of one, Node's Buffer
// included), anywhere in `data`, become {"_placeholder":true,"num":i} in depth-first
// order and their bytes attachment i, as socket.io-parser does (no binary: [json]).
const encode = (data) => {
  if (!hasBinary(data)) return [JSON.stringify(data)];
  const attachments = [];
  const json = JSON.stringify(data, function (key, value) {
    // `this[key]` is the value before toJSON (Buffer has one).
    const o = this[key];
    if (!isBinary(o)) return value;
    if (o instanceof ArrayBuffer) attachments.push(new Uint8Array(o));
    else if (ArrayBuffer.isView(o)) attachments.push(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
    else throw new TypeError("resocket: a Blob reached the encoder unread");
    return { _placeholder: true, num: attachments.length - 1 };
  });
  return [json, attachments];
};

// Parses the core's JSON text once; placeholders become the attachments, ArrayBuffers of
// their exact bytes from the core (what socket.io-client delivers in browsers).
const decode = (json, attachments) => {
  const value = JSON.parse(json);
  return attachments ? fill(value, attachments) : value;
};

// Replaces placeholders in place, after the parse: a JSON.parse reviver would call back
// for every value, several times slower. The core has checked every placeholder's
// `num`; nesting is bounded by its depth limit.
const fill = (v, buffers) => {
  if (!v || typeof v != "object") return v;
  if (v._placeholder === true && typeof v.num == "number" && v.num in buffers) return buffers[v.num];
  // Own keys only, each an own data property made by JSON.parse: assigning one, even
  // "__proto__", sets that property, never the prototype.
  for (const k of Object.keys(v)) v[k] = fill(v[k], buffers);
  return v;
};

// --- events -------------------------------------------------------------------------------

// @socket.io/component-emitter's semantics: `off()` removes all, `off(ev)` all of `ev`,
// `off(ev, fn)` the first `fn` (or a `once` wrapper of it); listeners run on a copy.
class Emitter {
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

// --- Manager --------------------------------------------------------------------------------

// Live reconnection settings: [default, valid?, what a valid value is]. The order is the
// order of Connection's constructor and configure() parameters.
const SETTINGS = {
  reconnection: [true, (v) => typeof v == "boolean", "a boolean"],
  reconnectionAttempts: [Infinity, (v) => v === -1 || nonNegative(v), "a non-negative number, Infinity or -1"],
  reconnectionDelay: [1000, nonNegative, NON_NEGATIVE],
  reconnectionDelayMax: [5000, nonNegative, NON_NEGATIVE],
  randomizationFactor: [0.5, (v) => nonNegative(v) && v <= 1, "a number between 0 and 1"],
  timeout: [20000, (v) => v === false || nonNegative(v), "a non-negative number or false"],
};
const setting = (name, v) => {
  const [, ok, what] = SETTINGS[name];
  need(name, ok(v), what);
  return v;
};
// The settings as the core reads them (by name; Infinity becomes null in JSON, which
// the core reads as unlimited): -1 attempts and `timeout: false` mean no limit.
const settings = (c) => ({ ...c, reconnectionAttempts: c.reconnectionAttempts < 0 ? Infinity : c.reconnectionAttempts, timeout: c.timeout === false ? Infinity : c.timeout });

// The URL to connect to (its pathname is the namespace), and the scheme of its Engine.IO
// endpoint, http: or https: (WebSockets go to the ws: or wss: twin). Without a URL: the
// page's origin, or socket.io-client's `hostname`, `port` and `secure` options.
const target = (uri, o) => {
  const loc = globalThis.location;
  if (uri == null) {
    const secure = o.secure ?? loc?.protocol == "https:";
    const port = o.port ?? (o.hostname ? "" : loc?.port);
    uri = `${secure ? "https:" : "http:"}//${o.hostname ?? loc?.hostname}${port ? `:${port}` : ""}`;
  }
  uri = String(uri);
  if (uri[0] != "/" && !/^(https?|wss?):\/\//i.test(uri)) uri = `${loc ? loc.protocol : "https:"}//${uri}`;
  const url = new URL(uri, loc?.href);
  const http = url.protocol.replace("ws", "http");
  if (!/^https?:$/.test(http)) throw new TypeError(`resocket: cannot connect to "${uri}" (http, https, ws or wss only)`);
  return [url, http];
};

// --- transports -----------------------------------------------------------------------------

// socket.io-client's transport exports, for `transports: [WebSocket, XHR]`: each names the
// Engine.IO transport it stands for. XHR, Fetch and NodeXHR are all HTTP long-polling
// here (requests go through XMLHttpRequest).
const transport = (name, title) => Object.freeze({ name, [Symbol.toStringTag]: title });
export const WebSocket = transport("websocket", "WebSocket");
export const Polling = transport("polling", "Polling");
export const XHR = transport("polling", "XHR");
export const Fetch = transport("polling", "Fetch");
export const NodeXHR = transport("polling", "NodeXHR");
export const NodeWebSocket = transport("websocket", "NodeWebSocket");
export const WebTransport = transport("webtransport", "WebTransport");
export const transports = { websocket: WebSocket, polling: XHR, webtransport: WebTransport };

const transportName = (t) => (typeof t == "string" ? t : t?.name);
// The transport options as the core reads them (by name).
const transportOptions = (o) => {
  const names = (o.transports ?? ["polling", "websocket"]).map(transportName).filter((n) => n != "webtransport");
  const polling = o.transportOptions?.polling ?? {};
  const headers = { ...o.extraHeaders, ...polling.extraHeaders };
  const protocols = o.protocols == null ? [] : [].concat(o.protocols);
  return {
    transports: names,
    upgrade: o.upgrade !== false,
    rememberUpgrade: !!o.rememberUpgrade,
    tryAllTransports: !!o.tryAllTransports,
    timestampRequests: o.timestampRequests ?? null,
    timestampParam: o.timestampParam ?? "t",
    extraHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
    withCredentials: !!(polling.withCredentials ?? o.withCredentials),
    requestTimeout: o.requestTimeout || 0,
    protocols,
  };
};

// Packets cost a crossing each: the core reports them once the app listens to one of
// these events (of the engine; "packet" of the Manager too).
const PACKET_EVENTS = ["packet", "packetCreate", "drain"];
const ENGINE_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];

// An Engine.IO packet as socket.io-client's engine hands it to listeners.
const enginePacket = (data) => (typeof data == "string" ? { type: ENGINE_TYPES[data[0]], data: data.slice(1) || undefined } : { type: "message", data });

// The Socket.IO packet of an Engine.IO message, as socket.io-client's Manager hands it to
// "packet" listeners: { type, nsp, id, data } (binary attachments stay placeholders).
const socketPacket = (text) => {
  const m = /^(\d)(?:\d+-)?(\/[^,]*,)?(\d+)?([^]*)$/.exec(text);
  if (!m) return undefined;
  const packet = { type: +m[1], nsp: m[2] ? m[2].slice(0, -1) : "/" };
  if (m[3]) packet.id = +m[3];
  if (m[4]) packet.data = JSON.parse(m[4]);
  return packet;
};

class Engine extends Emitter {
  constructor(manager) {
    super();
    const c = manager._c;
    Object.assign(this, { transport: null, readyState: "closed", close: () => c.cmd(OP.close_transport), _m: manager });
  }

  get id() {
    return this._m._c.ask(OP.engine_id) ?? null;
  }

  on(ev, fn) {
    if (PACKET_EVENTS.includes(ev)) this._m._packets();
    return super.on(ev, fn);
  }
}

const checkManager = (o) => {
  for (const k of ["autoConnect", "forceNew", "multiplex", "addTrailingSlash"]) need(k, o[k] == null || typeof o[k] == "boolean", "a boolean");
  need("path", o.path == null || typeof o.path == "string", "a string");
  need("query", o.query == null || typeof o.query == "object" || typeof o.query == "string", "an object or a string");
  const t = o.transports;
  need("transports", t == null || (Array.isArray(t) && t.every((x) => ["polling", "websocket", "webtransport"].includes(transportName(x)))), 'an array of "polling", "websocket" (or the transport exports)');
  if (t != null && !t.some((x) => transportName(x) != "webtransport"))
    unsupported("transports", 'it must include "polling" or "websocket" (resocket has no WebTransport)');
  if (o.parser != null) unsupported("parser", "resocket speaks the default Socket.IO parser (JSON with binary attachments) only");
  // extraHeaders go with every polling request; a browser WebSocket cannot send them (as
  // with socket.io-client, they are not sent there).
  for (const k of ["extraHeaders", "transportOptions"]) need(k, o[k] == null || typeof o[k] == "object", "an object");
  for (const k of ["upgrade", "rememberUpgrade", "tryAllTransports", "withCredentials", "secure", "useNativeTimers"]) need(k, o[k] == null || typeof o[k] == "boolean", "a boolean");
  need("timestampRequests", o.timestampRequests == null || typeof o.timestampRequests == "boolean", "a boolean");
  need("timestampParam", o.timestampParam == null || typeof o.timestampParam == "string", "a string");
  need("requestTimeout", o.requestTimeout == null || nonNegative(o.requestTimeout), NON_NEGATIVE);
  need("protocols", o.protocols == null || typeof o.protocols == "string" || (Array.isArray(o.protocols) && o.protocols.every((p) => typeof p == "string")), "a string or an array of strings");
  const l = o.limits;
  // Its fields are checked by the core, which names them.
  need("limits", l == null || (typeof l == "object" && !Array.isArray(l)), "an object");
};

const withoutAuth = (o) => {
  const copy = { ...o };
  delete copy.auth;
  return copy;
};

const checkSocket = (o) => {
  const a = o.auth;
  need("auth", a == null || typeof a == "function" || (typeof a == "object" && !Array.isArray(a)), "an object or a function");
  for (const k of ["ackTimeout", "retries", "maxQueueAge"]) need(k, o[k] == null || nonNegative(o[k]), NON_NEGATIVE);
  need("maxQueue", o.maxQueue == null || (Number.isInteger(o.maxQueue) && o.maxQueue >= 0), "a non-negative integer");
  need("queueOverflow", o.queueOverflow == null || o.queueOverflow == "drop-oldest" || o.queueOverflow == "drop-newest", '"drop-oldest" or "drop-newest"');
  const v = o.volatileEvents;
  need("volatileEvents", v == null || (Array.isArray(v) && v.every((n) => typeof n == "string")), "an array of event names");
};

// Managers with a socket that wants a connection. Like socket.io-client's, which an open
// WebSocket keeps reachable, they must live on while the app holds nothing but
// listeners; once no socket wants a connection, only the app holds a Manager, and when
// it lets go the garbage collector frees the wasm Connection (and its WebSocket). The
// wasm side reaches its Manager through a WeakRef only, or it could never be collected.
const live = new Set();
const HOLD_EVENTS = ["connect", "connect_error", "disconnect", "reconnect_failed"];
// The core's events by number, in the order of `Kind` in src/api/events.rs (checked by
// tests/e2e/contract.test.mjs).
const KINDS = ["open", "close", "error", "ping", "reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed", "connect", "connect_error", "disconnect", "event", "ack", "ack_error", "dropped", "auth", "sent", "upgrade", "upgradeError", "packet", "drain"];
// The wasm Connection's event callback. Made out here so that its closure holds the
// WeakRef alone (a closure made in the constructor would share its scope, `this` included).
const relay = (manager) => (kind, key, a, b, c, d) => {
  const m = manager.deref();
  // A dead instance's clients were told: what it still says is no news.
  if (!m || m._i.trap) return;
  const name = KINDS[kind];
  // Before the listeners, so that a trap in one of them finds every state up to date.
  if (HOLD_EVENTS.includes(name)) m._hold();
  if (key < 0) m._ev(name, a, b);
  else m._socks[key]?._ev(name, a, b, c, d);
};

/**
 * One Engine.IO connection and its reconnection, shared by the sockets (namespaces) of
 * one server (socket.io-client's Manager, `socket.io`).
 */
export class Manager extends Emitter {
  constructor(uri, opts) {
    super();
    if (uri && typeof uri == "object" && !(uri instanceof URL)) [uri, opts] = [undefined, uri];
    opts = opts || {};
    checkManager(opts);
    // socket.io-client's `opts`, without `auth`: the credentials live on the socket alone
    // (`socket.auth`), so that clearing or replacing them leaves no copy behind.
    this.opts = withoutAuth(opts);
    const cfg = (this._cfg = {});
    for (const k in SETTINGS) cfg[k] = setting(k, opts[k] ?? SETTINGS[k][0]);
    this._auto = opts.autoConnect !== false;
    this._n = Object.create(null); // namespace -> Socket
    this._socks = []; // core key -> Socket

    this._uri = target(uri, opts);
    const i = (this._i = current());
    this._c = guard(this, new i.g.Connection((this._u = this._url()), relay(new WeakRef(this))));
    this._c.cmd(OP.configure, 0, 0, 0, JSON.stringify({ ...settings(cfg), limits: opts.limits, ...transportOptions(opts) }));
    if (opts.useNativeTimers) this._c.cmd(OP.use_timers, 0, 0, 0, undefined, NATIVE_TIMERS);
    // socket.io-client's `socket.io.engine`: its transport, state and events ("open",
    // "close", "upgrade", "upgradeError"); close() drops the transport as a network failure
    // would (the sockets reconnect, and may recover their session).
    this._engine = new Engine(this);
    // As socket.io-client's: the connection opens at once, before any socket.
    if (this._auto) this.open();
  }

  _hold() {
    if (this._i.trap) return;
    // Each socket's state() as last seen: a trap is reported from it (the dead instance
    // cannot be asked).
    // Bit 8 of any key's state(): the connection was opened for its own sake.
    let any = this._c.ask(OP.state, 0) & 8 ? 2 : 0;
    for (const s of this._socks) if (s) any |= s._st = this._c.ask(OP.state, s._k);
    if (any & 2) live.add(this);
    else live.delete(this);
  }

  // The instance trapped; told once, from a microtask (the app's call that trapped has
  // returned; a listener may create its new client at once): the Manager hears "error",
  // each socket that wanted a connection "disconnect" ("transport error") or
  // "connect_error", and pending acks fail, all with the trap's error. The connection is
  // freed first: its WebSocket, timer and page listeners go.
  _dead() {
    if (this._told) return;
    this._told = 1;
    live.delete(this);
    const err = this._i.trap;
    const socks = this._socks.filter(Boolean).map((s) => [s, s._st]);
    queueMicrotask(() => {
      this._c.free();
      this._fire("error", err);
      for (const [s, st] of socks) {
        if (st & 1) s._fire("disconnect", "transport error", err);
        else if (st & 2) s._fire("connect_error", err);
        const acks = [...s._acks.values()];
        s._acks.clear();
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

  // Manager events: "open", "close"(reason), "error"(err), "ping", and the reconnection
  // events, which every socket of this manager also emits.
  // The Engine.IO URL from `opts` as they are now: socket.io-client reads `opts.query`
  // afresh for every connection (a token refreshed in `reconnect_attempt`, say).
  _url() {
    const [url, http] = this._uri;
    const o = this.opts;
    const q = new URLSearchParams(url.search);
    const extra = typeof o.query == "string" ? new URLSearchParams(o.query) : Object.entries(o.query || {});
    for (const [k, v] of extra) q.set(k, v);
    q.set("EIO", "4");
    const path = (o.path || "/socket.io").replace(/\/$/, "") + (o.addTrailingSlash === false ? "" : "/");
    return `${http}//${url.host}${path}?${q}`;
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
    if (u != this._u) this._c.cmd(OP.set_url, 0, 0, 0, (this._u = u));
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
    this._fire(name, ...args);
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
for (const name in SETTINGS) Manager.prototype[name] = function (v) {
  return this._set(name, v);
};

// --- Socket ------------------------------------------------------------------------------------

/** A namespace of a Manager's connection: what `io()` returns. */
export class Socket extends Emitter {
  constructor(io, nsp, opts = {}) {
    super();
    checkSocket(opts);
    this.io = io;
    this.nsp = nsp;
    this.auth = opts.auth;
    this._o = withoutAuth(opts);
    this._s = this; // the socket itself, also from a flagged view (timeout(), volatile)
    this._f = {}; // emit flags
    this._acks = new Map(); // ack id -> [callback, error-first?]
    this._any = [];
    this._anyOut = [];
    // Always ask for the CONNECT payload at connect time: `auth` is read anew on every
    // (re)connect and may be reassigned at any time, as in socket.io-client. `retries`
    // (at-least-once emits) and the offline queue's bounds are the core's.
    const o = this._o;
    const options = { namespace: nsp };
    for (const k of ["retries", "ackTimeout", "maxQueue", "maxQueueAge", "queueOverflow", "volatileEvents"]) if (o[k] != null) options[k] = o[k];
    this._k = io._c.cmd(OP.socket, 0, 0, 0, JSON.stringify(options));
    io._socks[this._k] = this;
    if (io._auto) this.connect();
  }

  get id() {
    return this.io._c.ask(OP.sid, this._k);
  }

  // A flag of the core's state(): 1 connected, 2 active, 4 recovered.
  _flag(bit) {
    return !!(this.io._c.ask(OP.state, this._k) & bit);
  }

  get connected() {
    return this._flag(1);
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

  open() {
    return this.connect();
  }

  disconnect() {
    this.io._c.cmd(OP.disconnect, this._k);
    this.io._hold();
    return this;
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

  emit(ev, ...args) {
    if (RESERVED.includes(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const s = this._s;
    const f = this._f;
    const ack = typeof args[args.length - 1] == "function" ? args.pop() : undefined;
    const data = [ev, ...args];
    if (!s._wait && !(hasBinary(data) && hasBlob(data))) return s._send(data, ack, f);
    // A Blob's (or File's) bytes can only be read asynchronously: this emit, and every
    // emit after it until they are read, waits its turn, so that none overtakes another.
    const turn = (s._wait || Promise.resolve())
      .then(() => withBytes(data))
      .then(
        (read) => s._send(read, ack, f),
        (err) => {
          report(err);
          s._fire("emit_dropped", "unreadable", data);
          if (ack && s._timing(f)[1](ack)) call(ack, s, [fail("a Blob of the emit could not be read", "DroppedError")]);
        },
      )
      .finally(() => {
        if (s._wait === turn) s._wait = null;
      });
    s._wait = turn;
    return s;
  }

  // [ack timeout, (ack) => whether the callback takes an error first].
  // With `retries`, the core sends the emit at least once (timing each try out after
  // `ackTimeout`); with a timeout, or from emitWithAck, the callback takes an error
  // first, as in socket.io-client.
  _timing(f) {
    const reliable = this._o.retries > 0 && !f.volatile;
    const timeout = reliable ? undefined : (f.timeout ?? this._o.ackTimeout);
    return [timeout, (ack) => reliable || timeout != null || !!ack._e];
  }

  _send(data, ack, f) {
    const s = this;
    const [timeout, errorFirst] = s._timing(f);
    const outerSending = s._sending;
    const outerCompress = s.io._compress;
    // An emit that goes on the wire at once is reported within this call: its listeners
    // get the very arguments emitted, as socket.io-client's do, and its packetCreate its
    // compress flag (which a browser WebSocket cannot act on).
    s._sending = data;
    s.io._compress = f.compress !== false;
    const c = s.io._c;
    let id;
    try {
      // With onAnyOutgoing listeners, the core reports each copy it puts on the wire
      // ("sent"): an emit queued offline is reported when it goes out, never if dropped.
      const flags = (ack ? WITH_ACK : 0) | (f.volatile ? VOLATILE : 0) | (s._anyOut.length ? REPORT_SENT : 0);
      id = c.run(OP.emit, s._k, timeout ?? -1, flags, ...encode(data));
      // Before the emit's events are delivered: an emit refused at once (a full queue
      // dropping the newest) is settled among them.
      if (ack && id !== undefined) s._acks.set(id, [ack, errorFirst(ack)]);
    } finally {
      c.deliver();
      s._sending = outerSending;
      s.io._compress = outerCompress;
    }
    // A volatile emit dropped while disconnected: no answer can ever come.
    if (ack && id === undefined && errorFirst(ack)) queueMicrotask(() => call(ack, s, [s.io._i.trap || fail("socket has been disconnected", "DisconnectedError")]));
    return s;
  }

  emitWithAck(ev, ...args) {
    return new Promise((resolve, reject) => {
      const settle = (err, value) => (err ? reject(err) : resolve(value));
      settle._e = 1;
      this.emit(ev, ...args, settle);
    });
  }

  /**
   * Declares an emit that restores server-side state (a room join, a subscription):
   * sent now if connected, and again after every (re)connection that did NOT recover
   * the session, in declaration order, before the emits queued offline. Returns a
   * function that stops re-sending it.
   */
  rejoin(ev, ...args) {
    if (RESERVED.includes(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const c = this.io._c;
    const id = c.cmd(OP.add_rejoin, this._k, 0, 0, ...encode([ev, ...args]));
    return () => c.cmd(OP.remove_rejoin, this._k, id);
  }

  /** The emits waiting for a connection, oldest first, as `[event, ...args]` arrays. */
  get sendBuffer() {
    return JSON.parse(this.io._c.ask(OP.queued, this._k));
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
        // The payload is `a` from index `b` on: `a` may be the whole frame it came in.
        // `d`: the ack id, or -1 when the last element is the recovery offset.
        const args = decode(b ? a.slice(b) : a, c);
        if (d === -1) args.pop();
        else if (d !== undefined) args.push(this._reply(d));
        if (this._any.length) for (const fn of this._any.slice()) call(fn, this, args);
        return this._fire(...args);
      }
      case "ack":
        return this._settle(a, null, decode(d ? b.slice(d) : b, c));
      case "ack_error":
        return this._settle(a, fail(b, c));
      case "sent": {
        // An emit that went on the wire, for the onAnyOutgoing listeners: the emit
        // under way, if this is it; else (sent later, from the queue or again) the
        // arguments as they went on the wire.
        const own = this._sending;
        this._sending = undefined;
        return this._notify(own ?? decode(a, b));
      }
      case "connect":
        this._up = true;
        return this._fire(name);
      case "dropped":
        // An emit that never reached the server (offline queue overflow or expiry,
        // cleared, or `retries` used up): (reason, [event, ...args]).
        return this._fire("emit_dropped", b, JSON.parse(a));
      case "connect_error": {
        const own = b == "AuthError" && this._authError;
        this._authError = null;
        const err = own ? Object.assign(own, { type: b }) : fail(a, b);
        // A refusal by the server (a middleware's next(err)) carries its `data`.
        if (c !== undefined) err.data = JSON.parse(c);
        return this._fire(name, err);
      }
      case "auth":
        return this._auth(a);
      default: // "disconnect"(reason)
        this._up = false;
        return this._fire(name, a);
    }
  }

  _settle(id, err, args) {
    const entry = this._acks.get(id);
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

  // The core needs the CONNECT payload (before every connect and reconnect). `auth` is
  // an object, or a function that calls back with one or returns (a Promise of) one.
  // If the function throws, rejects or gives something else than an object, NO CONNECT
  // is sent (never one without the credentials the app meant to send): the attempt fails
  // at once, "connect_error" carries that error, and the normal reconnection asks again.
  // socket.io-client has no answer for this case (its connection hangs until the server
  // drops it).
  _auth(token) {
    const auth = this.auth;
    let done;
    // The attempt fails at once: "connect_error" carries the app's own error (with
    // `.type` "AuthError"), and the usual reconnection asks again.
    const no = (err) => {
      if (!done) {
        done = 1;
        this._authError = err instanceof Error ? err : new Error(String(err));
        this.io._c.cmd(OP.auth_failed, this._k, token);
      }
    };
    const ok = (v) => {
      if (done) return;
      try {
        if (v != null && (typeof v != "object" || Array.isArray(v))) throw new TypeError('resocket: "auth" must give an object');
        done = 1;
        this.io._c.cmd(OP.auth, this._k, token, 0, v == null ? undefined : JSON.stringify(v));
      } catch (err) {
        no(err);
      }
    };
    if (typeof auth != "function") return ok(auth);
    try {
      const r = auth.call(this, ok);
      if (typeof r?.then == "function") r.then(ok, (err) => no(err ?? new Error("auth failed")));
      else if (r && typeof r == "object") ok(r);
    } catch (err) {
      no(err);
    }
  }

  onAny(fn) {
    this._any.push(fn);
    return this;
  }

  prependAny(fn) {
    this._any.unshift(fn);
    return this;
  }

  offAny(fn) {
    return remove(this, this._any, fn);
  }

  listenersAny() {
    return this._any;
  }

  onAnyOutgoing(fn) {
    this._anyOut.push(fn);
    return this;
  }

  prependAnyOutgoing(fn) {
    this._anyOut.unshift(fn);
    return this;
  }

  offAnyOutgoing(fn) {
    return remove(this, this._anyOut, fn);
  }

  listenersAnyOutgoing() {
    return this._anyOut;
  }
}

const remove = (self, list, fn) => {
  if (!fn) list.length = 0;
  else if (list.includes(fn)) list.splice(list.indexOf(fn), 1);
  return self;
};

// --- io() -------------------------------------------------------------------------------------

const cache = Object.create(null);

/**
 * socket.io-client's `io(uri?, opts?)`: the socket of the URL's namespace, on a Manager
 * shared per server (scheme, host, port and path) unless `forceNew`, `multiplex: false`,
 * or the shared one already has that namespace.
 */
export function io(uri, opts) {
  if (uri && typeof uri == "object" && !(uri instanceof URL)) [uri, opts] = [undefined, uri];
  opts = opts || {};
  checkSocket(opts);
  const [url, http] = target(uri, opts);
  const nsp = url.pathname || "/";
  const id = `${http}//${url.host}${opts.path || "/socket.io"}`;
  const cached = cache[id]?._i.trap ? undefined : cache[id];
  const manager =
    opts.forceNew || opts.multiplex === false || (cached && nsp in cached._n)
      ? new Manager(url, opts)
      : (cache[id] = cached || new Manager(url, opts));
  return manager.socket(nsp, opts);
}

Object.assign(io, { Manager, Socket, io, connect: io });

export { io as connect, io as default };
