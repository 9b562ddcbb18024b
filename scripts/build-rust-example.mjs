// Builds the Rust front-end example, examples/leptos-ticker (a Leptos app on the crate's
// Rust API), into a site a static server can serve (tests/e2e/rust-app.test.mjs does):
//   1. cargo build --release for wasm32, in target/examples (its own target directory:
//      the example is its own package, with its own lock file, used as committed)
//   2. wasm-bindgen --target web into target/examples/leptos-ticker/ (skipped when the
//      site is newer than cargo's output), plus the example's index.html
//   3. the wasm's size printed, raw and gzipped
// Steps 1 and 2 are ./wasm-app.mjs's, which says what they need. Quick when nothing
// changed: cargo is incremental.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

import { buildWasmApp, toolRunner } from "./wasm-app.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const EXAMPLE = join(root, "examples", "leptos-ticker");
const TARGET_DIR = join(root, "target", "examples");
const CRATE = "leptos_ticker";

/** Where the built site is: index.html, the wasm-bindgen glue and the wasm. */
export const SITE_DIR = join(TARGET_DIR, "leptos-ticker");
export const SITE_WASM = join(SITE_DIR, `${CRATE}_bg.wasm`);
export const SITE_JS = join(SITE_DIR, `${CRATE}.js`);

const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : -Infinity);

function build() {
  const started = Date.now();
  buildWasmApp(toolRunner("build-rust-example"), {
    app: EXAMPLE,
    crate: CRATE,
    targetDir: TARGET_DIR,
    outDir: SITE_DIR,
    bindgenArgs: ["--no-typescript"],
    upToDate: (built) => mtime(SITE_WASM) > mtime(built) && mtime(SITE_JS) > mtime(built),
  });
  mkdirSync(SITE_DIR, { recursive: true });
  copyFileSync(join(EXAMPLE, "index.html"), join(SITE_DIR, "index.html"));

  const wasm = readFileSync(SITE_WASM);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`${CRATE}_bg.wasm: ${kb(wasm.length)}, gzip ${kb(gzipSync(wasm, { level: 9 }).length)}`);
  console.log(`built the example into ${SITE_DIR} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// Imported (by the test, for the paths above) it builds nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) build();
