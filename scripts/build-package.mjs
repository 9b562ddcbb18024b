// Builds the npm package `resocket` into pkg/:
//   1. wasm-pack (release or, with --profiling, release with names; --target web) -> pkg/resocket_wasm.js + resocket_wasm_bg.wasm
//   2. the public API (src/api/js/index.js + index.d.ts) copied beside it
//   3. pkg/package.json written for the package (metadata from Cargo.toml), pkg/README.md
//      from scripts/package-readme.md (wasm-pack copies the development README there)
//   4. leftovers of earlier builds removed from pkg/; the module checked to instantiate
//   5. sizes printed: each file (raw, gzip), what an app ships (the JS minified and
//      bundled by esbuild, plus the wasm: min+gzip), and the `npm pack` tarball
// Needs wasm-pack (and the matching wasm-bindgen, wasm-opt) on PATH; `npm run` scripts
// put the cargo bin directory there.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = join(root, "pkg");
const WASM = "resocket_wasm";

// `--profiling` (`npm run build -- --profiling`): optimized as for release, but the wasm
// keeps its function names, for the CPU profiles of `node bench/run.mjs --profile`.
const profiling = process.argv.includes("--profiling");
const args = ["build", profiling ? "--profiling" : "--release", "--target", "web", "--out-dir", "pkg", "--out-name", WASM];
console.log(`wasm-pack ${args.join(" ")}`);
const built = spawnSync("wasm-pack", args, { cwd: root, env: process.env, stdio: "inherit" });
if (built.error) {
  console.error(`build-package: cannot run wasm-pack: ${built.error.message}`);
  process.exit(1);
}
if (built.status !== 0) {
  console.error(`build-package: wasm-pack failed (${built.signal ?? `exit code ${built.status}`})`);
  process.exit(1);
}

// index.d.ts as is; index.js without its comment lines and indentation (a third of its
// gzip size). Only whole-line comments go (`// ...` lines and `/** ... */` blocks that
// start and end a line), which is safe as long as index.js has no multi-line string or
// template literal.
const api = join(root, "src", "api", "js");
copyFileSync(join(api, "index.d.ts"), join(pkg, "index.d.ts"));
let inDoc = false;
const kept = readFileSync(join(api, "index.js"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => {
    if (!inDoc && line.startsWith("/**")) inDoc = true;
    if (inDoc) {
      inDoc = !line.endsWith("*/");
      return false;
    }
    return line && !line.startsWith("//");
  });
writeFileSync(join(pkg, "index.js"), `// resocket: socket.io-client compatible API (commented source: src/api/js/index.js)\n${kept.join("\n")}\n`);

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
const files = ["index.js", "index.d.ts", `${WASM}.js`, `${WASM}_bg.wasm`];
// wasm-bindgen puts inline JS of the crate (if any) under snippets/.
const snippets = existsSync(join(pkg, "snippets"));
if (snippets) files.push("snippets/");
for (const file of files) {
  if (!existsSync(join(pkg, file))) {
    console.error(`build-package: pkg/${file} is missing after the build`);
    process.exit(1);
  }
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
    // For build scripts that copy the module next to a bundle (esbuild):
    // require.resolve / import.meta.resolve("resocket/resocket_wasm_bg.wasm").
    [`./${WASM}_bg.wasm`]: `./${WASM}_bg.wasm`,
    "./package.json": "./package.json",
  },
  files,
  // Importing index.js fetches and instantiates the wasm module (top-level await): a
  // bundler must keep it even if nothing of it were used. The glue (resocket_wasm.js)
  // only defines things; wasm-bindgen's inline JS snippets may do anything.
  sideEffects: ["./index.js", ...(snippets ? ["./snippets/**"] : [])],
};
writeFileSync(join(pkg, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);

// The package's README (what npmjs.com shows): short, pointing to the repository's.
const readme = readFileSync(join(root, "scripts", "package-readme.md"), "utf8")
  .replaceAll("{{repository}}", repository)
  .replaceAll("{{version}}", manifest.version);
writeFileSync(join(pkg, "README.md"), readme);

// Leftovers of earlier builds (other out-names, removed snippets) would be served by the
// tests' static servers and confuse whoever looks into pkg/.
const keep = new Set([
  ...files.map((f) => f.replace(/\/$/, "")),
  ...["package.json", "README.md", "LICENSE", ".gitignore", `${WASM}.d.ts`, `${WASM}_bg.wasm.d.ts`],
]);
for (const entry of readdirSync(pkg)) {
  if (!keep.has(entry)) rmSync(join(pkg, entry), { recursive: true, force: true });
}

// The module must instantiate: an old wasm-opt can corrupt it without any error at build
// time (binaryen 108, Debian 12's, exports the wrong table for wasm-bindgen's externref
// table; binaryen 132 from npm does not).
try {
  const glue = await import(pathToFileURL(join(pkg, `${WASM}.js`)).href);
  glue.initSync({ module: readFileSync(join(pkg, `${WASM}_bg.wasm`)) });
} catch (err) {
  console.error(`build-package: pkg/${WASM}_bg.wasm does not instantiate: ${err.message}`);
  console.error("build-package: if wasm-opt ran, check its version (`wasm-opt --version`; 108 is known to break this)");
  process.exit(1);
}

// Sizes. Per file: raw and gzip. What an app ships: the two JS modules bundled and
// minified (esbuild, as an app's bundler would) plus the wasm module, gzip -9 each.
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
console.log(`\nresocket ${manifest.version} built in pkg/`);
for (const file of [`${WASM}_bg.wasm`, `${WASM}.js`, "index.js"]) {
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
    entryPoints: [join(pkg, "index.js")],
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
