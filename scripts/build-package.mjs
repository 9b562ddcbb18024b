// Builds the npm package `resocket` into pkg/:
//   1. wasm-pack on package/ (release or, with --profiling, release with names; --target web) -> pkg/resocket_wasm.js + resocket_wasm_bg.wasm
//      on the pinned nightly below, with std rebuilt and panic=immediate-abort, when it is
//      installed (scripts/setup.sh installs it), else on stable (a larger module); then the
//      names between the module and its glue minified (not with --profiling), and the
//      glue (resocket_wasm.js) turned into a factory of independent instances
//   2. the public API (the ES modules of src/api/js, index.js their entry, + index.d.ts)
//      copied beside it, and the server helper `resocket/server` (src/server: index.js +
//      index.d.ts, as they are) into pkg/server/
//   3. pkg/package.json written for the package (metadata from Cargo.toml), pkg/README.md
//      from scripts/package-readme.md, and the LICENSE
//   4. leftovers of earlier builds removed from pkg/; the module checked to instantiate,
//      twice, independently, and to be collected once its glue lets go of it
//   5. sizes printed: each file (raw, gzip), what an app ships (the JS of an app's
//      `import { io }` minified and bundled by esbuild, plus the wasm: min+gzip), and
//      the `npm pack` tarball
// Needs wasm-pack (and the matching wasm-bindgen, wasm-opt) on PATH; `npm run` scripts
// put the cargo bin directory there. The nightly is optional: rustup's toolchain NIGHTLY
// with its rust-src component.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
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
const args = ["build", profiling ? "--profiling" : "--release", "--target", "web", "--out-dir", pkg, "--out-name", WASM];
// The package's module is package/, the crate with its JavaScript API as a cdylib; its
// outputs go where the workspace's go.
const cargoArgs = [];
let env = process.env;
if (nightly) {
  // `--mode force` skips wasm-pack's check of the wasm32 target, which would run `rustup
  // target add`: the dist server has no prebuilt wasm32 std for this nightly, and
  // -Zbuild-std needs none. The nightly's artifacts get their own target directory, so
  // that its builds and the stable ones (tests, clippy) do not rebuild each other's.
  args.push("--mode", "force");
  cargoArgs.push("-Zbuild-std=std,panic_abort", "--target-dir", join(root, "target", "nightly"));
  // Legacy symbol mangling, as on stable: wasm-bindgen names the closure shims in the glue
  // after their symbols, and nightly's v0 names are longer (the glue is 0.7 KB larger).
  const nightlyFlags = "-Zunstable-options -Cpanic=immediate-abort -Csymbol-mangling-version=legacy";
  const rustflags = [process.env.RUSTFLAGS, nightlyFlags].filter(Boolean).join(" ");
  env = { ...rustupEnv, RUSTUP_TOOLCHAIN: NIGHTLY, RUSTFLAGS: rustflags };
}
args.push(join(root, "package"), "--", ...cargoArgs);
const toolchain = nightly ? `rust ${NIGHTLY}, -Zbuild-std, -Cpanic=immediate-abort` : "rust stable";
console.log(
  nightly
    ? `build-package: wasm on ${toolchain}`
    : `build-package: wasm on rust stable, larger: ${NIGHTLY} with rust-src is not installed (bash scripts/setup.sh installs it)`,
);
console.log(`${nightly ? `RUSTUP_TOOLCHAIN=${NIGHTLY} RUSTFLAGS="${env.RUSTFLAGS}" ` : ""}wasm-pack ${args.join(" ")}`);
const built = spawnSync("wasm-pack", args, { cwd: root, env, stdio: "inherit" });
if (built.error) {
  console.error(`build-package: cannot run wasm-pack: ${built.error.message}`);
  process.exit(1);
}
if (built.status !== 0) {
  console.error(`build-package: wasm-pack failed (${built.signal ?? `exit code ${built.status}`})`);
  process.exit(1);
}

// The glue as wasm-bindgen writes it keeps one instance in module-level state, for good:
// after a trap (see index.js) a fresh instance needs a fresh glue, and the dead one's
// memory (up to 4 GiB) stays reachable from the module. So the glue becomes a factory:
// its default export is a function that runs the whole module body anew each time, and
// returns what the module exported (plus `module()`, the compiled module, and `drop()`,
// which lets go of the instance). Every module-level variable is then per instance.
// The glue's shape is checked, not assumed: anything this does not know (an import,
// another kind of export, module-level state it does not know how to let go of) stops
// the build, so that a wasm-bindgen upgrade cannot quietly break it.
const glueFactory = (source) => {
  const refuse = (why) => {
    console.error(`build-package: pkg/${WASM}.js ${why}; the glue-to-factory step of scripts/build-package.mjs must be updated for it`);
    process.exit(1);
  };
  const body = [];
  const returned = [];
  const state = [];
  let exportList = false;
  for (const line of source.split("\n")) {
    let m;
    // A type annotation for the module wasm-bindgen wrote; it does not describe this one.
    if (line.startsWith("/* @ts-self-types=")) continue;
    if (/^import\b/.test(line)) refuse(`imports (${line})`);
    if (/^export\b/.test(line)) {
      if ((m = /^export ((?:async )?(?:class|function\*?) ([\w$]+)\b.*)$/.exec(line))) {
        returned.push(m[2]);
        body.push(m[1]);
      } else if (!exportList && (m = /^export \{([^}]*)\};?$/.exec(line))) {
        exportList = true;
        for (const item of m[1].split(",").map((s) => s.trim()).filter(Boolean)) {
          const [, name, as] = /^([\w$]+)(?: as ([\w$]+))?$/.exec(item) ?? refuse(`exports ${item}`);
          returned.push(as ? `${as}: ${name}` : name);
        }
      } else refuse(`has an export of an unexpected form (${line})`);
      continue;
    }
    // Module-level variables (a statement at column 0): `let a, b;` or `let a = ...`.
    if ((m = /^(?:let|var) ([^=;]*)/.exec(line))) {
      const names = line.includes("=") ? [m[1].trim()] : m[1].split(",").map((s) => s.trim());
      for (const n of names) if (!/^[\w$]+$/.test(n)) refuse(`declares module-level state in an unexpected form (${line})`);
      state.push(...names);
    }
    body.push(line);
  }
  if (!exportList) refuse("has no `export { ... }` list");
  // What holds the instance (its exports, the compiled module, the promise of the first
  // init, views of its memory) is let go of by drop(); the rest holds nothing of it.
  const holds = ["wasm", "wasmInstance", "wasmModule", "__wbg_init_promise"];
  const views = state.filter((n) => /^cached\w+Memory\d*$/.test(n));
  const harmless = ["cachedTextDecoder", "numBytesDecoded", "WASM_VECTOR_LEN"];
  const unknown = state.filter((n) => ![...holds, ...views, ...harmless].includes(n));
  if (unknown.length) refuse(`has module-level state the factory does not know: ${unknown.join(", ")}`);
  const missing = [...holds, "__wbg_finalize_init(instance, module)"].filter((n) => !source.includes(n));
  if (missing.length) refuse(`lacks ${missing.join(", ")}`);
  // drop(): the dead instance's callbacks that are still registered (a WebSocket's, a
  // page listener's, a finalizer's) reach `wasm`, now something on which any call does
  // nothing, instead of throwing into the page.
  const drop = [
    "wasm = new Proxy({}, { get: () => () => {} });",
    views.length ? `${views.join(" = ")} = null;` : "",
    `${holds.slice(1).join(" = ")} = undefined;`,
  ].join(" ");
  return [
    "// wasm-bindgen's glue for resocket_wasm_bg.wasm, as a factory: each call makes an independent glue (see index.js).",
    "export default () => {",
    ...body,
    `return { ${returned.join(", ")}, module: () => wasmModule, drop() { ${drop} } };`,
    "};",
    "",
  ].join("\n");
};
// The names between the glue and the module, minified. wasm-bindgen names every import
// after its Rust path plus a hash (`__wbg_setTimeout_4eb8…`), about 80 of them, and
// they appear twice, in the module's import section and in the glue's imports object:
// hashes do not compress, so they cost 1.9 KB of gzipped wasm and more of JS. Binaryen
// renames the imports (and their module), and the exports, and prints the mapping, which
// the glue is rewritten with. Not for --profiling, whose profiles show the names.
// Every import of the module must then be in the glue's object, and every export the
// glue uses must exist: the instantiation check below fails otherwise.
const minifyNames = (wasmPath, source) => {
  const run = spawnSync("wasm-opt", [wasmPath, "--minify-imports-and-exports-and-modules", "-o", wasmPath], { encoding: "utf8" });
  if (run.status !== 0) {
    console.error(`build-package: wasm-opt could not minify the module's import and export names: ${run.error?.message ?? run.stderr}`);
    process.exit(1);
  }
  const { imports, exports } = JSON.parse(run.stdout.slice(run.stdout.indexOf("{")));
  const modules = new Set(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmPath))).map((i) => i.module));
  const original = new Set(imports.map(([module]) => module));
  if (modules.size != 1 || original.size != 1) {
    console.error(`build-package: the module imports from ${[...original].join(", ")} (now ${[...modules].join(", ")}); the name minifying step expects one module`);
    process.exit(1);
  }
  const word = (name) => name.replace(/\$/g, "\\$");
  let out = source.replace(`${JSON.stringify([...original][0])}: import0`, `${JSON.stringify([...modules][0])}: import0`);
  for (const [, from, to] of imports) out = out.replace(new RegExp(`(?<=^\\s*)${word(from)}(?=: function)`, "m"), JSON.stringify(to));
  for (const [from, to] of exports) out = out.replace(new RegExp(`\\bwasm\\.${word(from)}\\b`, "g"), `wasm[${JSON.stringify(to)}]`);
  return out;
};
const gluePath = join(pkg, `${WASM}.js`);
// The instance's memory, which the exports name no longer (stats() reads its size).
const wasmBindgenGlue = `${readFileSync(gluePath, "utf8")}\nexport function wasmMemory() { return wasm.memory; }\n`;
writeFileSync(gluePath, glueFactory(profiling ? wasmBindgenGlue : minifyNames(join(pkg, `${WASM}_bg.wasm`), wasmBindgenGlue)));

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
if (modules.at(-1) != "index.js" || modules.includes(`${WASM}.js`)) {
  console.error(`build-package: src/api/js must hold index.js, and no ${WASM}.js (the glue's name)`);
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

// What the package ships (npm adds package.json, README.md and LICENSE by itself). The
// glue's own .d.ts files are left out: index.d.ts is the API, and `exports` keeps the
// glue private.
const files = [...modules, "index.d.ts", `${WASM}.js`, `${WASM}_bg.wasm`, ...SERVER];
// wasm-bindgen puts inline JS of the crate (if any) under snippets/.
const snippets = existsSync(join(pkg, "snippets"));
if (snippets) files.push("snippets/");
for (const file of files) {
  if (!existsSync(join(pkg, file))) {
    console.error(`build-package: pkg/${file} is missing after the build`);
    process.exit(1);
  }
}

// The modules with side effects at import (see `sideEffects` below).
const sideEffects = ["index.js", "instance.js"];
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
    // For build scripts that copy the module next to a bundle (esbuild):
    // require.resolve / import.meta.resolve("resocket/resocket_wasm_bg.wasm").
    [`./${WASM}_bg.wasm`]: `./${WASM}_bg.wasm`,
    "./package.json": "./package.json",
  },
  files,
  // Importing instance.js fetches and instantiates the wasm module (top-level await) and
  // adds the page's "error" listener, and index.js imports it for that alone: a bundler
  // must keep both even if nothing of them were used. The other modules (and the glue,
  // resocket_wasm.js) only define things, so a bundler may drop those an app does not
  // use. wasm-bindgen's inline JS snippets may do anything.
  sideEffects: [...sideEffects.map((f) => `./${f}`), ...(snippets ? ["./snippets/**"] : [])],
};
writeFileSync(join(pkg, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);

// The package's README (what npmjs.com shows): short, pointing to the repository's.
const readme = readFileSync(join(root, "scripts", "package-readme.md"), "utf8")
  .replaceAll("{{repository}}", repository)
  .replaceAll("{{version}}", manifest.version);
writeFileSync(join(pkg, "README.md"), readme);
copyFileSync(join(root, "LICENSE"), join(pkg, "LICENSE"));

// Leftovers of earlier builds (other out-names, removed snippets) would be served by the
// tests' static servers and confuse whoever looks into pkg/. The glue's own .d.ts goes
// too: it describes the module wasm-bindgen wrote, not the factory.
const keep = new Set([
  ...files.map((f) => f.split("/")[0]),
  ...["package.json", "README.md", "LICENSE", ".gitignore", `${WASM}_bg.wasm.d.ts`],
]);
for (const entry of readdirSync(pkg)) {
  if (!keep.has(entry)) rmSync(join(pkg, entry), { recursive: true, force: true });
}

// The module must instantiate: an old wasm-opt can corrupt it without any error at build
// time (binaryen 108, Debian 12's, exports the wrong table for wasm-bindgen's externref
// table; binaryen 132 from npm does not).
let glue;
let compiled;
try {
  glue = (await import(pathToFileURL(join(pkg, `${WASM}.js`)).href)).default;
  compiled = new WebAssembly.Module(readFileSync(join(pkg, `${WASM}_bg.wasm`)));
  glue().initSync({ module: compiled });
} catch (err) {
  console.error(`build-package: pkg/${WASM}_bg.wasm does not instantiate: ${err.message}`);
  console.error("build-package: if wasm-opt ran, check its version (`wasm-opt --version`; 108 is known to break this)");
  process.exit(1);
}

// The factory must give independent instances, and drop() must leave nothing of its
// instance reachable, even while the app still holds objects of its glue: a connection,
// the glue itself. Checked with the garbage collector (exposed for this check only).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
const factoryFault = await (async () => {
  const dead = glue();
  const fresh = glue();
  // As index.js makes them: the first by the glue's async init, the next by initSync.
  await dead.default({ module_or_path: compiled });
  fresh.initSync({ module: compiled });
  let memory = dead.wasmMemory();
  if (memory === fresh.wasmMemory()) return "two glues share one memory";
  // Grown first: the glue's views of the memory, made by the calls below, are then of
  // its current buffer.
  memory.grow(1);
  const held = new dead.Connection("ws://127.0.0.1:9/socket.io/?EIO=4&transport=websocket", () => {});
  // Configure (command 0), delivering its events (flag 256): a call that allocates.
  held.run(0, 0, 0, 256, JSON.stringify({ limits: { frameBytes: 1 } }));
  if (dead.liveConnections() != 1 || fresh.liveConnections() != 0) return "two glues share one instance";
  const refs = [new WeakRef(memory), new WeakRef(memory.buffer)];
  memory = null;
  dead.drop();
  for (let i = 0; i < 5 && refs.some((r) => r.deref()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
  }
  if (refs.some((r) => r.deref())) return "a dropped instance's memory stays reachable";
  // What the app still holds of the dropped glue does nothing, and throws nothing.
  held.free();
  return fresh.liveConnections() == 0 ? null : "the fresh instance was disturbed";
})();
if (factoryFault) {
  console.error(`build-package: pkg/${WASM}.js as a factory: ${factoryFault}; see the glue-to-factory step`);
  process.exit(1);
}

// Sizes. Per file: raw and gzip. What an app ships: the JS an app's `import { io }`
// reaches, bundled and minified (esbuild, as an app's bundler would, reading the
// package's `sideEffects`) plus the wasm module, gzip -9 each.
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
console.log(`\nresocket ${manifest.version} built in pkg/ (${toolchain}${profiling ? ", profiling" : ""})`);
for (const file of [`${WASM}_bg.wasm`, `${WASM}.js`, ...modules]) {
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
