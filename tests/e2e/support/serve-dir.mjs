// A static HTTP server over a directory (127.0.0.1, port 0), as any web server would
// serve a built app: `.wasm` as application/wasm, `/` as index.html. `mounts` maps a URL
// prefix to another directory (e.g. { "/pkg/": <an installed copy of the package> }).
// Every request is logged in `requests` ({ path, status, type }) so that a test can
// check where the wasm module came from.
import { readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
};

function under(base, rest) {
  const file = normalize(join(base, rest));
  return file.startsWith(base.endsWith(sep) ? base : base + sep) ? file : null;
}

/** Resolves to { url, requests, close() }. */
export async function serveDirectory(root, mounts = {}) {
  const requests = [];
  const fileFor = (pathname) => {
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (pathname.startsWith(prefix)) return under(dir, pathname.slice(prefix.length));
    }
    return under(root, pathname.endsWith("/") ? `${pathname}index.html` : pathname);
  };
  const server = createServer(async (req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = fileFor(pathname);
    const info = file && (await stat(file).catch(() => null));
    const body = info?.isFile() ? await readFile(file).catch(() => null) : null;
    const type = body ? (TYPES[extname(file)] ?? "application/octet-stream") : "text/plain";
    requests.push({ path: pathname, status: body ? 200 : 404, type });
    if (!body) {
      res.writeHead(404, { "content-type": type, "cache-control": "no-store" }).end(`not found: ${pathname}\n`);
      return;
    }
    res.writeHead(200, { "content-type": type, "content-length": body.length, "cache-control": "no-store" });
    res.end(body);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
