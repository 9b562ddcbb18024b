// Builds the npm package `resocket` into pkg/:
//   1. wasm-pack (release, --target web) -> pkg/resocket_wasm.js + resocket_wasm_bg.wasm
//   2. the public API (src/api/js/index.js + index.d.ts) copied beside it
//   3. pkg/package.json rewritten for the package (metadata from Cargo.toml)
//   4. the gzip size of what a browser downloads (wasm + JS) printed
// Needs wasm-pack (and the matching wasm-bindgen, wasm-opt) on PATH; `npm run` scripts
// put the cargo bin directory there.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = join(root, "pkg");
const WASM = "resocket_wasm";

const args = ["build", "--release", "--target", "web", "--out-dir", "pkg", "--out-name", WASM];
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

const files = ["index.js", "index.d.ts", `${WASM}.js`, `${WASM}_bg.wasm`, `${WASM}.d.ts`, `${WASM}_bg.wasm.d.ts`];
// wasm-bindgen puts inline JS of the crate (if any) under snippets/.
if (existsSync(join(pkg, "snippets"))) files.push("snippets/");
for (const file of files) {
  if (!existsSync(join(pkg, file))) {
    console.error(`build-package: pkg/${file} is missing after the build`);
    process.exit(1);
  }
}

const manifest = {
  name: "resocket",
  version: field("version"),
  description: field("description"),
  license: field("license"),
  repository: { type: "git", url: field("repository") },
  keywords: ["socket.io", "socket.io-client", "websocket", "realtime", "webassembly"],
  type: "module",
  main: "index.js",
  module: "index.js",
  types: "index.d.ts",
  exports: { ".": { types: "./index.d.ts", default: "./index.js" } },
  files,
  // index.js instantiates the wasm module at import (top-level await).
  sideEffects: ["./index.js", "./snippets/*"],
};
writeFileSync(join(pkg, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);

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

// What a browser downloads: the wasm module and the two JS modules.
const sizes = [`${WASM}_bg.wasm`, `${WASM}.js`, "index.js"].map((file) => {
  const bytes = readFileSync(join(pkg, file));
  return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`\nresocket ${manifest.version} built in pkg/`);
for (const { file, raw, gzip } of sizes) console.log(`  ${file.padEnd(22)} ${kb(raw).padStart(9)}  gzip ${kb(gzip).padStart(8)}`);
const total = (key) => sizes.reduce((sum, size) => sum + size[key], 0);
console.log(`  ${"total".padEnd(22)} ${kb(total("raw")).padStart(9)}  gzip ${kb(total("gzip")).padStart(8)}`);
