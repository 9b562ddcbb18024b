// The in-process static HTTP server of the e2e tests (127.0.0.1, port 0):
//   /            the test page (./page/index.html)
//   /e2e/…       the page's helpers (./page/)
//   /pkg/…       the built npm package (pkg/ at the repository root)
//
// Reference mode: with RESOCKET_E2E_CLIENT=socket.io-client (and `socket.io-client`
// installed, e.g. `npm install --no-save socket.io-client@4.8.4`), /pkg/index.js is a
// shim re-exporting socket.io-client instead, so that the tests themselves can be
// checked against the incumbent. It is expected to fail where resocket promises better
// (listener errors, going online, malformed frames) and has no wasm memory to report.
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PAGE_DIR = fileURLToPath(new URL("./page/", import.meta.url));
const PKG_DIR = join(ROOT, "pkg");

export const referenceMode = process.env.RESOCKET_E2E_CLIENT === "socket.io-client";

function referenceDir() {
  try {
    const manifest = createRequire(import.meta.url).resolve("socket.io-client/package.json");
    return join(dirname(manifest), "dist");
  } catch {
    return null;
  }
}
const REFERENCE_DIR = referenceMode ? referenceDir() : null;

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
};

const REFERENCE_SHIM = `export * from "/reference/socket.io.esm.min.js";
export function stats() { return { wasmMemoryBytes: NaN }; }
`;

function under(base, rest) {
  const file = normalize(join(base, rest));
  return file.startsWith(base.endsWith(sep) ? base : base + sep) ? file : null;
}

function fileFor(pathname) {
  if (pathname === "/" || pathname === "/index.html") return join(PAGE_DIR, "index.html");
  if (pathname.startsWith("/e2e/")) return under(PAGE_DIR, pathname.slice("/e2e/".length));
  if (pathname.startsWith("/pkg/")) return under(PKG_DIR, pathname.slice("/pkg/".length));
  if (referenceMode && pathname.startsWith("/reference/")) {
    return under(REFERENCE_DIR, pathname.slice("/reference/".length));
  }
  return null;
}

async function serve(req, res) {
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const headers = { "cache-control": "no-store" };
  if (referenceMode && pathname === "/pkg/index.js") {
    res.writeHead(200, { ...headers, "content-type": TYPES[".js"] }).end(REFERENCE_SHIM);
    return;
  }
  const file = fileFor(pathname);
  const info = file && (await stat(file).catch(() => null));
  // Read whole (the files are small): the length sent always matches the body, even
  // if a build rewrites pkg/ meanwhile.
  const body = info?.isFile() ? await readFile(file).catch(() => null) : null;
  if (!body) {
    res.writeHead(404, { ...headers, "content-type": "text/plain" }).end(`not found: ${pathname}\n`);
    return;
  }
  res.writeHead(200, {
    ...headers,
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": body.length,
  });
  res.end(body);
}

/** Starts the static server; resolves to { url, close() }. */
export async function startStaticServer() {
  if (referenceMode && !(REFERENCE_DIR && existsSync(join(REFERENCE_DIR, "socket.io.esm.min.js")))) {
    throw new Error("RESOCKET_E2E_CLIENT=socket.io-client but socket.io-client is not installed");
  }
  const server = createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Does pkg/ hold a built package? (The message tells how to build it when not.) */
export function packageBuilt() {
  return referenceMode || existsSync(join(PKG_DIR, "index.js"));
}
