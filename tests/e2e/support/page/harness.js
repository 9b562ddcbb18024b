// In-page helpers of the e2e tests (served as /e2e/harness.js by ../static.mjs).
//
// Loads the package under test from /pkg/index.js and exposes `window.e2e`:
//   e2e.lib                      the package's exports (io, Manager, Socket, stats)
//   e2e.reported                 errors that reached `window` (uncaught, reportError)
//   e2e.record(socket, opts)     logs the socket's reserved events (and, unless
//                                opts.manager === false, its Manager's; with opts.app,
//                                the app events from onAny) with a global sequence
//                                number; returns the log (also e2e.logs[name])
//   e2e.waitFor(pred, ms, what)  polls pred() until true; rejects after ms
//   e2e.next(emitter, ev, ms)    resolves with the arguments of the next `ev`
//   e2e.within(promise, ms, what) the promise, or a rejection after ms
//   e2e.open(url, opts, name, { trace })  io(url, opts) (`url` may be a failover list
//                                of URLs), recorded under `name`, stored
//                                in e2e.sockets[name] (with `trace`, that event traced as
//                                by e2e.trace); resolves once connected
//   e2e.waitForEvent(src, event, ms, what, { n, name })  waits until e2e.logs[name]
//                                holds n (default 1) entries of that source and name
//   e2e.dropTransport(socket, ms, name)  closes the socket's Engine.IO connection and
//                                waits (ms) until the socket is disconnected
//   e2e.drops(socket)            the socket's emit_dropped events, as [reason, data]
//   e2e.settle(promise)          resolves to { ok: value } or { err: serialized error }
//   e2e.orPending(promise, ms, what)  its value, or { pending: true } if it has not
//                                resolved within ms (or has rejected)
//   e2e.serialize(value)         a JSON-safe picture of a value (binaries as hex)
//   e2e.trace(socket, event, name)  records, in one array e2e.traces[name], the
//                                socket's connects ({k:"connect", recovered, id}),
//                                disconnects ({k:"disconnect", reason}) and the
//                                arguments of every `event` ({k:"event", args}), for
//                                ../sequence.mjs; returns the array
//   e2e.traced(k, name)          how many entries of kind k e2e.traces[name] holds
//   e2e.sleep(ms)
// Nothing here talks to the network by itself.

const status = document.getElementById("status");
const e2e = {
  ready: false,
  loadError: null,
  lib: null,
  reported: [],
  logs: {},
  sockets: {},
  seq: 0,
};
window.e2e = e2e;

addEventListener("error", (event) => {
  e2e.reported.push({
    kind: "error",
    message: String(event.error?.message ?? event.message),
    isError: event.error instanceof Error,
  });
});
addEventListener("unhandledrejection", (event) => {
  e2e.reported.push({
    kind: "unhandledrejection",
    message: String(event.reason?.message ?? event.reason),
    isError: event.reason instanceof Error,
  });
});

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

e2e.serialize = function serialize(value, depth = 0) {
  if (depth > 10) return "<too deep>";
  if (value === undefined) return { $type: "undefined" };
  if (value === null || typeof value !== "object") {
    return typeof value === "function" ? { $type: "function" } : value;
  }
  if (value instanceof Error) {
    const out = { $type: "Error", name: value.name, message: value.message };
    for (const key of ["data", "type", "code", "description", "context"]) {
      if (value[key] !== undefined) out[key] = serialize(value[key], depth + 1);
    }
    return out;
  }
  if (value instanceof ArrayBuffer) return { $type: "ArrayBuffer", $bytes: hex(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { $type: value.constructor.name, $bytes: hex(bytes) };
  }
  if (typeof Event === "function" && value instanceof Event) return { $type: value.constructor.name, type: value.type };
  if (Array.isArray(value)) return value.map((v) => serialize(v, depth + 1));
  const out = {};
  for (const [key, v] of Object.entries(value)) out[key] = serialize(v, depth + 1);
  return out;
};

e2e.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

e2e.waitFor = async function waitFor(pred, ms, what, log) {
  const deadline = performance.now() + ms;
  for (let i = 0; i < 100_000; i += 1) {
    if (pred()) return;
    if (performance.now() >= deadline) break;
    await e2e.sleep(10);
  }
  if (pred()) return;
  const events = log ? `; events so far: ${JSON.stringify(log)}` : "";
  throw new Error(`timed out after ${ms} ms waiting for ${what}${events}`);
};

e2e.next = function next(emitter, event, ms) {
  return new Promise((resolve, reject) => {
    const listener = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    emitter.once(event, listener);
  });
};

e2e.within = function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

// Call it where the promise is made, so that a rejection is never left unhandled.
e2e.settle = (promise) => promise.then((v) => ({ ok: v }), (err) => ({ err: e2e.serialize(err) }));

e2e.orPending = (promise, ms, what) => e2e.within(promise, ms, what).catch(() => ({ pending: true }));

const SOCKET_EVENTS = ["connect", "disconnect", "connect_error"];
// resocket also emits these on the socket (socket.io-client 4 only on the Manager):
// logged with src "socket" for information, assertions use the Manager's.
const SOCKET_EXTRA = ["reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed"];
// "failover": resocket's, for a list of URLs (socket.io-client has none to fire).
const MANAGER_EVENTS = ["open", "close", "error", "reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed", "failover"];

e2e.record = function record(socket, { name = "main", manager = true, app = false } = {}) {
  const log = (e2e.logs[name] ??= []);
  const add = (src, event, args) => {
    log.push({
      seq: ++e2e.seq,
      src,
      name: event,
      args: args.map((a) => e2e.serialize(a)),
      t: performance.now(),
      connected: socket.connected,
      active: socket.active,
    });
  };
  for (const event of [...SOCKET_EVENTS, ...SOCKET_EXTRA]) socket.on(event, (...args) => add("socket", event, args));
  // With `app`, the application events too (socket.onAny), as src "app".
  if (app) socket.onAny((event, ...args) => add("app", event, args));
  if (manager) {
    for (const event of MANAGER_EVENTS) socket.io.on(event, (...args) => add("manager", event, args));
  }
  return log;
};

e2e.waitForEvent = function waitForEvent(src, event, ms, what, { n = 1, name = "main" } = {}) {
  const log = e2e.logs[name];
  return e2e.waitFor(() => log.filter((e) => e.src === src && e.name === event).length >= n, ms, what, log);
};

e2e.drops = function drops(socket) {
  const list = [];
  socket.on("emit_dropped", (reason, data) => list.push([reason, data]));
  return list;
};

e2e.dropTransport = function dropTransport(socket, ms, name = "main") {
  socket.io.engine.close();
  return e2e.waitFor(() => !socket.connected, ms, `${name}: the disconnect`, e2e.logs[name]);
};

e2e.traces = {};
e2e.trace = function trace(socket, event, name = "main") {
  const list = (e2e.traces[name] ??= []);
  socket.on("connect", () => list.push({ k: "connect", recovered: socket.recovered, id: socket.id, t: performance.now() }));
  socket.on("disconnect", (reason) => list.push({ k: "disconnect", reason, t: performance.now() }));
  socket.on(event, (...args) => list.push({ k: "event", args, t: performance.now() }));
  return list;
};

e2e.traced = (k, name = "main") => e2e.traces[name].filter((e) => e.k === k).length;

e2e.open = async function open(url, opts = {}, name = "main", { manager = true, app = false, trace = null, wait = 5000 } = {}) {
  const socket = e2e.lib.io(url, opts);
  e2e.sockets[name] = socket;
  const log = e2e.record(socket, { name, manager, app });
  if (trace) e2e.trace(socket, trace, name);
  if (wait) await e2e.waitFor(() => socket.connected, wait, `socket "${name}" to connect to ${url}`, log);
  return socket;
};

try {
  e2e.lib = await import("/pkg/index.js");
  // resocket's opt-in features (shareAcrossTabs, persistQueue), which an app enables by
  // importing their modules; socket.io-client (the reference mode's shim) has neither.
  if (typeof e2e.lib.stats == "function") await Promise.all([import("/pkg/share.js"), import("/pkg/persist.js")]);
  for (const name of ["io", "Manager", "Socket"]) {
    if (typeof e2e.lib[name] !== "function") throw new Error(`/pkg/index.js does not export ${name}`);
  }
  e2e.ready = true;
  status.textContent = "ready";
} catch (err) {
  e2e.loadError = String(err?.stack ?? err);
  status.textContent = `load error: ${e2e.loadError}`;
}
