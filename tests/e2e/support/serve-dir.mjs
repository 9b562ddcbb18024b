// Static HTTP servers (127.0.0.1, port 0) of the e2e tests and the benchmarks:
// startFileServer() maps each URL path to a file through a table (routeFiles()) and
// answers with it whole (scripts/static-files.mjs: content types, 404s), and
// serveDirectory() serves a directory as any web server would serve a built app:
// `.wasm` as application/wasm, `/` as index.html.
import { createServer } from "node:http";

import { sendFile, under } from "../../../scripts/static-files.mjs";

/**
 * A `fileFor(pathname)` for startFileServer(): "/" and "/index.html" -> `index` (when
 * given); a path starting with a prefix of `mounts` -> the rest of it under that
 * directory (none if the directory is null); any other path -> that path under `root`
 * (when given; a trailing "/" meaning its index.html); else none (null).
 */
export function routeFiles({ index, mounts = {}, root }) {
  return (pathname) => {
    if (index && (pathname === "/" || pathname === "/index.html")) return index;
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (pathname.startsWith(prefix)) return dir ? under(dir, pathname.slice(prefix.length)) : null;
    }
    if (root) return under(root, pathname.endsWith("/") ? `${pathname}index.html` : pathname);
    return null;
  };
}

/**
 * Starts a static server answering each request with the file `fileFor(decoded pathname)`
 * (404 when there is none). `headers` go with every answer; `answer(pathname, res)`
 * may answer a request itself (it returns true then); `onServed({ path, status, type })`
 * hears of every file answer. Resolves to { url, server, close() }: `server` is the
 * node:http server, for a test that serves more than files on the same origin (e.g. a
 * socket.io server attached to it).
 */
export async function startFileServer(fileFor, { headers = { "cache-control": "no-store" }, answer, onServed } = {}) {
  async function serve(req, res) {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (answer?.(pathname, res)) return;
    const { status, type } = await sendFile(res, fileFor(pathname), pathname, { headers });
    onServed?.({ path: pathname, status, type });
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
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * Serves the directory `root`; `mounts` maps a URL prefix to another directory (e.g.
 * { "/pkg/": <an installed copy of the package> }). Every request is logged in
 * `requests` ({ path, status, type }) so that a test can check where the wasm module
 * came from. Resolves to { url, requests, close() }.
 */
export async function serveDirectory(root, mounts = {}) {
  const requests = [];
  const server = await startFileServer(routeFiles({ mounts, root }), { onServed: (r) => requests.push(r) });
  return { ...server, requests };
}
