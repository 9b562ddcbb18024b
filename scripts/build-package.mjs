// Builds the npm package `resocket` into pkg/:
//   1. cargo on package/ (release, wasm32) and wasm-opt (-Oz; with --profiling, the
//      function names kept) -> pkg/resocket_wasm_bg.wasm, a module of plain exported
//      functions that imports nothing (the package's JS is its loader: no generated glue);
//      on the pinned nightly below, with std rebuilt and panic=immediate-abort, when it is
//      installed (scripts/setup.sh installs it), else on stable (a larger module)
//   2. the public API (the ES modules of src/api/js, index.js their entry, + index.d.ts)
//      copied beside it, and the server helper `resocket/server` (src/server: index.js +
//      index.d.ts, as they are) into pkg/server/
//   3. pkg/package.json written for the package (metadata from Cargo.toml), pkg/README.md
//      from scripts/package-readme.md, and the LICENSE
//   4. leftovers of earlier builds removed from pkg/; the module checked to import
//      nothing, to export what the loader calls, and to instantiate twice, independently
//   5. sizes printed: each file (raw, gzip), what an app ships (the JS of an app's
//      `import { io }` minified and bundled by esbuild, plus the wasm: min+gzip), and
//      the `npm pack` tarball
// Needs cargo and wasm-opt on PATH; `npm run` scripts put the cargo bin directory and
// node_modules/.bin (binaryen's wasm-opt) there. The nightly is optional: rustup's
// toolchain NIGHTLY with its rust-src component.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = join(root, "pkg");
const WASM = "resocket_wasm";

// The wasm is smaller when built on nightly with std rebuilt for it (-Zbuild-std) and
// panics that abort on the spot (-Cpanic=immediate-abort): no panic message is ever
// formatted, so core::fmt and the panic machinery are not linked (the gzipped wasm is
// about 8% smaller). Both flags are unstable, hence a pinned nightly; scripts/setup.sh reads the pin
// from this line. The crate and its tests stay on stable; only this build uses it.
const NIGHTLY = "nightly-2026-05-19";
// RUSTUP_AUTO_INSTALL=0: rustup would otherwise download a toolchain it is asked about.
const rustupEnv = { ...process.env, RUSTUP_AUTO_INSTALL: "0" };
const nightlyComponents = spawnSync("rustup", ["component", "list", "--installed", "--toolchain", NIGHTLY], { encoding: "utf8", env: rustupEnv });
const nightly = nightlyComponents.status === 0 && /^rust-src$/m.test(nightlyComponents.stdout);

// `--profiling` (`npm run build -- --profiling`): optimized as for release, but the wasm
// keeps its function names, for the CPU profiles of `node bench/run.mjs --profile`.
const profiling = process.argv.includes("--profiling");
const cargoArgs = ["build", "--release", "--target", "wasm32-unknown-unknown", "--manifest-path", join(root, "package", "Cargo.toml")];
let env = process.env;
let targetDir = join(root, "target");
if (nightly) {
  // The nightly's artifacts get their own target directory, so that its builds and the
  // stable ones (tests, clippy) do not rebuild each other's.
  targetDir = join(root, "target", "nightly");
  cargoArgs.push("-Zbuild-std=std,panic_abort", "--target-dir", targetDir);
  // Legacy symbol mangling, as on stable: CPU profiles show the names it writes
  // demangled, and nightly's v0 ones raw.
  const nightlyFlags = "-Zunstable-options -Cpanic=immediate-abort -Csymbol-mangling-version=legacy";
  const rustflags = [process.env.RUSTFLAGS, nightlyFlags].filter(Boolean).join(" ");
  env = { ...rustupEnv, RUSTUP_TOOLCHAIN: NIGHTLY, RUSTFLAGS: rustflags };
}
const toolchain = nightly ? `rust ${NIGHTLY}, -Zbuild-std, -Cpanic=immediate-abort` : "rust stable";
console.log(
  nightly
    ? `build-package: wasm on ${toolchain}`
    : `build-package: wasm on rust stable, larger: ${NIGHTLY} with rust-src is not installed (bash scripts/setup.sh installs it)`,
);
const step = (what, cmd, args, options) => {
  console.log(`${what}: ${cmd} ${args.join(" ")}`);
  const done = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...options });
  if (done.error || done.status !== 0) {
    console.error(`build-package: ${cmd} failed (${done.error?.message ?? done.signal ?? `exit code ${done.status}`})`);
    process.exit(1);
  }
};
step(nightly ? `RUSTUP_TOOLCHAIN=${NIGHTLY} RUSTFLAGS="${env.RUSTFLAGS}"` : "build", "cargo", cargoArgs, { env });
mkdirSync(pkg, { recursive: true });
const wasmPath = join(pkg, `${WASM}_bg.wasm`);
const optimize = profiling ? ["-Oz", "--debuginfo"] : ["-Oz", "--converge", "--strip-producers"];
step("optimize", "wasm-opt", [join(targetDir, "wasm32-unknown-unknown", "release", `${WASM}.wasm`), ...optimize, "-o", wasmPath]);

// The loader (src/api/js/instance.js) gives the module no imports and calls these.
const EXPORTS = ["memory", "resocket_new", "resocket_free", "resocket_live", "resocket_input", "resocket_run"];
const wasmFault = (() => {
  let compiled;
  try {
    compiled = new WebAssembly.Module(readFileSync(wasmPath));
  } catch (err) {
    return `is not a valid module (${err.message})`;
  }
  const imports = WebAssembly.Module.imports(compiled).map((i) => `${i.module}.${i.name}`);
  if (imports.length) return `imports ${imports.join(", ")}, which the loader does not give`;
  const exported = WebAssembly.Module.exports(compiled).map((e) => e.name);
  const missing = EXPORTS.filter((name) => !exported.includes(name));
  if (missing.length) return `lacks the exports ${missing.join(", ")}`;
  // Two instances, as after a trap: each its own memory and connections.
  const [one, two] = [new WebAssembly.Instance(compiled, {}).exports, new WebAssembly.Instance(compiled, {}).exports];
  if (one.memory === two.memory) return "gives two instances one memory";
  one.resocket_free(one.resocket_new(1));
  one.resocket_new(2);
  if (one.resocket_live() != 1 || two.resocket_live() != 0) return "shares connections between instances";
  return null;
})();
if (wasmFault) {
  console.error(`build-package: pkg/${WASM}_bg.wasm ${wasmFault}`);
  process.exit(1);
}

// index.d.ts as is; the API's modules (every .js file of src/api/js: index.js, the
// entry, and the modules it imports, one per job) without their comment lines and
// indentation (a third of their gzip size). Only whole-line comments go (`// ...` lines
// and `/** ... */` blocks that start and end a line), which is safe as long as no string
// or template literal spans lines: a line with an odd number of backticks (a template
// literal left open) or ending in a backslash (a string continued) stops the build.
// index.js is written last (scripts/upstream-suite.mjs takes a pkg/index.js older than
// the wasm for a build under way).
const api = join(root, "src", "api", "js");
copyFileSync(join(api, "index.d.ts"), join(pkg, "index.d.ts"));
// The server helper (for Node, where size matters little) keeps its comments.
const SERVER = ["server/index.js", "server/index.d.ts"];
mkdirSync(join(pkg, "server"), { recursive: true });
for (const file of SERVER) copyFileSync(join(root, "src", file), join(pkg, file));
const modules = readdirSync(api)
  .filter((f) => f.endsWith(".js"))
  .sort((a, b) => (a == "index.js") - (b == "index.js") || a.localeCompare(b));
if (modules.at(-1) != "index.js") {
  console.error("build-package: src/api/js must hold index.js");
  process.exit(1);
}
for (const name of modules) {
  const lines = readFileSync(join(api, name), "utf8").split("\n");
  const spans = lines.findIndex((line) => (line.split("`").length - 1) % 2 || line.endsWith("\\"));
  if (spans >= 0) {
    console.error(`build-package: src/api/js/${name}:${spans + 1} may continue a string or template literal on the next line;`);
    console.error("build-package: the comment stripping of scripts/build-package.mjs is not safe for it (keep such literals on one line)");
    process.exit(1);
  }
  let inDoc = false;
  const kept = lines
    .map((line) => line.trim())
    .filter((line) => {
      if (!inDoc && line.startsWith("/**")) inDoc = true;
      if (inDoc) {
        inDoc = !line.endsWith("*/");
        return false;
      }
      return line && !line.startsWith("//");
    });
  const what = name == "index.js" ? "resocket: socket.io-client compatible API" : `resocket, ${name}`;
  writeFileSync(join(pkg, name), `// ${what} (commented source: src/api/js/${name})\n${kept.join("\n")}\n`);
}

// [package] metadata of Cargo.toml (single-line `key = "value"` entries).
const cargo = readFileSync(join(root, "Cargo.toml"), "utf8");
const section = cargo.split(/^\[package\]\s*$/m)[1]?.split(/^\[/m)[0] ?? "";
const field = (key) => {
  const match = new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, "m").exec(section);
  if (!match) {
    console.error(`build-package: Cargo.toml has no [package] ${key}`);
    process.exit(1);
  }
  return match[1];
};

// What the package ships (npm adds package.json, README.md and LICENSE by itself).
const files = [...modules, "index.d.ts", `${WASM}_bg.wasm`, ...SERVER];
for (const file of files) {
  if (!existsSync(join(pkg, file))) {
    console.error(`build-package: pkg/${file} is missing after the build`);
    process.exit(1);
  }
}

// The modules with side effects at import (see `sideEffects` below).
const sideEffects = ["index.js", "instance.js", "share.js", "persist.js"];
const strays = sideEffects.filter((f) => !modules.includes(f));
if (strays.length) {
  console.error(`build-package: src/api/js has no ${strays.join(", ")} (the modules with side effects): update \`sideEffects\` in scripts/build-package.mjs`);
  process.exit(1);
}

const repository = field("repository");
const manifest = {
  name: "resocket",
  version: field("version"),
  description: field("description"),
  license: field("license"),
  repository: { type: "git", url: `git+${repository}.git` },
  homepage: `${repository}#readme`,
  bugs: { url: `${repository}/issues` },
  keywords: ["socket.io", "socket.io-client", "websocket", "realtime", "reconnect", "webassembly", "wasm"],
  type: "module",
  main: "./index.js",
  module: "./index.js",
  types: "./index.d.ts",
  exports: {
    ".": { types: "./index.d.ts", default: "./index.js" },
    // The exactly-once helper for socket.io servers (Node): `import { exactlyOnce } from "resocket/server"`.
    "./server": { types: "./server/index.d.ts", default: "./server/index.js" },
    // The opt-in features, each enabled by importing its module once (`import
    // "resocket/share"`), so that an app without them does not ship them.
    "./share": "./share.js",
    "./persist": "./persist.js",
    // For build scripts that copy the module next to a bundle (esbuild):
    // require.resolve / import.meta.resolve("resocket/resocket_wasm_bg.wasm").
    [`./${WASM}_bg.wasm`]: `./${WASM}_bg.wasm`,
    "./package.json": "./package.json",
  },
  files,
  // Importing instance.js fetches and instantiates the wasm module (top-level await), and
  // index.js imports it for that alone; share.js and persist.js register their feature
  // when imported: a bundler must keep these even if nothing of them were used. The
  // other modules only define things, so a bundler may drop those an app does not use.
  sideEffects: sideEffects.map((f) => `./${f}`),
};
writeFileSync(join(pkg, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);

// The package's README (what npmjs.com shows): short, pointing to the repository's.
const readme = readFileSync(join(root, "scripts", "package-readme.md"), "utf8")
  .replaceAll("{{repository}}", repository)
  .replaceAll("{{version}}", manifest.version);
writeFileSync(join(pkg, "README.md"), readme);
copyFileSync(join(root, "LICENSE"), join(pkg, "LICENSE"));

// Leftovers of earlier builds (older layouts, generated glue) would be served by the
// tests' static servers and confuse whoever looks into pkg/.
const keep = new Set([...files.map((f) => f.split("/")[0]), ...["package.json", "README.md", "LICENSE", ".gitignore"]]);
for (const entry of readdirSync(pkg)) {
  if (!keep.has(entry)) rmSync(join(pkg, entry), { recursive: true, force: true });
}

// Sizes. Per file: raw and gzip. What an app ships: the JS an app's `import { io }`
// reaches, bundled and minified (esbuild, as an app's bundler would, reading the
// package's `sideEffects`) plus the wasm module, gzip -9 each.
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
console.log(`\nresocket ${manifest.version} built in pkg/ (${toolchain}${profiling ? ", profiling" : ""})`);
for (const file of [`${WASM}_bg.wasm`, ...modules]) {
  const bytes = readFileSync(join(pkg, file));
  console.log(`  ${file.padEnd(22)} ${kb(bytes.length).padStart(9)}  gzip ${kb(gzip(bytes)).padStart(8)}`);
}

let esbuild = null;
try {
  esbuild = await import("esbuild");
} catch {
  console.log("  (esbuild is not installed: `npm ci` first to measure the min+gzip size)");
}
if (esbuild) {
  const bundle = await esbuild.build({
    stdin: { contents: 'import { io } from "./index.js"; export { io };', resolveDir: pkg, sourcefile: "app.js" },
    bundle: true,
    minify: true,
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  const js = bundle.outputFiles[0].contents;
  const wasmBytes = readFileSync(join(pkg, `${WASM}_bg.wasm`));
  const shipped = gzip(js) + gzip(wasmBytes);
  console.log(
    `  app ships (min+gzip)   JS ${kb(gzip(js))} + wasm ${kb(gzip(wasmBytes))} = ${kb(shipped)}` +
      `  (minified: JS ${kb(js.length)}, wasm ${kb(wasmBytes.length)})`,
  );
}

// The tarball `npm publish` would upload (nothing written: --dry-run), and a check that
// it holds what the entry needs.
const packed = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: pkg, encoding: "utf8" });
let info = null;
try {
  info = JSON.parse(packed.stdout)[0];
} catch {
  // reported below
}
if (packed.status !== 0 || !info) {
  console.error(`build-package: npm pack --dry-run failed: ${packed.error?.message ?? packed.stderr}`);
  process.exit(1);
}
const packedFiles = new Set(info.files.map((f) => f.path));
const notPacked = [...files.filter((f) => !f.endsWith("/")), "package.json", "README.md"].filter((f) => !packedFiles.has(f));
if (notPacked.length) {
  console.error(`build-package: npm pack leaves out ${notPacked.join(", ")}`);
  process.exit(1);
}
console.log(`  npm pack               ${info.filename}: ${kb(info.size)} (${info.entryCount} files, ${kb(info.unpackedSize)} unpacked)`);
