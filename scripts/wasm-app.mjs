// How a Rust front end on the crate is built for the browser, as an app ships it: cargo
// build --release for wasm32-unknown-unknown, then wasm-bindgen --target web. Shared by
// scripts/build-rust-example.mjs (the example, into a site) and bench/rust-size.mjs (the
// apps it measures), so that what is measured is built as what is tested.
// Both need the wasm-bindgen CLI of the crate's pin, which scripts/setup.sh installs into
// the cargo bin directory: that directory goes first on PATH here, as scripts/test.mjs
// does.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TARGET = "wasm32-unknown-unknown";

/**
 * The `{ log, fail, run }` of a build script named `name`: `run(cmd, args, hint)` echoes
 * the command with `log`, runs it in the repository root and returns its output when
 * `stdout` is "pipe" (a script whose own output is on stdout keeps the tools' off it);
 * a tool that cannot run or fails ends the process through `fail(message)`, `hint`
 * appended.
 */
export function toolRunner(name, { log = console.log, stdout = "inherit" } = {}) {
  const cargoBin = join(process.env.CARGO_HOME || join(homedir(), ".cargo"), "bin");
  const env = { ...process.env, PATH: `${cargoBin}${delimiter}${process.env.PATH ?? ""}` };
  const fail = (message) => {
    console.error(`${name}: ${message}`);
    process.exit(1);
  };
  const run = (cmd, args, hint = "") => {
    log(`$ ${cmd} ${args.join(" ")}`);
    const result = spawnSync(cmd, args, { cwd: ROOT, env, encoding: "utf8", stdio: ["ignore", stdout, "inherit"] });
    if (result.error) fail(`cannot run ${cmd}: ${result.error.message}`);
    if (result.status !== 0) fail(`${cmd} failed (${result.signal ? `signal ${result.signal}` : `exit code ${result.status}`})${hint}`);
    return result.stdout;
  };
  return { log, fail, run };
}

/**
 * Builds the app of directory `app` (its Cargo.toml, its package `crate`) with cargo
 * into `targetDir`, with `features` when given, then runs wasm-bindgen --target web on
 * the wasm into `outDir` (with `bindgenArgs` too) unless `upToDate(built)` says the
 * output is newer than cargo's. `tools`: a toolRunner(). Returns the path of cargo's wasm.
 */
export function buildWasmApp(tools, { app, crate, targetDir, outDir, features = [], bindgenArgs = [], upToDate = () => false }) {
  // --locked: the app's Cargo.lock is committed and used as it is; a build that would
  // change it fails instead of leaving the work tree dirty. The hint is what a change of
  // the crate's dependencies needs (it adds them, and bumps nothing).
  const lockHint =
    `\n  if cargo said the lock file needs to be updated: \`cargo update --workspace\` in ` +
    `${relative(ROOT, app)}, and commit its Cargo.lock`;
  const cargoArgs = ["build", "--release", "--locked", "--target", TARGET, "--manifest-path", join(app, "Cargo.toml"), "--target-dir", targetDir];
  if (features.length > 0) cargoArgs.push("--features", features.join(","));
  tools.run("cargo", cargoArgs, lockHint);
  const built = join(targetDir, TARGET, "release", `${crate}.wasm`);
  if (!existsSync(built)) tools.fail(`cargo left no ${built}`);

  if (upToDate(built)) {
    tools.log(`wasm-bindgen: ${relative(ROOT, outDir)} is up to date`);
  } else {
    tools.run("wasm-bindgen", ["--target", "web", ...bindgenArgs, "--out-dir", outDir, built]);
  }
  return built;
}
