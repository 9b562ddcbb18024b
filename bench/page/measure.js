// The throughput measurements, shared by the bench page (bench/page/bench.js, main
// thread) and its Web Workers (bench/page/worker.js): nothing here touches `window` or
// the DOM. Each takes the client's module ({ io }) as its first argument.

/** Where each client's module is served (by bench/run.mjs). */
export const MODULES = {
  resocket: "/pkg/index.js",
  "socket.io-client": "/vendor/socket.io.esm.min.js",
  raw: "/bench/raw-client.js",
};

// Both libraries get the same options; socket.io-client would start with HTTP
// long-polling without `transports`, resocket speaks WebSocket only.
export const BASE = { transports: ["websocket"], forceNew: true };

function timeout(ms, what) {
  let timer;
  const promise = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

export async function within(promise, ms, what) {
  const t = timeout(ms, what);
  try {
    return await Promise.race([promise, t.promise]);
  } finally {
    t.cancel();
  }
}

export function connected(socket, ms, what = "connect") {
  if (socket.connected) return Promise.resolve();
  return within(new Promise((resolve) => socket.on("connect", function once() {
    socket.off("connect", once);
    resolve();
  })), ms, what);
}

/** A connected socket of `client` (module `lib`) with the common options plus `opts`. */
export async function socketOf(lib, client, url, opts = {}) {
  const socket = lib.io(url, { ...BASE, ...opts });
  await connected(socket, 10_000, `${client}: first connect`);
  return socket;
}

/** Events/s received while the server at `url` pushes n events of `kind`. */
export async function inbound(lib, client, url, kind, n) {
  const socket = await socketOf(lib, client, url);
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
}

/** Emits/s of n small emits, until the server has counted all n. */
export async function outbound(lib, client, url, n) {
  const socket = await socketOf(lib, client, url);
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
}
