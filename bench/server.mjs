// The socket.io 4.8 server of the benchmarks, run as a CHILD PROCESS (bench/run.mjs
// starts it, and kills and restarts it on the same port for the reconnection timing).
//
//   node bench/server.mjs --port=<n>     (default 0: any free port, on 127.0.0.1)
//
// stdout: one line {"port": <n>} once it listens, then one line {"recoveryPort": <m>}
// (the server with connection state recovery on, below: any free port on 127.0.0.1);
// nothing else. It exits when its stdin closes (the runner went away) or on
// SIGTERM/SIGINT (tests/e2e/support/child-server.mjs).
//
// The same server serves the three clients under test (resocket, socket.io-client and
// the raw WebSocket baseline), so whatever it costs is the same for all of them. Events
// on the main namespace:
//   "push" ({ kind, n })   sends n events as fast as it can: kind "small" -> "tick"
//                          {n:1}, "json1k" -> "tick" with an object whose packet is
//                          ~1 KB of JSON, "binary" -> "bin" with a 1 KB binary
//                          attachment (two WebSocket frames an event). The WebSocket
//                          frames are built ONCE (as ws frames them; the same bytes
//                          socket.emit would send) and written n times in large chunks
//                          straight to the TCP socket: the server costs next to nothing,
//                          so the browser side is what is measured.
//   "sink" (...)           counted, nothing else (socket.io still decodes each packet,
//                          as any server would)
//   "sink-count" (ack)     ack({ count: "sink"s since the last call, cpuMs: server
//                          CPU time used since then }), and resets both. Packets of one connection
//                          are handled in order, so this ack proves every earlier
//                          "sink" has arrived.
//   "echo" (...args, ack)  ack(...args)
//
// A second socket.io Server, on its own HTTP server and port (recoveryPort), has
// connection state recovery on. (socket.io's option applies to every namespace of a
// Server: the main server above stays without it, on its own port, untouched, so the
// rows measured on it are unchanged.) On its main namespace "/", its CONNECT reply
// carries a `pid`, and its event "push" (same arguments) writes the frames that
// socket.io 4.8 with recovery writes: every event it stores for recovery gets its
// offset appended as its last argument, 42["tick",{"n":1},"Q8ONHMO.1"] (then, for
// "binary", the attachment frame). The offsets are socket.io-adapter's yeast() ids: the
// time in ms in base 64 (7 characters), then ".<counter in base 64>" for the 2nd and
// later events of the same ms. Here the clock is simulated, OFFSETS_PER_MS events a ms
// (socket.io 4.8 emitting in a loop on a bench machine: 40-190 a ms), so the offsets
// are 7, 9 and 10 characters long, every one distinct. The n events' frames are built
// before the first is written (and kept for the next push of as many or fewer), then
// written in large chunks as above: again the server costs next to nothing. Nothing is
// stored: a client reconnecting with one of these offsets is not recovered. Its other
// event, "push-stored" ({ n }, at most 1 000), emits n "tick" {n:1} with socket.emit:
// socket.io stores each for recovery and appends its offset, so a client that got one
// of them and reconnects (a shareAcrossTabs hand-over) is recovered.
import { Server } from "socket.io";
import WebSocket from "ws";

import { createHttpServer, serveAsChild } from "../tests/e2e/support/child-server.mjs";

function option(name, fallback) {
  const prefix = `--${name}=`;
  const arg = process.argv.slice(2).find((a) => a.startsWith(prefix));
  return arg ? arg.slice(prefix.length) : fallback;
}

const port = Number(option("port", "0"));

/** The ~1 KB JSON object of the "json1k" pushes (its JSON text is 1 000-1 100 bytes). */
function json1k() {
  const items = [];
  for (let i = 0; i < 15; i += 1) {
    items.push({ id: i, name: `item-${i}`, price: 10.5 + i, tags: ["a", "b"], ok: i % 2 === 0 });
  }
  return { n: 1, kind: "json1k", items };
}

/** One unmasked WebSocket frame (text for a string, binary for a Buffer), as ws builds it. */
function frame(data) {
  const text = typeof data === "string";
  const list = WebSocket.Sender.frame(text ? Buffer.from(data) : data, {
    fin: true,
    rsv1: false,
    opcode: text ? 1 : 2,
    mask: false,
    readOnly: false,
  });
  return Buffer.concat(list);
}

// Engine.IO "4" (MESSAGE) + Socket.IO "2" (EVENT) on "/"; or "5" (BINARY_EVENT) with one
// attachment, followed by the attachment as a binary frame.
const EVENTS = {
  small: frame(`42${JSON.stringify(["tick", { n: 1 }])}`),
  json1k: frame(`42${JSON.stringify(["tick", json1k()])}`),
  binary: Buffer.concat([
    frame(`451-${JSON.stringify(["bin", { _placeholder: true, num: 0 }])}`),
    frame(Buffer.alloc(1024, 7)),
  ]),
};
const CHUNK = 512; // events per write
const chunks = Object.fromEntries(Object.entries(EVENTS).map(([k, f]) => [k, Buffer.concat(Array(CHUNK).fill(f))]));

/** The connection's TCP socket, or null if it is not a plain (uncompressed) WebSocket. */
function tcpOf(conn) {
  const tcp = conn.transport?.name === "websocket" ? conn.transport.socket?._socket : null;
  return !tcp || typeof tcp.write !== "function" || conn.transport.perMessageDeflate ? null : tcp;
}

/** Writes n events of `kind` to the connection's TCP socket; false if not a WebSocket. */
function push(conn, kind, n) {
  const tcp = tcpOf(conn);
  if (!tcp) return false;
  // ws writes every frame it sends with one synchronous cork()/write()/uncork(), so
  // whole frames of ours cannot end up in the middle of one of its frames.
  for (let left = n; left > 0; left -= CHUNK) {
    tcp.write(left >= CHUNK ? chunks[kind] : chunks[kind].subarray(0, left * EVENTS[kind].length));
  }
  return true;
}

// ------------------------------------------------ connection state recovery on

const OFFSETS_PER_MS = 128;

/** socket.io-adapter's yeast encode(): a number in its base-64 alphabet. */
function yeastEncode(num) {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
  let encoded = "";
  do {
    encoded = alphabet[num % 64] + encoded;
    num = Math.floor(num / 64);
  } while (num > 0);
  return encoded;
}

/** The offset of the i-th event (from 0) as yeast() gives it, OFFSETS_PER_MS events a ms from `t0`. */
function offsetOf(t0, i) {
  const ms = yeastEncode(t0 + Math.floor(i / OFFSETS_PER_MS));
  const seq = i % OFFSETS_PER_MS;
  return seq === 0 ? ms : `${ms}.${yeastEncode(seq - 1)}`;
}

// The frames of one event, offset included, as socket.io with recovery writes them.
const RECOVERY_EVENTS = {
  small: (offset) => frame(`42${JSON.stringify(["tick", { n: 1 }, offset])}`),
  json1k: (offset) => frame(`42${JSON.stringify(["tick", json1k(), offset])}`),
  binary: (offset) =>
    Buffer.concat([
      frame(`451-${JSON.stringify(["bin", { _placeholder: true, num: 0 }, offset])}`),
      frame(Buffer.alloc(1024, 7)),
    ]),
};

/** kind -> { bytes: all events' frames back to back, ends: where each event ends }. */
const recoveryFrames = {};

function recoveryFramesOf(kind, n) {
  const cached = recoveryFrames[kind];
  if (cached && cached.ends.length >= n) return cached;
  const t0 = Date.now();
  const list = [];
  const ends = [];
  let end = 0;
  for (let i = 0; i < n; i += 1) {
    const f = RECOVERY_EVENTS[kind](offsetOf(t0, i));
    list.push(f);
    end += f.length;
    ends.push(end);
  }
  return (recoveryFrames[kind] = { bytes: Buffer.concat(list), ends });
}

/** push() of the recovery server: n events of `kind`, each with its own offset. */
function pushWithOffsets(conn, kind, n) {
  const tcp = tcpOf(conn);
  if (!tcp) return false;
  const { bytes, ends } = recoveryFramesOf(kind, n);
  for (let from = 0; from < n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK);
    tcp.write(bytes.subarray(from === 0 ? 0 : ends[from - 1], ends[to - 1]));
  }
  return true;
}

// ------------------------------------------------ the servers

/** The "push" handler of a server whose frames `write(conn, kind, n)` writes. */
function pushHandler(socket, write) {
  return (spec) => {
    const kind = String(spec?.kind);
    const n = Math.max(0, Math.min(Number(spec?.n) || 0, 10_000_000));
    if (!Object.hasOwn(EVENTS, kind)) return;
    if (!write(socket.conn, kind, n)) process.stderr.write("bench server: push needs a WebSocket transport\n");
  };
}

const http = createHttpServer();
const io = new Server(http, { cors: { origin: "*" } });
const recoveryHttp = createHttpServer();
const recoveryIo = new Server(recoveryHttp, { cors: { origin: "*" }, connectionStateRecovery: {} });

recoveryIo.on("connection", (socket) => {
  socket.on("push", pushHandler(socket, pushWithOffsets));
  socket.on("push-stored", (spec) => {
    const n = Math.max(0, Math.min(Number(spec?.n) || 0, 1000));
    for (let i = 0; i < n; i += 1) socket.emit("tick", { n: 1 });
  });
});

io.on("connection", (socket) => {
  let sunk = 0;
  let cpu = process.cpuUsage();
  socket.on("push", pushHandler(socket, push));
  socket.on("sink", () => {
    sunk += 1;
  });
  socket.on("sink-count", (ack) => {
    const count = sunk;
    const used = process.cpuUsage(cpu);
    sunk = 0;
    cpu = process.cpuUsage();
    if (typeof ack === "function") ack({ count, cpuMs: (used.user + used.system) / 1000 });
  });
  socket.on("echo", (...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : null;
    ack?.(...args);
  });
});

// serveAsChild() stops the server with io.close(): close both.
const both = {
  close() {
    recoveryIo.close();
    io.close();
  },
};
recoveryHttp.on("error", (err) => {
  process.stderr.write(`bench socket.io server (recovery on): ${err.code ?? ""} ${err.message}\n`);
  process.exit(1);
});
serveAsChild({ http, io: both, port, label: "bench socket.io server" });
// Any free port; announced once both listen, after the main server's port line (this
// listener of "listening" runs after serveAsChild's).
const mainUp = new Promise((resolve) => http.once("listening", resolve));
const recoveryUp = new Promise((resolve) => recoveryHttp.listen(0, "127.0.0.1", resolve));
Promise.all([mainUp, recoveryUp]).then(() => {
  process.stdout.write(`${JSON.stringify({ recoveryPort: recoveryHttp.address().port })}\n`);
});
