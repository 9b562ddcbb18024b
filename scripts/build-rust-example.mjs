// Builds the Rust front-end example, examples/leptos-ticker (a Leptos app on the crate's
// Rust API), into a site a static server can serve (tests/e2e/rust-app.test.mjs does):
//   1. cargo build --release for wasm32, in target/examples (its own target directory:
//      the example is its own package, with its own lock file, used as committed)
//   2. wasm-bindgen --target web into target/examples/leptos-ticker/ (skipped when the
//      site is newer than cargo's output), plus the example's index.html
//   3. the wasm's size printed, raw and gzipped
// Needs cargo and the wasm-bindgen CLI of the crate's pin (scripts/setup.sh installs it
// into the cargo bin directory, which is put first on PATH here, as scripts/test.mjs
// does). Quick when nothing changed: cargo is incremental.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const EXAMPLE = join(root, "examples", "leptos-ticker");
const TARGET_DIR = join(root, "target", "examples");
const CRATE = "leptos_ticker";

/** Where the built site is: index.html, the wasm-bindgen glue and the wasm. */
export const SITE_DIR = join(TARGET_DIR, "leptos-ticker");
export const SITE_WASM = join(SITE_DIR, `${CRATE}_bg.wasm`);
export const SITE_JS = join(SITE_DIR, `${CRATE}.js`);

function fail(message) {
  console.error(`build-rust-example: ${message}`);
  process.exit(1);
}

function run(cmd, args, env, hint = "") {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
  if (result.error) fail(`cannot run ${cmd}: ${result.error.message}`);
  if (result.status !== 0) fail(`${cmd} failed (${result.signal ? `signal ${result.signal}` : `exit code ${result.status}`})${hint}`);
}

const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : -Infinity);

function build() {
  const started = Date.now();
  const cargoBin = join(process.env.CARGO_HOME || join(homedir(), ".cargo"), "bin");
  const env = { ...process.env, PATH: `${cargoBin}${delimiter}${process.env.PATH ?? ""}` };

  // --locked: the example's Cargo.lock is committed and used as it is; a build that
  // would change it fails instead of leaving the work tree dirty.
  run(
    "cargo",
    [
      "build",
      "--release",
      "--locked",
      "--target",
      "wasm32-unknown-unknown",
      "--manifest-path",
      join(EXAMPLE, "Cargo.toml"),
      "--target-dir",
      TARGET_DIR,
    ],
    env,
    // What a change of the crate's dependencies needs (it adds them, and bumps nothing).
    "\n  if cargo said the lock file needs to be updated: `cargo update --workspace` in examples/leptos-ticker, and commit its Cargo.lock",
  );
  const built = join(TARGET_DIR, "wasm32-unknown-unknown", "release", `${CRATE}.wasm`);
  if (!existsSync(built)) fail(`cargo left no ${built}`);

  if (mtime(SITE_WASM) > mtime(built) && mtime(SITE_JS) > mtime(built)) {
    console.log("wasm-bindgen: the site is up to date");
  } else {
    run("wasm-bindgen", ["--target", "web", "--no-typescript", "--out-dir", SITE_DIR, built], env);
  }
  mkdirSync(SITE_DIR, { recursive: true });
  copyFileSync(join(EXAMPLE, "index.html"), join(SITE_DIR, "index.html"));

  const wasm = readFileSync(SITE_WASM);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`${CRATE}_bg.wasm: ${kb(wasm.length)}, gzip ${kb(gzipSync(wasm, { level: 9 }).length)}`);
  console.log(`built the example into ${SITE_DIR} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// Imported (by the test, for the paths above) it builds nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) build();
