// A real socket.io 4.8 server for the browser tests (`npm test` starts it).
//
// Listens on 127.0.0.1, port 0 (or $PORT), and prints one JSON line on stdout once it
// listens: {"port": <port>, "closedPort": <a loopback port nobody listens on>}.
// Exits when its stdin closes (the runner died) or on SIGTERM/SIGINT.
//
// Configuration the Rust tests rely on: pingInterval 300 ms, pingTimeout 200 ms,
// connection state recovery on, the namespaces "/" and "/second" with the events of
// `handlers` below. Besides the socket.io endpoint it answers, with CORS
// open to any origin (the test page is served from another port):
//   GET /test/engine/<sid>  -> {"open": true} while that Engine.IO session is alive,
//                              then {"open": false, "reason": "<why the server closed it>"}
//                              (e.g. "transport close", "ping timeout")
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { Server } from "socket.io";

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;

// A port that was free a moment ago and on which nothing listens now.
function closedPort() {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function json(res, status, body) {
  res.writeHead(status, {
    "content-type": "application/json",
    "access-control-allow-origin": "*",
    "cache-control": "no-store",
  });
  res.end(JSON.stringify(body));
}

const http = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const engine = /^\/test\/engine\/([^/]+)$/.exec(url.pathname);
  if (req.method === "GET" && engine) {
    const sid = decodeURIComponent(engine[1]);
    if (Object.hasOwn(io.engine.clients, sid)) return json(res, 200, { open: true });
    return json(res, 200, { open: false, reason: closeReasons.get(sid) ?? null });
  }
  json(res, 404, { error: "not found" });
});

const io = new Server(http, {
  pingInterval: PING_INTERVAL,
  pingTimeout: PING_TIMEOUT,
  cors: { origin: "*" },
  connectionStateRecovery: {},
});

// Why each Engine.IO session closed, for the most recent sessions.
const closeReasons = new Map();
io.engine.on("connection", (socket) => {
  socket.once("close", (reason) => {
    closeReasons.set(socket.id, reason);
    if (closeReasons.size > 1000) closeReasons.delete(closeReasons.keys().next().value);
  });
});

// The Rust API's tests (tests/browser_client.rs) use these events on every namespace.
function handlers(socket) {
  socket.on("echo", (...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : null;
    if (ack) ack(...args);
    else socket.emit("echo", ...args);
  });
  // The Engine.IO session, the auth payload and the test header this socket came with.
  socket.on("whoami", (ack) =>
    ack({
      engine: socket.conn.id,
      auth: socket.handshake.auth,
      header: socket.handshake.headers["x-resocket-test"] ?? null,
    }),
  );
  // Asks the client `question` with an acknowledgement, then reports the reply.
  socket.on("ask", (question) => socket.emit("question", question, (reply) => socket.emit("answered", reply)));
  // Joins `room`, acknowledges, sends `tick` 0 to the room at once and 1..count-1 after
  // `delay` ms: a client away meanwhile gets those back with its recovered session (the
  // server recovers a session only from the offset of an event the client received).
  socket.on("ticks", (room, count, delay, ack) => {
    socket.join(room);
    ack();
    io.to(room).emit("tick", 0);
    setTimeout(() => {
      for (let n = 1; n < count; n++) io.to(room).emit("tick", n);
    }, delay);
  });
}
io.on("connection", handlers);
io.of("/second").on("connection", handlers);

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  io.close();
  http.closeAllConnections?.();
  // Do not wait for slow clients: the runner is gone or asked us to stop.
  setTimeout(() => process.exit(code), 200).unref();
}

process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));
process.stdin.on("end", () => stop(0));
process.stdin.on("error", () => stop(0));
process.stdin.resume();

const closed = await closedPort();
http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = http.address();
  process.stdout.write(JSON.stringify({ port, closedPort: closed }) + "\n");
});
http.on("error", (err) => {
  console.error(`socketio-server: ${err.message}`);
  process.exit(1);
});
