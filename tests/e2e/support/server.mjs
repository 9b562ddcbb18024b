// A real socket.io 4.8 server for the end-to-end tests, run as a CHILD PROCESS so that a
// test can kill it (SIGKILL) and start it again on the same port. Start it through
// `startServer()` in ./processes.mjs rather than by hand.
//
// Options (argv, `--name=value`; each also readable from the environment as E2E_<NAME>):
//   --port=<n>              port on 127.0.0.1 (default 0: any free port)
//   --namespaces=/,/admin   namespaces to serve (default "/,/admin")
//   --refuse=/admin         namespaces whose middleware refuses every connection with
//                           Error("not authorized") and data { code: 401 }
//   --stall=/slow           namespaces whose middleware never answers (no CONNECT reply)
//   --ping-interval=<ms>    Engine.IO pingInterval (default 25000)
//   --ping-timeout=<ms>     Engine.IO pingTimeout (default 20000)
//   --recovery              turn connectionStateRecovery on
//   --max-disconnection-duration=<ms>  its maxDisconnectionDuration (default 120000)
//   --hold-ms=<ms>          how long "hold" waits before acknowledging (default 0)
//   --redis=<url>           use @socket.io/redis-streams-adapter over node-redis at url
//                           (a cluster node; reports {"event":"redis-error"} on errors)
//   --exactly-once          attach resocket/server's exactlyOnce helper (src/server) to
//                           every namespace: its memory store, or with --redis its Redis
//                           store on the same Redis
//   --pending-timeout=<ms>  the helper's pendingTimeout (default 30000)
//   --cut-before-hello=<n>  closes each of the first n recovered connections of a
//                           namespace (socket.conn.close()) as it is accepted: after the
//                           session's replay and the CONNECT reply, before the helper's
//                           hello; reports {"event":"cut-before-hello"}
//   --transports=polling    the Engine.IO transports the server accepts, comma-separated
//                           (default "polling,websocket", socket.io's); with "polling"
//                           alone the handshake offers no upgrade
//   --require-header=authorization:Bearer t0k
//                           every namespace's middleware refuses a connection whose
//                           handshake request lacks that header with exactly that value,
//                           with Error("missing header") and data { code: 401 }
//   --cookie=<name>         socket.io's `cookie` option: the handshake answer sets the
//                           cookie <name>=<Engine.IO id> (path /, HttpOnly, SameSite=Lax)
//   --cors-origin=<origin>  the one origin CORS allows (default "*": any)
//   --cors-credentials      CORS allows credentials (needs --cors-origin)
//   --log-requests          reports every HTTP request to the Socket.IO path (see below)
//   --log-writes            reports each numbered "n" event written to a client's
//                           Engine.IO connection (see below)
//   --no-keep-alive         every HTTP answer carries `Connection: close` (one request per
//                           TCP connection): a browser silently resends a request that
//                           died on a reused keep-alive connection before any byte of its
//                           answer came, so a long-poll answer the server had written
//                           would vanish unseen when a proxy cuts that connection
//
// Output (stdout, one JSON object per line):
//   first line: {"port": <n>}  once it listens
//   then one line per thing a test may want to check:
//     {"event":"connection","nsp":"/","id":"…","connId":"…","recovered":false,"token":…,"queryToken":…,
//      "transport":"polling"|"websocket"}
//       (token: the `token` field of the client's auth payload, if any; queryToken: the
//       `token` parameter of the connection's query; transport: the Engine.IO transport
//       the connection is on when the namespace accepts it)
//     {"event":"upgrade","connId":"…","transport":"websocket"}
//       (an Engine.IO connection completed its upgrade to that transport; connId is the
//       connection lines' connId)
//     {"event":"refused-header","nsp":"/","header":"authorization"}   (--require-header)
//     {"event":"request","method":"GET","upgrade":false,"params":{…},"authorization":…,
//      "cookie":…,"origin":…}
//       (--log-requests: one per HTTP request to the Socket.IO path, CORS preflights
//       and WebSocket handshakes included, in arrival order; params: the query string;
//       authorization, cookie, origin: those request headers, or null)
//     {"event":"wrote","connId":"…","n":<n>}
//       (--log-writes: an event ["n", <n>, ...] went into the connection's write buffer,
//       live or replayed; what a client cannot have had from this node otherwise)
//     {"event":"disconnect","nsp":"/","id":"…","connId":"…","reason":"…"}
//       (both with "streamLast": <n>, the last number streamed so far, while a stream
//       of "stream" below runs in this process)
//     {"event":"refused","nsp":"/"}
//     {"event":"note","nsp":"/","id":"…","connId":"…","args":[…]}    (see "note")
//     {"event":"hold"|"flaky"|"join", …}                              (see below)
//     {"event":"stream-started"|"stream-stopped","name":"…","last":<n>}
//     {"event":"transports-dropped","count":<n>}
//     {"event":"not-listening"}
// It exits when its stdin closes (the test runner went away), or on SIGTERM/SIGINT
// (./child-server.mjs).
//
// Commands on stdin, one JSON object a line (a test drives a node no client talks to,
// e.g. the publisher of a cluster, through these):
//   {"cmd":"stream", ...spec}    starts the stream of "stream" below (replacing any)
//   {"cmd":"stream-stop"}        stops it; reports stream-stopped with the last number
//   {"cmd":"drop-transports"}    closes every client's Engine.IO connection
//                                (socket.conn.close(): the server sees "forced close"
//                                and saves the session, the client sees a transport
//                                close and reconnects), as a rolling deploy would
//   {"cmd":"stop-listening"}     closes the listening socket: a new connection is
//                                refused, those established (WebSockets included)
//                                stay, so that a node can hand its clients over
//                                (drop-transports) already unreachable to their next
//                                attempt; reports {"event":"not-listening"}
//
// What every namespace answers (the client drives the server through events):
//   "echo" (...args, ack?)      ack(...args), or emit("echo", ...args) without an ack
//   "noack" (...args, ack)      counts the call and never calls the ack
//   "counters" (ack)            ack({ noack, connections })
//   "whoami" (ack)              ack({ nsp, id, connId, clientsCount })
//   "describe" (...args, ack)   ack(args with every binary replaced by {$bytes:"<hex>"})
//   "send-binary" (ack)         emit("binary", <nested buffers>) then ack(<nested buffers>)
//   "ask" (payload, ack)        emit("question", payload, answerCb) with a 3 s timeout and
//                               ack({ answer: describe(answerArgs) } | { error })
//   "emit-to-me" (name, ...args, ack?)  emit(name, ...args), then ack()
//   "emit-volatile-to-me" (name, ...args, ack?)  volatile.emit(name, ...args), then ack()
//   "kick"                      socket.disconnect(true)
//   "broadcast-later" (ms, name, ...args, ack?)  ack() now, io.of(nsp).emit(name, ...args)
//                               after ms (reaches sockets that reconnect meanwhile, and
//                               is replayed to recovered sessions)
//   "note" (...args, ack?)      reports {"event":"note", args} (in arrival order), then
//                               ack("noted", ...args)
//   "hold" (...args, ack)       reports {"event":"hold", args}; acks ("held", ...args)
//                               after --hold-ms
//   "flaky" (key, n, ack)       counts the tries of `key` in this process, reports
//                               {"event":"flaky", key, try}; acks ({ key, tries }) only
//                               from the n-th try on
//   "join" (room, ack?)         socket.join(room), reports {"event":"join", room}
//   "stream" (spec, ack?)       starts (replacing any) a numbered stream in this process:
//                               every spec.every ms (default 20), spec.batch (default 1)
//                               broadcasts io.of(spec.nsp ?? this nsp)[.to(spec.room)]
//                               .emit(spec.name ?? "n", i) with i = 1, 2, ... up to
//                               spec.count (default and cap 1 000 000); with spec.rate
//                               (events/s) each tick sends what the rate calls for
//                               instead of spec.batch; then ack()
//   "stream-stop" (ack?)        stops it; ack({ last })
import { Server } from "socket.io";

import { createHttpServer, serveAsChild } from "./child-server.mjs";

function option(name, fallback) {
  const prefix = `--${name}=`;
  for (const arg of process.argv.slice(2)) {
    if (arg === `--${name}`) return "true";
    if (arg.startsWith(prefix)) return arg.slice(prefix.length);
  }
  const env = process.env[`E2E_${name.toUpperCase().replaceAll("-", "_")}`];
  return env ?? fallback;
}

const port = Number(option("port", "0"));
const namespaces = option("namespaces", "/,/admin").split(",").filter(Boolean);
const refused = new Set(option("refuse", "").split(",").filter(Boolean));
const stalled = new Set(option("stall", "").split(",").filter(Boolean));
const pingInterval = Number(option("ping-interval", "25000"));
const pingTimeout = Number(option("ping-timeout", "20000"));
const recovery = option("recovery", "false") === "true";
const maxDisconnectionDuration = Number(option("max-disconnection-duration", "120000"));
const holdMs = Number(option("hold-ms", "0"));
const redisUrl = option("redis", "");
const withExactlyOnce = option("exactly-once", "false") === "true";
const pendingTimeout = Number(option("pending-timeout", "30000"));
const cutBeforeHello = Number(option("cut-before-hello", "0"));
const transports = option("transports", "polling,websocket").split(",").filter(Boolean);
const requiredHeader = parseHeader(option("require-header", ""));
const cookieName = option("cookie", "");
const corsOrigin = option("cors-origin", "*");
const corsCredentials = option("cors-credentials", "false") === "true";
const logRequests = option("log-requests", "false") === "true";
const logWrites = option("log-writes", "false") === "true";
const noKeepAlive = option("no-keep-alive", "false") === "true";

/** "name:value" -> { name (lower case), value }, or null for "". */
function parseHeader(spec) {
  if (!spec) return null;
  const colon = spec.indexOf(":");
  if (colon <= 0) throw new Error(`--require-header wants name:value, not ${JSON.stringify(spec)}`);
  return { name: spec.slice(0, colon).trim().toLowerCase(), value: spec.slice(colon + 1).trim() };
}

function report(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

/** Replaces binaries by {$bytes: hex} (and notes their Node type), recursively. */
function describe(value, depth = 0) {
  if (depth > 20) return "<too deep>";
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("hex") };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString("hex") };
  if (ArrayBuffer.isView(value)) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") };
  }
  if (Array.isArray(value)) return value.map((v) => describe(v, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v, depth + 1)]));
  }
  return value;
}

/** The binary payload the server sends: fixed bytes, nested, the test knows them. */
function binaryPayload() {
  return {
    top: Buffer.from([0, 1, 2, 253, 254, 255]),
    nested: { deeper: [Buffer.from("héllo", "utf8"), 42, Buffer.alloc(0)] },
    text: "not binary",
  };
}

const http = createHttpServer();

/** A node-redis client of --redis, for the cluster adapter and the exactly-once store. */
async function redisClient(url) {
  const { createClient } = await import("redis");
  const client = createClient({ url });
  client.on("error", (err) => report({ event: "redis-error", message: String(err?.message ?? err) }));
  await client.connect();
  return client;
}

/** The cluster adapter over Redis Streams, when --redis is given. */
async function redisAdapter(client) {
  const { createAdapter } = await import("@socket.io/redis-streams-adapter");
  // A short XREAD block keeps shutdown quick; the stream is read as soon as it grows.
  return createAdapter(client, { blockTimeInMs: 1000 });
}

const redis = redisUrl ? await redisClient(redisUrl) : null;

const io = new Server(http, {
  pingInterval,
  pingTimeout,
  transports,
  cors: { origin: corsOrigin, ...(corsCredentials ? { credentials: true } : {}) },
  ...(cookieName ? { cookie: { name: cookieName } } : {}),
  ...(recovery ? { connectionStateRecovery: { maxDisconnectionDuration } } : {}),
  ...(redis ? { adapter: await redisAdapter(redis) } : {}),
});

if (withExactlyOnce) {
  const { exactlyOnce, redisStore } = await import("../../../src/server/index.js");
  // Its own Redis connection: the adapter's blocks on XREAD.
  const store = redis ? redisStore(await redisClient(redisUrl)) : undefined;
  exactlyOnce(io, { store, pendingTimeout });
}

const flakyTries = new Map();
let stream = null; // { timer, name, last }

function startStream(spec = {}, defaultNsp = "/") {
  stopStream(false);
  const every = Math.max(1, Math.min(Number(spec.every) || 20, 10_000));
  const batch = Math.max(1, Math.min(Number(spec.batch) || 1, 1000));
  const count = Math.max(1, Math.min(Number(spec.count) || 1_000_000, 1_000_000));
  const name = String(spec.name ?? "n");
  const nsp = io.of(String(spec.nsp ?? defaultNsp));
  // With spec.rate (events/s), each tick catches up with the rate (timers drift).
  const rate = Math.max(0, Math.min(Number(spec.rate) || 0, 100_000));
  const startedAt = Date.now();
  const current = { name, last: 0, timer: null };
  current.timer = setInterval(() => {
    const due = rate ? Math.min(Math.floor(((Date.now() - startedAt) * rate) / 1000) - current.last, 1000) : batch;
    for (let k = 0; k < due && current.last < count; k += 1) {
      current.last += 1;
      (spec.room ? nsp.to(String(spec.room)) : nsp).emit(name, current.last);
    }
    if (current.last >= count) stopStream(true);
  }, every);
  stream = current;
  report({ event: "stream-started", name, every, batch, rate, count, room: spec.room ?? null });
}

function stopStream(reportIt = true) {
  if (!stream) return 0;
  clearInterval(stream.timer);
  const { name, last } = stream;
  stream = null;
  if (reportIt) report({ event: "stream-stopped", name, last });
  return last;
}

let noack = 0;
let connections = 0;

// Upgrades are watched on the Engine.IO connection, not on a namespace's socket: the
// upgrade may complete before any namespace is joined, and once for all of them.
io.engine.on("connection", (conn) => {
  conn.on("upgrade", (transport) => report({ event: "upgrade", connId: conn.id, transport: transport.name }));
  if (logWrites) {
    conn.on("packetCreate", ({ type, data }) => {
      const n = type == "message" && typeof data == "string" ? /^2(?:\/[^,]*,)?\["n",(\d+)/.exec(data) : null;
      if (n) report({ event: "wrote", connId: conn.id, n: Number(n[1]) });
    });
  }
});

if (noKeepAlive) {
  // Set before socket.io answers: its own headers are merged with this one.
  http.prependListener("request", (req, res) => res.setHeader("connection", "close"));
}

if (logRequests) {
  // Prepended, so that each request is seen before socket.io answers (or refuses) it.
  const logRequest = (req) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (!url.pathname.startsWith("/socket.io/")) return;
    report({
      event: "request",
      method: req.method,
      upgrade: /websocket/i.test(req.headers.upgrade ?? ""),
      params: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization ?? null,
      cookie: req.headers.cookie ?? null,
      origin: req.headers.origin ?? null,
    });
  };
  http.prependListener("request", logRequest);
  http.prependListener("upgrade", (req, socket) => {
    logRequest(req);
    // Without websocket among the transports socket.io listens to no upgrade, and this
    // listener alone would leave the socket open: refuse it as Node does by default.
    if (http.listenerCount("upgrade") === 1) socket.destroy();
  });
}

for (const name of namespaces) {
  const nsp = io.of(name);
  if (refused.has(name)) {
    nsp.use((socket, next) => {
      report({ event: "refused", nsp: name });
      next(Object.assign(new Error("not authorized"), { data: { code: 401 } }));
    });
  }
  if (requiredHeader) {
    nsp.use((socket, next) => {
      if (socket.handshake.headers[requiredHeader.name] === requiredHeader.value) return next();
      report({ event: "refused-header", nsp: name, header: requiredHeader.name });
      next(Object.assign(new Error("missing header"), { data: { code: 401 } }));
    });
  }
  if (stalled.has(name)) {
    nsp.use((socket) => report({ event: "stalled", nsp: name, id: socket.id }));
  }
  let toCut = cutBeforeHello;
  if (toCut > 0) {
    // Prepended after the helper's own: runs first, so that its hello finds the
    // connection closing and is never written.
    nsp.prependListener("connect", (socket) => {
      if (toCut <= 0 || !socket.recovered) return;
      toCut -= 1;
      report({ event: "cut-before-hello", nsp: name, id: socket.id, recovered: socket.recovered });
      socket.conn.close();
    });
  }
  nsp.on("connection", (socket) => {
    connections += 1;
    const connId = socket.conn.id;
    // With a stream running, `streamLast` tells how far it was at this moment.
    const streamLast = () => (stream ? { streamLast: stream.last } : {});
    const token = socket.handshake.auth?.token;
    const queryToken = socket.handshake.query?.token;
    const transport = socket.conn.transport.name;
    report({ event: "connection", nsp: name, id: socket.id, connId, recovered: socket.recovered, token, queryToken, transport, ...streamLast() });
    socket.on("disconnect", (reason) => {
      report({ event: "disconnect", nsp: name, id: socket.id, connId, reason, ...streamLast() });
    });

    const split = (args) => {
      const ack = typeof args.at(-1) === "function" ? args.pop() : null;
      return [args, ack];
    };
    socket.on("echo", (...all) => {
      const [args, ack] = split(all);
      if (ack) ack(...args);
      else socket.emit("echo", ...args);
    });
    socket.on("noack", () => {
      noack += 1; // the ack callback, if any, is dropped on purpose
    });
    socket.on("counters", (ack) => ack?.({ noack, connections }));
    socket.on("whoami", (ack) =>
      ack?.({ nsp: socket.nsp.name, id: socket.id, connId, clientsCount: io.engine.clientsCount }),
    );
    socket.on("describe", (...all) => {
      const [args, ack] = split(all);
      ack?.(describe(args));
    });
    socket.on("send-binary", (ack) => {
      socket.emit("binary", binaryPayload());
      ack?.(binaryPayload());
    });
    socket.on("ask", (payload, ack) => {
      socket.timeout(3000).emit("question", payload, (err, ...answer) => {
        ack?.(err ? { error: String(err.message ?? err) } : { answer: describe(answer) });
      });
    });
    socket.on("emit-to-me", (...all) => {
      const [[event, ...args], ack] = split(all);
      socket.emit(event, ...args);
      ack?.();
    });
    socket.on("emit-volatile-to-me", (...all) => {
      const [[event, ...args], ack] = split(all);
      socket.volatile.emit(event, ...args);
      ack?.();
    });
    socket.on("kick", () => socket.disconnect(true));
    socket.on("broadcast-later", (...all) => {
      const [[ms, event, ...args], ack] = split(all);
      setTimeout(() => nsp.emit(event, ...args), Math.min(Number(ms) || 0, 10_000));
      ack?.();
    });
    socket.on("note", (...all) => {
      const [args, ack] = split(all);
      report({ event: "note", nsp: name, id: socket.id, connId, args });
      ack?.("noted", ...args);
    });
    socket.on("hold", (...all) => {
      const [args, ack] = split(all);
      report({ event: "hold", nsp: name, id: socket.id, connId, args });
      if (ack) setTimeout(() => ack("held", ...args), Math.min(holdMs, 600_000));
    });
    socket.on("flaky", (key, needed, ack) => {
      const tries = (flakyTries.get(key) ?? 0) + 1;
      flakyTries.set(key, tries);
      report({ event: "flaky", nsp: name, id: socket.id, connId, key, try: tries });
      if (tries >= Number(needed) && typeof ack === "function") ack({ key, tries });
    });
    socket.on("join", (room, ack) => {
      socket.join(String(room));
      report({ event: "join", nsp: name, id: socket.id, connId, room });
      if (typeof ack === "function") ack();
    });
    socket.on("stream", (spec, ack) => {
      startStream(spec && typeof spec === "object" ? spec : {}, name);
      if (typeof ack === "function") ack();
    });
    socket.on("stream-stop", (ack) => {
      const last = stopStream(true);
      if (typeof ack === "function") ack({ last });
    });
  });
}

function command(line) {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    return;
  }
  if (cmd?.cmd === "stream") startStream(cmd, "/");
  else if (cmd?.cmd === "stream-stop") stopStream(true);
  else if (cmd?.cmd === "drop-transports") {
    let count = 0;
    for (const client of io.engine.clients instanceof Map ? io.engine.clients.values() : Object.values(io.engine.clients)) {
      client.close();
      count += 1;
    }
    report({ event: "transports-dropped", count });
  } else if (cmd?.cmd === "stop-listening") {
    http.close();
    report({ event: "not-listening" });
  }
}

serveAsChild({ http, io, port, label: "e2e socket.io server", onLine: command });
