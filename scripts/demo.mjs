// The demo behind `npm start` (which builds pkg/ first): one HTTP server on 127.0.0.1
// that serves the page (www/), the built npm package (pkg/, under /pkg/) and a real
// socket.io 4.8 server with connection state recovery, on the same origin.
// Runs until Ctrl-C. PORT=<n> picks the port (default 8080, else any free one).
//
// What the socket.io server does, for the page to use:
//   "message" (text)      -> broadcast to everyone as "message" ({ from, text })
//   "echo" (...args, ack) -> ack(...args), or emitted back as "echo" without an ack
//   every second          -> "tick" (n) to everyone, so that events missed while
//                            disconnected can be seen being recovered
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Server } from "socket.io";

const root = fileURLToPath(new URL("..", import.meta.url));
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

// Maps a URL path to a file under www/ or pkg/, refusing anything outside them.
function fileFor(pathname) {
  let base = join(root, "www");
  let rest = pathname;
  if (pathname === "/pkg" || pathname.startsWith("/pkg/")) {
    base = join(root, "pkg");
    rest = pathname.slice("/pkg".length);
  }
  if (rest === "" || rest.endsWith("/")) rest += "index.html";
  const file = normalize(join(base, rest));
  return file.startsWith(base + sep) ? file : null;
}

async function serveStatic(req, res) {
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
  } catch {
    res.writeHead(400).end("bad request\n");
    return;
  }
  const file = fileFor(pathname);
  const info = file && (await stat(file).catch(() => null));
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
  } else if (!info?.isFile()) {
    const hint = pathname.startsWith("/pkg/") ? " (run `npm run build` to build pkg/)" : "";
    res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${pathname}${hint}\n`);
  } else {
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": info.size,
      "cache-control": "no-cache",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  }
}

const http = createServer((req, res) => {
  serveStatic(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});

const io = new Server(http, { connectionStateRecovery: {} });
io.on("connection", (socket) => {
  console.log(`connect ${socket.id}${socket.recovered ? " (recovered)" : ""}`);
  socket.on("message", (text) => io.emit("message", { from: socket.id, text }));
  socket.on("echo", (...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : null;
    if (ack) ack(...args);
    else socket.emit("echo", ...args);
  });
  socket.on("disconnect", (reason) => console.log(`disconnect ${socket.id}: ${reason}`));
});
let n = 0;
const ticker = setInterval(() => io.emit("tick", ++n), 1000);

function shutdown() {
  clearInterval(ticker);
  io.close();
  setTimeout(() => process.exit(0), 500).unref();
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

function listen(port) {
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => {
      http.off("error", reject);
      resolve(http.address().port);
    });
  });
}

let port;
try {
  port = await listen(Number(process.env.PORT ?? 8080));
} catch (err) {
  if (err.code !== "EADDRINUSE" || process.env.PORT) throw err;
  port = await listen(0);
}
console.log(`resocket demo: http://127.0.0.1:${port}/  (socket.io server on the same origin; Ctrl-C to stop)`);

