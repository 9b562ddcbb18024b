// Static files over HTTP, for the demo (./demo.mjs), the end-to-end tests' servers
// (tests/e2e/support/serve-dir.mjs) and the benchmark's (bench/run.mjs).
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";

export const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** `rest` resolved under the directory `base`, or null if it leads outside it. */
export function under(base, rest) {
  const file = normalize(join(base, rest));
  return file.startsWith(base.endsWith(sep) ? base : base + sep) ? file : null;
}

/**
 * Answers with `file`, read whole (the length sent always matches the body, even if a
 * build rewrites the file meanwhile): 200 with its content type, its length and
 * `headers`; or, when `file` is null or not a regular file, 404 with `headers` and the
 * text `not found: <pathname><hint>`. Resolves to { status, type }.
 */
export async function sendFile(res, file, pathname, { headers = {}, hint = "" } = {}) {
  const info = file && (await stat(file).catch(() => null));
  const body = info?.isFile() ? await readFile(file).catch(() => null) : null;
  if (!body) {
    const type = "text/plain";
    res.writeHead(404, { ...headers, "content-type": type }).end(`not found: ${pathname}${hint}\n`);
    return { status: 404, type };
  }
  const type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
  res.writeHead(200, { ...headers, "content-type": type, "content-length": body.length });
  res.end(body);
  return { status: 200, type };
}
