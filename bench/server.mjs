// The socket.io 4.8 server of the benchmarks, run as a CHILD PROCESS (bench/run.mjs
// starts it, and kills and restarts it on the same port for the reconnection timing).
//
//   node bench/server.mjs --port=<n>     (default 0: any free port, on 127.0.0.1)
//
// stdout: one line {"port": <n>} once it listens; nothing else. It exits when its stdin
// closes (the runner went away) or on SIGTERM/SIGINT (tests/e2e/support/child-server.mjs).
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

/** Writes n events of `kind` to the connection's TCP socket; false if not a WebSocket. */
function push(conn, kind, n) {
  const tcp = conn.transport?.name === "websocket" ? conn.transport.socket?._socket : null;
  if (!tcp || typeof tcp.write !== "function" || conn.transport.perMessageDeflate) return false;
  // ws writes every frame it sends with one synchronous cork()/write()/uncork(), so
  // whole frames of ours cannot end up in the middle of one of its frames.
  for (let left = n; left > 0; left -= CHUNK) {
    tcp.write(left >= CHUNK ? chunks[kind] : chunks[kind].subarray(0, left * EVENTS[kind].length));
  }
  return true;
}

const http = createHttpServer();
const io = new Server(http, { cors: { origin: "*" } });

io.on("connection", (socket) => {
  let sunk = 0;
  let cpu = process.cpuUsage();
  socket.on("push", (spec) => {
    const kind = String(spec?.kind);
    const n = Math.max(0, Math.min(Number(spec?.n) || 0, 10_000_000));
    if (!Object.hasOwn(EVENTS, kind)) return;
    if (!push(socket.conn, kind, n)) process.stderr.write("bench server: push needs a WebSocket transport\n");
  });
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

serveAsChild({ http, io, port, label: "bench socket.io server" });
