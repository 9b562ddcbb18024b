// In-page side of the benchmarks (served as /bench/bench.js by bench/run.mjs).
//
// Loads the clients named in ?clients= (default all three) and exposes `window.bench`:
//   bench.libs[client]                 the client's module ({ io, ... })
//   bench.inbound(client, url, kind, n)  events/s received (server pushes n events)
//   bench.outbound(client, url, n)     emits/s until the server has counted all n
//   bench.acks(client, url, m)         m sequential emitWithAck round trips (ms each)
//   bench.open(client, url, opts, name) opens a socket, stored in bench.sockets[name],
//                                      resolves once connected; its connect/disconnect
//                                      times are kept in bench.marks[name]
//   bench.openMany(client, url, k, opts)  k more connected sockets (bench.many)
//   bench.closeAll()                   disconnects every socket opened here
// Clients: "resocket" (/pkg/index.js), "socket.io-client" (its dist ESM bundle) and
// "raw" (./raw-client.js). Times are performance.now() in the page; `now()` is the
// absolute time (ms since the epoch, sub-ms) shared with the Node runner.

const MODULES = {
  resocket: "/pkg/index.js",
  "socket.io-client": "/vendor/socket.io.esm.min.js",
  raw: "/bench/raw-client.js",
};

const bench = { ready: false, loadError: null, libs: {}, sockets: {}, marks: {}, many: [], window: [] };
window.bench = bench;

const now = () => performance.timeOrigin + performance.now();
bench.now = now;

// Registered before any client loads, so that these run first.
for (const name of ["online", "offline"]) addEventListener(name, () => bench.window.push({ name, t: now() }));

// Both libraries get the same options; socket.io-client would start with HTTP
// long-polling without `transports`, resocket speaks WebSocket only.
const BASE = { transports: ["websocket"], forceNew: true };

function timeout(ms, what) {
  let timer;
  const promise = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

async function within(promise, ms, what) {
  const t = timeout(ms, what);
  try {
    return await Promise.race([promise, t.promise]);
  } finally {
    t.cancel();
  }
}

function connected(socket, ms, what = "connect") {
  if (socket.connected) return Promise.resolve();
  return within(new Promise((resolve) => socket.on("connect", function once() {
    socket.off("connect", once);
    resolve();
  })), ms, what);
}

/** A connected socket of `client` with the common options plus `opts`. */
async function socketOf(client, url, opts = {}) {
  const socket = bench.libs[client].io(url, { ...BASE, ...opts });
  await connected(socket, 10_000, `${client}: first connect`);
  return socket;
}

bench.inbound = async (client, url, kind, n) => {
  const socket = await socketOf(client, url);
  try {
    const event = kind === "binary" ? "bin" : "tick";
    let count = 0;
    let first = 0;
    let last = 0;
    let bytes = 0;
    const done = new Promise((resolve) => {
      socket.on(event, (data) => {
        // Touch the payload, as an app would.
        bytes += kind === "binary" ? data.byteLength : data.n;
        count += 1;
        if (count === 1) first = performance.now();
        if (count === n) {
          last = performance.now();
          resolve();
        }
      });
    });
    const asked = performance.now();
    socket.emit("push", { kind, n });
    await within(done, Math.max(60_000, n * 5), `${client}: ${n} ${kind} events`);
    // From the first event to the n-th: the client's own rate, not the request's trip.
    const ms = last - first;
    return { perSecond: ms > 0 ? ((n - 1) * 1000) / ms : NaN, ms, totalMs: last - asked, bytes };
  } finally {
    socket.disconnect();
  }
};

bench.outbound = async (client, url, n) => {
  const socket = await socketOf(client, url);
  try {
    await within(socket.emitWithAck("sink-count"), 10_000, `${client}: sink reset`);
    const payload = { n: 1 };
    const start = performance.now();
    for (let i = 0; i < n; i += 1) socket.emit("sink", payload);
    const sent = performance.now();
    const { count, cpuMs } = await within(socket.emitWithAck("sink-count"), Math.max(60_000, n * 5), `${client}: the server's count`);
    const end = performance.now();
    if (count !== n) throw new Error(`${client}: the server counted ${count} of ${n} emits`);
    return { perSecond: (n * 1000) / (end - start), ms: end - start, sendLoopMs: sent - start, serverCpuMs: cpuMs };
  } finally {
    socket.disconnect();
  }
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

bench.wasmMemoryBytes = () => bench.libs.resocket?.stats?.().wasmMemoryBytes ?? null;

const wanted = new URLSearchParams(location.search).get("clients")?.split(",") ?? Object.keys(MODULES);
try {
  for (const client of wanted) bench.libs[client] = await import(MODULES[client]);
  bench.ready = true;
  bench.isolated = globalThis.crossOriginIsolated === true;
  document.getElementById("status").textContent = `ready: ${wanted.join(", ")}`;
} catch (err) {
  bench.loadError = String(err?.stack ?? err);
  document.getElementById("status").textContent = `load error: ${bench.loadError}`;
}
