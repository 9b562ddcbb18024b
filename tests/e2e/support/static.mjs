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
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { CONTENT_TYPES } from "../../../scripts/static-files.mjs";
import { routeFiles, startFileServer } from "./serve-dir.mjs";

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

const REFERENCE_SHIM = `export * from "/reference/socket.io.esm.min.js";
export function stats() { return { wasmMemoryBytes: NaN }; }
`;

/** Starts the static server; resolves to { url, close() }. */
export async function startStaticServer() {
  if (referenceMode && !(REFERENCE_DIR && existsSync(join(REFERENCE_DIR, "socket.io.esm.min.js")))) {
    throw new Error("RESOCKET_E2E_CLIENT=socket.io-client but socket.io-client is not installed");
  }
  const fileFor = routeFiles({
    index: join(PAGE_DIR, "index.html"),
    mounts: { "/e2e/": PAGE_DIR, "/pkg/": PKG_DIR, ...(referenceMode ? { "/reference/": REFERENCE_DIR } : {}) },
  });
  // In the reference mode, /pkg/index.js is the shim re-exporting socket.io-client.
  const answer = (pathname, res) => {
    if (!referenceMode || pathname !== "/pkg/index.js") return false;
    res.writeHead(200, { "cache-control": "no-store", "content-type": CONTENT_TYPES[".js"] }).end(REFERENCE_SHIM);
    return true;
  };
  return startFileServer(fileFor, { answer });
}

/** Does pkg/ hold a built package? (The message tells how to build it when not.) */
export function packageBuilt() {
  return referenceMode || existsSync(join(PKG_DIR, "index.js"));
}
