// Runs every test, in order, stopping at the first failure (`npm test` runs
// scripts/setup.sh first, which installs the tools used here).
//
//   1. cargo fmt --check
//   2. cargo clippy, native (all targets) and wasm32 (lib: the Rust client, the npm
//      package's module (feature js-api without the default client), and both)
//   3. cargo test (native: protocol codec, core state machine, the docs' examples), then
//      cargo doc, then cargo package (what crates.io would get, built on its own)
//   4. browser tests: tests/browser_*.rs in headless Chromium through wasm-pack, against
//      a real socket.io server (tests/support/socketio-server.mjs) on 127.0.0.1.
//   5. the npm package, built into pkg/ (scripts/build-package.mjs)
//   6. the Rust front-end example (examples/leptos-ticker), built for the end-to-end tests
//      (scripts/build-rust-example.mjs)
//   7. end-to-end tests: tests/e2e/*.test.mjs, the package's JS API in headless Chromium
//      (playwright-core) against real socket.io servers started and killed by the tests.
//      `wasm-pack test` BUILDS every test target for wasm32 (it runs `cargo build
//      --tests`), so every test file must compile there; only browser_* are run.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cargoBin = join(process.env.CARGO_HOME || join(homedir(), ".cargo"), "bin");
const env = { ...process.env, PATH: `${cargoBin}${delimiter}${process.env.PATH ?? ""}` };

class StepFailed extends Error {}

function run(title, cmd, args, extraEnv = {}) {
  console.log(`\n=== ${title}: ${cmd} ${args.join(" ")}`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", (err) => reject(new StepFailed(`${title}: cannot run ${cmd}: ${err.message}`)));
    child.on("exit", (code, signal) => {
      if (code === 0) {
        console.log(`=== ${title}: ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        resolve();
      } else {
        reject(new StepFailed(`${title} failed (${signal ? `signal ${signal}` : `exit code ${code}`})`));
      }
    });
  });
}

// Starts the socket.io test server and resolves with its {port, closedPort} line.
function startServer() {
  const script = join(root, "tests", "support", "socketio-server.mjs");
  const child = spawn(process.execPath, [script], { cwd: root, env, stdio: ["pipe", "pipe", "inherit"] });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new StepFailed("test server: no port announced within 10 s")), 10_000);
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        const info = JSON.parse(line);
        if (!Number.isInteger(info.port) || !Number.isInteger(info.closedPort)) throw new Error("bad fields");
        resolve(info);
      } catch {
        reject(new StepFailed(`test server: unexpected first line ${JSON.stringify(line)}`));
      }
      // Keep draining its stdout so that it never blocks on a full pipe.
      lines.on("line", (l) => console.log(`[test server] ${l}`));
    });
    child.on("error", (err) => reject(new StepFailed(`test server: ${err.message}`)));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new StepFailed(`test server exited early (${signal ?? code})`));
    });
  });
  return { child, ready };
}

function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin.end();
  process.kill(child.pid, "SIGTERM");
  const force = setTimeout(() => {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, 3_000);
  return exited.finally(() => clearTimeout(force));
}

async function browserTests() {
  const { child, ready } = startServer();
  const cleanup = () => stopServer(child);
  process.once("SIGINT", () => cleanup().then(() => process.exit(130)));
  process.once("SIGTERM", () => cleanup().then(() => process.exit(143)));
  try {
    const { port, closedPort } = await ready;
    console.log(`\n=== test server: socket.io on ws://127.0.0.1:${port} (closed port for tests: ${closedPort})`);
    await run(
      "browser tests",
      "wasm-pack",
      ["test", "--headless", "--chrome", "--chromedriver", "/usr/bin/chromedriver", "--", "--test", "browser_*"],
      {
        RESOCKET_TEST_SERVER: `ws://127.0.0.1:${port}`,
        RESOCKET_TEST_CLOSED_PORT: String(closedPort),
        WASM_BINDGEN_TEST_TIMEOUT: "60",
      },
    );
  } finally {
    await cleanup();
  }
}

const started = Date.now();
try {
  await run("format", "cargo", ["fmt", "--check"]);
  await run("clippy (native)", "cargo", ["clippy", "--all-targets", "--", "-D", "warnings"]);
  await run("clippy (wasm32, Rust client)", "cargo", ["clippy", "--lib", "--examples", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]);
  await run("clippy (wasm32, npm package)", "cargo", ["clippy", "--lib", "--no-default-features", "--features", "js-api", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]);
  // Features add up: the client and the JS API build together.
  await run("clippy (wasm32, client and JS API)", "cargo", ["clippy", "--lib", "--features", "js-api", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]);
  await run("native tests", "cargo", ["test"]);
  // The crate's docs (README: `cargo doc`) must build without broken links.
  await run("docs", "cargo", ["doc", "--no-deps", "--target", "wasm32-unknown-unknown"], { RUSTDOCFLAGS: "-D warnings" });
  // What crates.io would get builds on its own (`--allow-dirty`: the check is about the
  // packaged files, not about the working tree).
  await run("crate package", "cargo", ["package", "--allow-dirty"]);
  await browserTests();
  await run("package build", process.execPath, ["scripts/build-package.mjs"]);
  await run("Rust example build", process.execPath, ["scripts/build-rust-example.mjs"]);
  // Listed one by one: newer Node versions read test arguments as glob patterns.
  const e2e = readdirSync(join(root, "tests", "e2e"))
    .filter((file) => file.endsWith(".test.mjs"))
    .sort()
    .map((file) => join("tests", "e2e", file));
  await run("end-to-end tests", process.execPath, ["--test", "--test-concurrency=1", ...e2e]);
  await run("benchmark smoke", process.execPath, ["bench/run.mjs", "--smoke"]);
  console.log(`\nall tests passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  if (!(err instanceof StepFailed)) throw err;
  console.error(`\nFAILED: ${err.message}`);
  process.exitCode = 1;
}
