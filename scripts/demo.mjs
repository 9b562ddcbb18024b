// The demo behind `npm start` (which builds pkg/ first). Runs until Ctrl-C.
//
//   node scripts/demo.mjs [--port N] [--cluster | --failover]
//
// One HTTP server on 127.0.0.1 (the "front"), which stays up the whole time and
//   - serves the page (www/) and the built npm package (pkg/, under /pkg/);
//   - proxies /socket.io/ (WebSocket upgrades and plain requests) to the socket.io
//     server node(s), round-robin over the nodes that are alive, sticky per Engine.IO
//     session (long-polling needs every request of a session on its node); a request
//     whose query names a node (`node=B`) goes to that node alone, and is refused (503)
//     while it is down: the page's failover list (`/?failover`) is one URL per node,
//     `/?node=A` and `/?node=B`, all on this one origin, so that the page needs no
//     other origin to be let in (a real deployment lists its servers' own URLs);
//   - answers the page's control endpoints (below), which kill and restart the nodes.
// Each socket.io node is a CHILD PROCESS (this same file, run with --role=node), so
// that it can be killed like a crashed server and started again while the page stays
// open. Nodes run socket.io 4.8 with connection state recovery.
//
//   default     one node, in-memory adapter: recovery works across dropped transports
//               and network blips, not across a server restart (its memory is gone).
//   --cluster   two nodes ("A" and "B") sharing a redis-server that this script starts
//               on a free loopback port (and stops on exit), through
//               @socket.io/redis-streams-adapter: a reconnection may land on the other
//               node and still recover its session, which the adapter keeps in Redis.
//   --failover  two independent nodes ("A" and "B", in-memory adapters, no Redis), for
//               the page's failover list: a client that moves to the other node gets a
//               new session there (recovered false), and sees the ticks it missed as a gap.
//
// Port: --port N (or --port=N, or PORT=N). Default 8080, or any free port if 8080 is
// taken; --port 0 always picks a free one. Once listening it prints one line
//   resocket demo: http://127.0.0.1:<port>/ ...
// (the end-to-end test reads the URL from it).
//
// Every request and WebSocket upgrade must name this server in its Host header
// (127.0.0.1, localhost or [::1], with its port) and, when it has an Origin header, come
// from the demo's own origin; anything else gets 403. That keeps other sites out even
// through DNS rebinding (a foreign name made to resolve to 127.0.0.1 still sends its
// own Host), and keeps their pages from using the /socket.io/ proxy.
//
// Control endpoints (POST needs the header `x-resocket-demo: 1`, which cross-site pages
// cannot send without a CORS preflight that is never granted; a form or an <img> can
// neither send it nor make a POST out of a GET):
//   GET  /control/status                          {mode, nodes: [{name, alive, pid, ...}]}
//   POST /control/kill?node=A|B|all&signal=SIGKILL|SIGTERM   (default: all, SIGKILL)
//   POST /control/restart?node=A|B|all            start the node(s); stops live ones first
// Both POSTs answer with the status once done.
//
// What a socket.io node does, for the page to use:
//   on connection         -> "welcome" ({ node, recovered }) to that socket
//   "message" (text, ack?) -> printed on the console (escaped), so that whoever runs the
//                             demo sees what reached the server, and how many times;
//                             broadcast "message" ({ from, node, text }); ack(true)
//   "echo" (...args, ack)  -> ack(...args), or emitted back as "echo" without an ack
//   every 200 ms           -> "tick" (n) to everyone, from one node at a time (the
//                             front picks it, and the count goes on where the last one
//                             stopped, across restarts and nodes): a gap in the numbers
//                             a client sees is ticks sent while it was away that its
//                             new session did not recover. Independent nodes
//                             (--failover) share no adapter: the front relays each
//                             number to the other live nodes, which emit it to theirs.
import { fork } from "node:child_process";
import { createServer, request as httpRequest } from "node:http";
import { connect as netConnect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { exited, freePort, spawnTracked, stopChild, track } from "./children.mjs";
import { sendFile, under } from "./static-files.mjs";

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TICK_MS = 200;

/** `--name value`, `--name=value` or a bare `--name` ("true"); else `fallback`. */
function option(name, fallback) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
    if (arg === `--${name}`) {
      const next = argv[i + 1];
      return next !== undefined && !next.startsWith("--") ? next : "true";
    }
  }
  return fallback;
}

/**
 * `text` quoted, with every control character escaped: a message printed on the console
 * must not be able to drive the terminal (C1 codes included, which JSON leaves as they are).
 */
function printable(text) {
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

if (option("role", "front") === "node") await runNode();
else await runFront();

// ---------------------------------------------------------------------------------
// A socket.io node (child process, talks to the front through the IPC channel).
// ---------------------------------------------------------------------------------

async function runNode() {
  const { Server } = await import("socket.io");
  const name = option("name", "A");
  const redisUrl = option("redis", "");
  const log = (text) => console.log(`[node ${name}] ${text}`);

  let redis = null;
  const serverOptions = {
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
  };
  if (redisUrl) {
    const { createClient } = await import("redis");
    const { createAdapter } = await import("@socket.io/redis-streams-adapter");
    redis = createClient({ url: redisUrl });
    redis.on("error", (err) => log(`redis: ${err.message}`));
    await redis.connect();
    serverOptions.adapter = createAdapter(redis);
  }

  const http = createServer((req, res) => res.writeHead(404).end());
  const io = new Server(http, serverOptions);
  io.on("connection", (socket) => {
    log(`connect ${socket.id}${socket.recovered ? " (recovered)" : ""}`);
    socket.emit("welcome", { node: name, recovered: socket.recovered });
    socket.on("message", (text, ack) => {
      const said = String(text).slice(0, 200);
      log(`message ${printable(said)} from ${socket.id}`);
      io.emit("message", { from: socket.id, node: name, text: said });
      if (typeof ack === "function") ack(true);
    });
    socket.on("echo", (...args) => {
      const ack = typeof args.at(-1) === "function" ? args.pop() : null;
      if (ack) ack(...args);
      else socket.emit("echo", ...args);
    });
    socket.on("disconnect", (reason) => log(`disconnect ${socket.id}: ${reason}`));
  });

  // The ticker: only the node the front names ticks (one source of numbers even in a
  // cluster, where io.emit reaches the other node's clients through Redis), counting on
  // from `from`, the last number sent by any node. The front hears of each number
  // before it is emitted: a crash in between costs a number, never repeats one.
  let ticker = null;
  const startTicking = (from) => {
    if (ticker) return;
    let n = from;
    const start = Date.now();
    let k = 0;
    const next = () => {
      k += 1;
      ticker = setTimeout(() => {
        n += 1;
        process.send({ type: "tick", n }, () => {});
        io.emit("tick", n);
        next();
      }, Math.max(0, start + k * TICK_MS - Date.now()));
    };
    next();
  };
  const stopTicking = () => {
    clearTimeout(ticker);
    ticker = null;
  };

  let closing = false;
  async function shutdown() {
    if (closing) return;
    closing = true;
    stopTicking();
    // Disconnects every client with "server shutting down", a reason socket.io keeps
    // the session for (in Redis in a cluster, where another node can recover it).
    await new Promise((resolve) => io.close(() => resolve()));
    if (redis) await redis.quit().catch(() => {});
    process.exit(0);
  }
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  process.on("disconnect", shutdown); // the front went away
  process.on("message", (msg) => {
    if (msg?.type === "ticker") {
      if (msg.on) startTicking(msg.from ?? 0);
      else stopTicking();
    }
    if (msg?.type === "relayed-tick" && !ticker && Number.isInteger(msg.n)) io.emit("tick", msg.n);
  });

  await new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", resolve);
  });
  process.send({ type: "listening", port: http.address().port });
}

// ---------------------------------------------------------------------------------
// The front: static files, the /socket.io/ proxy, the control endpoints, the nodes.
// ---------------------------------------------------------------------------------

async function runFront() {
  const cluster = option("cluster", "false") !== "false";
  const failover = !cluster && option("failover", "false") !== "false";
  const mode = cluster ? "cluster" : failover ? "failover" : "single";
  let lastTick = 0; // the last "tick" number any node sent
  const nodes = (cluster || failover ? ["A", "B"] : ["A"]).map((name) => ({
    name,
    child: null,
    port: null,
    pid: null,
    alive: false,
    starting: null,
    ticking: false,
    startedAt: null,
    sockets: new Set(), // proxied connections to this node
  }));
  let redis = null; // { child, port, url }
  let roundRobin = 0;
  let stopping = false;

  async function startRedis() {
    const bin = process.env.REDIS_SERVER || "/usr/bin/redis-server";
    const port = await freePort();
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    const child = spawnTracked(bin, args, { stdio: ["ignore", "ignore", "inherit"] });
    await new Promise((resolve, reject) => {
      child.once("error", (err) => reject(new Error(`cannot run ${bin}: ${err.message}`)));
      const deadline = Date.now() + 5000;
      const probe = () => {
        if (exited(child)) return reject(new Error(`${bin} exited at once`));
        const socket = netConnect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve();
        });
        socket.once("error", () => {
          socket.destroy();
          if (Date.now() > deadline) reject(new Error(`${bin}: not listening on ${port} after 5 s`));
          else setTimeout(probe, 50);
        });
      };
      probe();
    });
    console.log(`redis-server (pid ${child.pid}) on 127.0.0.1:${port}`);
    return { child, port, url: `redis://127.0.0.1:${port}` };
  }

  /**
   * Makes sure one live node ticks: the one that does keeps doing so; when it is gone,
   * the first live node takes over, from the last number sent.
   */
  function assignTicker() {
    if (nodes.some((n) => n.alive && n.ticking)) return;
    const leader = nodes.find((n) => n.alive);
    if (!leader) return;
    leader.ticking = true;
    leader.child.send({ type: "ticker", on: true, from: lastTick }, () => {});
  }

  function startNode(node) {
    if (node.alive) return Promise.resolve();
    if (node.starting) return node.starting;
    const args = ["--role=node", `--name=${node.name}`];
    if (redis) args.push(`--redis=${redis.url}`);
    const child = track(fork(SELF, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    node.starting = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stopChild(child, "SIGKILL");
        reject(new Error(`node ${node.name}: not listening after 10 s`));
      }, 10_000);
      child.on("message", (msg) => {
        if (msg?.type === "tick" && Number.isInteger(msg.n)) {
          lastTick = Math.max(lastTick, msg.n);
          if (failover) {
            for (const other of nodes) {
              if (other.alive && other.child !== child) other.child.send({ type: "relayed-tick", n: msg.n }, () => {});
            }
          }
        }
        if (msg?.type !== "listening") return;
        clearTimeout(timer);
        Object.assign(node, { child, port: msg.port, pid: child.pid, alive: true, ticking: false, startedAt: Date.now() });
        console.log(`node ${node.name} (pid ${child.pid}) up on 127.0.0.1:${msg.port}`);
        assignTicker();
        resolve();
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (node.child === child) {
          Object.assign(node, { child: null, alive: false, port: null, ticking: false });
          for (const socket of node.sockets) socket.destroy();
          node.sockets.clear();
          if (!stopping) console.log(`node ${node.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`})`);
          assignTicker();
        }
        reject(new Error(`node ${node.name} exited (${signal ?? code})`));
      });
    }).finally(() => {
      node.starting = null;
    });
    return node.starting;
  }

  async function killNode(node, signal) {
    const child = node.child;
    if (!child) return;
    await stopChild(child, signal, signal === "SIGKILL" ? 5000 : 3000);
  }

  function pickNode() {
    const live = nodes.filter((n) => n.alive);
    if (!live.length) return null;
    roundRobin = (roundRobin + 1) % live.length;
    return live[roundRobin];
  }

  // Sticky sessions: every request of an Engine.IO session (long-polling GETs and POSTs,
  // the WebSocket of an upgrade) must reach the node that holds it, so a request naming
  // a session goes where its handshake went; the others are spread round-robin. A
  // request naming a node (a failover list's URL) goes there or nowhere: were it sent
  // elsewhere, the client would never see that URL fail.
  const sessions = new Map(); // Engine.IO sid -> node
  function nodeFor(url) {
    const query = new URL(url, "http://front").searchParams;
    if (query.has("node")) {
      const pinned = nodes.find((n) => n.name === query.get("node"));
      return pinned?.alive ? pinned : null;
    }
    const sid = query.get("sid");
    const node = sid && sessions.get(sid);
    return node?.alive ? node : pickNode();
  }
  // Learns the sid of a handshake answered by `node` from the first bytes of its body.
  function learnSession(node, up) {
    up.once("data", (chunk) => {
      const sid = /^0\{"sid":"([^"]+)"/.exec(chunk.toString("latin1"))?.[1];
      if (!sid) return;
      if (sessions.size >= 10_000) sessions.clear();
      sessions.set(sid, node);
    });
  }

  function status() {
    return {
      mode,
      adapter: cluster ? "@socket.io/redis-streams-adapter" : failover ? "in-memory, one per node" : "in-memory",
      redis: redis ? { pid: redis.child.pid, port: redis.port } : null,
      tickMs: TICK_MS,
      nodes: nodes.map((n) => ({
        name: n.name,
        alive: n.alive,
        pid: n.alive ? n.pid : null,
        ticking: n.ticking,
        connections: n.sockets.size,
        upSince: n.alive ? n.startedAt : null,
      })),
    };
  }

  // --- static files -----------------------------------------------------------------

  // Maps a URL path to a file under www/ or pkg/, refusing anything outside them.
  function fileFor(pathname) {
    let base = join(ROOT, "www");
    let rest = pathname;
    if (pathname === "/pkg" || pathname.startsWith("/pkg/")) {
      base = join(ROOT, "pkg");
      rest = pathname.slice("/pkg".length);
    }
    if (rest === "" || rest.endsWith("/")) rest += "index.html";
    return under(base, rest);
  }

  async function serveStatic(req, res, pathname) {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const hint = pathname.startsWith("/pkg/") ? " (run `npm run build` to build pkg/)" : "";
    // (Node sends no body in the answer to a HEAD request.)
    await sendFile(res, fileFor(pathname), pathname, { headers: { "cache-control": "no-cache" }, hint });
  }

  // --- who may talk to this server ---------------------------------------------------

  const OWN_NAMES = ["127.0.0.1", "localhost", "[::1]"];

  /** Why `req` is not for this server (a foreign Host or Origin), or null when it is. */
  function foreign(req) {
    const port = front.address()?.port;
    const host = String(req.headers.host ?? "").toLowerCase();
    // Browsers leave the port out of Host (and Origin) only when it is the default one.
    const ours = OWN_NAMES.some((name) => host === `${name}:${port}` || (port === 80 && host === name));
    if (!ours) return `foreign Host ${JSON.stringify(req.headers.host ?? "")}`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== `http://${host}`) return `foreign Origin ${JSON.stringify(origin)}`;
    return null;
  }

  // --- control endpoints ------------------------------------------------------------

  function json(res, code, body) {
    res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  }

  async function control(req, res, url) {
    const action = url.pathname.slice("/control/".length);
    if (action === "status" && req.method === "GET") return json(res, 200, status());
    if (req.method !== "POST") return json(res, 405, { error: "POST only" });
    if (req.headers["x-resocket-demo"] !== "1") return json(res, 403, { error: "missing x-resocket-demo header" });
    const which = url.searchParams.get("node") ?? "all";
    const targets = which === "all" ? nodes : nodes.filter((n) => n.name === which);
    if (!targets.length) return json(res, 404, { error: `no node ${which}` });
    if (action === "kill") {
      const signal = url.searchParams.get("signal") === "SIGTERM" ? "SIGTERM" : "SIGKILL";
      console.log(`control: ${signal} node(s) ${targets.map((n) => n.name).join(", ")}`);
      await Promise.all(targets.map((n) => killNode(n, signal)));
      return json(res, 200, status());
    }
    if (action === "restart") {
      console.log(`control: restart node(s) ${targets.map((n) => n.name).join(", ")}`);
      await Promise.all(targets.map((n) => killNode(n, "SIGTERM")));
      try {
        await Promise.all(targets.map((n) => startNode(n)));
      } catch (err) {
        return json(res, 500, { error: err.message, ...status() });
      }
      return json(res, 200, status());
    }
    return json(res, 404, { error: `no action ${action}` });
  }

  // --- the /socket.io/ proxy ----------------------------------------------------------

  function isSocketIo(pathname) {
    return pathname === "/socket.io" || pathname.startsWith("/socket.io/");
  }

  function proxyRequest(req, res) {
    const node = nodeFor(req.url);
    if (!node) return json(res, 503, { error: "no socket.io server is up for this request" });
    const upstream = httpRequest(
      { host: "127.0.0.1", port: node.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        learnSession(node, up);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) json(res, 502, { error: "socket.io server unreachable" });
      else res.destroy();
    });
    req.pipe(upstream);
  }

  function refuseUpgrade(socket, status) {
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    socket.on("error", () => {});
  }

  function proxyUpgrade(req, socket, head) {
    const node = nodeFor(req.url);
    if (!node) return refuseUpgrade(socket, "503 Service Unavailable");
    const upstream = netConnect(node.port, "127.0.0.1");
    node.sockets.add(socket);
    let piped = false;
    const close = () => {
      node.sockets.delete(socket);
      if (!piped && !socket.destroyed) refuseUpgrade(socket, "502 Bad Gateway");
      else socket.destroy();
      upstream.destroy();
    };
    upstream.once("connect", () => {
      let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      upstream.write(`${lines}\r\n`);
      if (head?.length) upstream.write(head);
      upstream.setNoDelay(true);
      socket.setNoDelay(true);
      upstream.pipe(socket);
      socket.pipe(upstream);
      piped = true;
    });
    upstream.on("error", close);
    upstream.on("close", close);
    socket.on("error", close);
    socket.on("close", close);
  }

  // --- the front server ------------------------------------------------------------------

  const front = createServer((req, res) => {
    const refused = foreign(req);
    if (refused) {
      console.log(`refused ${req.method} ${JSON.stringify(req.url)}: ${refused}`);
      res.writeHead(403, { "content-type": "text/plain", "cache-control": "no-store" }).end("forbidden\n");
      return;
    }
    let url;
    try {
      url = new URL(req.url ?? "/", "http://127.0.0.1");
      decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400).end("bad request\n");
      return;
    }
    const pathname = decodeURIComponent(url.pathname);
    let work;
    if (isSocketIo(pathname)) work = Promise.resolve(proxyRequest(req, res));
    else if (pathname.startsWith("/control/")) work = control(req, res, url);
    else work = serveStatic(req, res, pathname);
    work.catch((err) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  front.on("upgrade", (req, socket, head) => {
    socket.on("error", () => {});
    const refused = foreign(req);
    if (refused) {
      console.log(`refused upgrade ${JSON.stringify(req.url)}: ${refused}`);
      refuseUpgrade(socket, "403 Forbidden");
      return;
    }
    let pathname = "";
    try {
      pathname = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    } catch {
      // refused below
    }
    if (isSocketIo(pathname)) proxyUpgrade(req, socket, head);
    else refuseUpgrade(socket, "404 Not Found");
  });

  async function shutdown(code = 0) {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping…");
    front.closeAllConnections?.();
    front.close();
    await Promise.all(nodes.map((n) => n.child && stopChild(n.child, "SIGTERM", 2000)));
    if (redis) await stopChild(redis.child, "SIGTERM", 2000);
    process.exit(code);
  }
  process.on("SIGINT", () => shutdown(0));
  process.on("SIGTERM", () => shutdown(0));

  function listen(port) {
    return new Promise((resolve, reject) => {
      front.once("error", reject);
      front.listen(port, "127.0.0.1", () => {
        front.off("error", reject);
        resolve(front.address().port);
      });
    });
  }

  try {
    if (cluster) redis = await startRedis();
    await Promise.all(nodes.map((n) => startNode(n)));
  } catch (err) {
    console.error(`resocket demo: ${err.message}`);
    await shutdown(1);
  }

  const requested = option("port", process.env.PORT);
  let port;
  try {
    port = await listen(Number(requested ?? 8080));
  } catch (err) {
    if (err.code !== "EADDRINUSE" || requested !== undefined) {
      console.error(`resocket demo: cannot listen: ${err.message}`);
      await shutdown(1);
    }
    port = await listen(0);
  }
  const what = cluster
    ? "2 socket.io nodes over Redis streams, round-robin"
    : failover
      ? "2 independent socket.io nodes; /?failover for the failover list"
      : "socket.io server with connection state recovery";
  console.log(`resocket demo: http://127.0.0.1:${port}/  (${what}; Ctrl-C to stop)`);
}
