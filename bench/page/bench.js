// In-page side of the benchmarks (served as /bench/bench.js by bench/run.mjs).
//
// Loads the clients named in ?clients= (default all three) and exposes `window.bench`:
//   bench.libs[client]                 the client's module ({ io, ... })
//   bench.inbound(client, url, kind, n)  events/s received (server pushes n events)
//   bench.outbound(client, url, n)     emits/s until the server has counted all n
//   bench.inWorker(client, what, args)  the same inbound/outbound run (what) in the
//                                      client's own module Web Worker (./worker.js)
//   bench.acks(client, url, m)         m sequential emitWithAck round trips (ms each)
//   bench.open(client, url, opts, name) opens a socket, stored in bench.sockets[name],
//                                      resolves once connected; its connect/disconnect
//                                      times are kept in bench.marks[name]
//   bench.openMany(client, url, k, opts)  k more connected sockets (bench.many)
//   bench.closeAll()                   disconnects every socket opened here
//   bench.offline*                     the offline-queue and persistQueue runs
//                                      (./offline.js): offlineOpen(client, port, opts),
//                                      offlineEmit(n, expected), offlineQueued(n),
//                                      offlineRestore(port, n), offlineLockGone(name),
//                                      offlineClose()
//   bench.share*                       the shareAcrossTabs runs (./share.js):
//                                      shareOpen(url, leads), shareTicks(n, request),
//                                      shareDisconnect(), shareTakenOver(ms),
//                                      shareLocksFree(ms), shareClose()
// Clients: "resocket" (/pkg/index.js), "socket.io-client" (its dist ESM bundle) and
// "raw" (./raw-client.js). The inbound/outbound runs themselves are in ./measure.js,
// shared with the workers. Times are performance.now() in the page; `now()` is the
// absolute time (ms since the epoch, sub-ms) shared with the Node runner.

import { BASE, MODULES, connected, inbound, outbound, socketOf as socketOfLib, within } from "./measure.js";
import * as offline from "./offline.js";
import * as share from "./share.js";

const bench = { ready: false, loadError: null, libs: {}, sockets: {}, marks: {}, many: [], window: [] };
window.bench = bench;

const now = () => performance.timeOrigin + performance.now();
bench.now = now;

// Registered before any client loads, so that these run first.
for (const name of ["online", "offline"]) addEventListener(name, () => bench.window.push({ name, t: now() }));

/** A connected socket of `client` with the common options plus `opts`. */
const socketOf = (client, url, opts = {}) => socketOfLib(bench.libs[client], client, url, opts);

bench.inbound = (client, url, kind, n) => inbound(bench.libs[client], client, url, kind, n);

bench.outbound = (client, url, n) => outbound(bench.libs[client], client, url, n);

// ---------------------------------------------------------------- Web Workers

// One dedicated module worker per client (bench/page/worker.js), created on first use
// and kept: { ready (a promise), call(what, args) }.
const workers = {};

function workerOf(client) {
  if (workers[client]) return workers[client];
  const worker = new Worker(`/bench/worker.js?client=${encodeURIComponent(client)}`, { type: "module" });
  const pending = new Map();
  let next = 1;
  let failed = null;
  const fail = (message) => {
    failed ??= message;
    for (const { reject } of pending.values()) reject(new Error(message));
    pending.clear();
  };
  let settleReady;
  let loaded = false;
  const ready = new Promise((resolve, reject) => {
    settleReady = { resolve, reject };
  });
  worker.addEventListener("message", (e) => {
    const m = e.data;
    if (m.type === "ready") {
      loaded = true;
      return settleReady.resolve(m);
    }
    if (m.type === "loadError") {
      fail(`${client} could not load in a worker: ${m.error}`);
      return settleReady.reject(Object.assign(new Error(m.error), { cannotLoad: true }));
    }
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });
  // An error the worker did not catch: before "ready", its script failed to load (the
  // client cannot run there); after, an uncaught exception, kept in bench.workerErrors.
  worker.addEventListener("error", (e) => {
    const message = `${client} worker: uncaught error: ${e.message || "(no message: the worker script failed to load)"}`;
    bench.workerErrors.push(message);
    if (loaded) return;
    fail(message);
    settleReady.reject(Object.assign(new Error(message), { cannotLoad: true }));
  });
  const call = (what, args) => {
    if (failed) return Promise.reject(new Error(failed));
    const id = next++;
    worker.postMessage({ id, what, args });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  };
  return (workers[client] = { ready, call });
}

bench.workerErrors = [];

/**
 * Runs measure.js's `what` ("inbound" or "outbound", with `args` after the client's
 * module) in `client`'s worker. Resolves to { result } or, if the client cannot load in
 * a worker at all, { unavailable: the error }; rejects if the run itself fails (or the
 * worker does not start in time).
 */
bench.inWorker = async (client, what, args) => {
  const w = workerOf(client);
  try {
    await within(w.ready, 30_000, `${client}: worker start`);
  } catch (err) {
    if (err?.cannotLoad) return { unavailable: String(err.message) };
    throw err;
  }
  return { result: await within(w.call(what, args), 120_000, `${client}: ${what} in a worker`) };
};

bench.acks = async (client, url, m) => {
  const socket = await socketOf(client, url);
  try {
    const times = [];
    for (let i = 0; i < m; i += 1) {
      const t = performance.now();
      const reply = await within(socket.emitWithAck("echo", { i }), 10_000, `${client}: ack ${i}`);
      times.push(performance.now() - t);
      if (reply?.i !== i) throw new Error(`${client}: ack ${i} answered ${JSON.stringify(reply)}`);
    }
    times.sort((a, b) => a - b);
    const pick = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
    return { p50: pick(0.5), p99: pick(0.99), max: times.at(-1) };
  } finally {
    socket.disconnect();
  }
};

bench.open = async (client, url, opts, name) => {
  const socket = bench.libs[client].io(url, { ...BASE, ...opts });
  const marks = (bench.marks[name] = { connect: [], disconnect: [] });
  socket.on("connect", () => marks.connect.push(now()));
  socket.on("disconnect", (reason) => marks.disconnect.push({ t: now(), reason }));
  bench.sockets[name] = socket;
  await connected(socket, 10_000, `${client}: first connect`);
};

bench.waitMark = async (name, kind, count, ms) => {
  const marks = bench.marks[name];
  const deadline = performance.now() + ms;
  while (marks[kind].length < count) {
    if (performance.now() > deadline) throw new Error(`${name}: no ${kind} #${count} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return marks[kind][count - 1];
};

bench.openMany = async (client, url, k, opts = {}) => {
  for (let i = 0; i < k; i += 1) {
    bench.many.push(bench.libs[client].io(url, { ...BASE, ...opts }));
  }
  await within(Promise.all(bench.many.map((s) => connected(s, 20_000))), 30_000, `${client}: ${k} sockets`);
};

bench.closeAll = () => {
  for (const s of [...Object.values(bench.sockets), ...bench.many]) s.disconnect();
  bench.sockets = {};
  bench.many = [];
};

bench.offlineOpen = (client, port, opts) => offline.open(bench.libs[client], client, port, opts);
bench.offlineEmit = offline.emit;
bench.offlineQueued = offline.queued;
bench.offlineRestore = (port, n) => offline.restore(bench.libs.resocket, port, n);
bench.offlineLockGone = offline.lockGone;
bench.offlineClose = offline.close;

bench.shareOpen = (url, leads) => share.open(bench.libs.resocket, url, leads);
bench.shareTicks = share.ticks;
bench.shareDisconnect = share.disconnect;
bench.shareTakenOver = share.takenOver;
bench.shareLocksFree = share.locksFree;
bench.shareClose = share.close;

bench.wasmMemoryBytes = () => bench.libs.resocket?.stats?.().wasmMemoryBytes ?? null;

const wanted = new URLSearchParams(location.search).get("clients")?.split(",") ?? Object.keys(MODULES);
try {
  for (const client of wanted) bench.libs[client] = await import(MODULES[client]);
  // The opt-in features of the shareAcrossTabs and persistQueue runs.
  if (bench.libs.resocket) await Promise.all([import("/pkg/share.js"), import("/pkg/persist.js")]);
  bench.ready = true;
  bench.isolated = globalThis.crossOriginIsolated === true;
  document.getElementById("status").textContent = `ready: ${wanted.join(", ")}`;
} catch (err) {
  bench.loadError = String(err?.stack ?? err);
  document.getElementById("status").textContent = `load error: ${bench.loadError}`;
}
