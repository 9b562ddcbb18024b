// What a Rust front end adds to its wasm by depending on resocket: the app of
// bench/rust-size/ built three ways (features `baseline`: no resocket; `unused`: the crate
// linked in but not called; `client`: connect, events in a task, decode, emit,
// emit_with_ack), each as an app ships it:
//   1. cargo build --release for wasm32 into target/rust-size (one target directory for
//      the three, so that what they share builds once; the app is relinked at each
//      switch of feature)
//   2. wasm-bindgen --target web into target/rust-size/<variant>/
//   3. wasm-opt -Oz on the _bg.wasm, in place
// then prints a markdown table of the wasm's and the JS glue's sizes, raw and gzip
// (level 9), with each variant's delta against the baseline. The size of the wasm before
// wasm-opt is there too: not every Rust app's build runs it.
//
//   node bench/rust-size.mjs
//
// Steps 1 and 2 are scripts/wasm-app.mjs's, as for the example the e2e tests run. Needs
// cargo with the wasm32-unknown-unknown target, the wasm-bindgen CLI of the crate's pin
// (scripts/setup.sh installs it into the cargo bin directory, put first on PATH there)
// and wasm-opt from the npm package binaryen (node_modules/.bin, `npm install`).
// A cold run (empty target/rust-size) takes under two minutes on two cores, a warm one
// about half a minute.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

import { buildWasmApp, toolRunner } from "../scripts/wasm-app.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const APP = join(ROOT, "bench", "rust-size");
const TARGET_DIR = join(ROOT, "target", "rust-size");
const CRATE = "rust_size";
const VARIANTS = ["baseline", "unused", "client"];
const WASM_BINDGEN_VERSION = "0.2.130";
const WASM_OPT = join(ROOT, "node_modules", ".bin", "wasm-opt");

// Progress on stderr, the tools' output off stdout: the table goes there.
const tools = toolRunner("rust-size", { log: (...args) => console.error(...args), stdout: "pipe" });
const { log, fail, run } = tools;

const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;

// A glue or module of another wasm-bindgen than the crate's pin would not be the one an
// app of the crate ships (the app's wasm-bindgen must equal the crate's).
const cliVersion = run("wasm-bindgen", ["--version"]).trim();
if (!cliVersion.endsWith(` ${WASM_BINDGEN_VERSION}`)) fail(`wasm-bindgen ${WASM_BINDGEN_VERSION} is needed, found "${cliVersion}" (bash scripts/setup.sh installs it)`);
if (!existsSync(WASM_OPT)) fail(`${WASM_OPT} is missing (npm install: the devDependency binaryen)`);

function measure(variant) {
  const started = performance.now();
  const outDir = join(TARGET_DIR, variant);
  buildWasmApp(tools, { app: APP, crate: CRATE, targetDir: TARGET_DIR, outDir, features: [variant] });
  const wasmPath = join(outDir, `${CRATE}_bg.wasm`);
  const unoptimized = readFileSync(wasmPath);
  run(WASM_OPT, ["-Oz", wasmPath, "-o", wasmPath]);
  const wasm = readFileSync(wasmPath);
  const js = readFileSync(join(outDir, `${CRATE}.js`));
  log(`${variant}: ${seconds(started)}`);
  const wasmGzip = gzip(wasm);
  const jsGzip = gzip(js);
  return { wasm: wasm.length, wasmGzip, js: js.length, jsGzip, totalGzip: wasmGzip + jsGzip, unoptimizedGzip: gzip(unoptimized) };
}

const COLUMNS = [
  ["wasm", "wasm"],
  ["wasmGzip", "wasm gzip"],
  ["js", "JS glue"],
  ["jsGzip", "JS glue gzip"],
  ["totalGzip", "total gzip"],
  ["unoptimizedGzip", "wasm gzip without wasm-opt"],
];

const bytes = (n) => `${n.toLocaleString("en-US")} B`;
const delta = (n) => `${n < 0 ? "−" : "+"}${bytes(Math.abs(n))}`;

const started = performance.now();
const sizes = {};
for (const variant of VARIANTS) sizes[variant] = measure(variant);
log(`built and measured the ${VARIANTS.length} variants in ${seconds(started)}`);

const base = sizes.baseline;
const rows = VARIANTS.map((variant) => {
  const cells = COLUMNS.map(([key]) =>
    variant === "baseline" ? bytes(base[key]) : `${bytes(sizes[variant][key])} (${delta(sizes[variant][key] - base[key])})`,
  );
  return `| ${variant} | ${cells.join(" | ")} |`;
});
console.log(`| variant | ${COLUMNS.map(([, title]) => title).join(" | ")} |`);
console.log(`| --- | ${COLUMNS.map(() => "---:").join(" | ")} |`);
for (const row of rows) console.log(row);

// Linking the crate without calling it must cost nothing: a raw delta here means
// something of the crate is kept whether the app uses it or not (an export, a start
// function, a static with a constructor). Equal raw sizes may still gzip a few bytes
// apart: the symbol hashes change with the features, and with them the order in which
// the same functions and types are laid out.
const unusedWasm = sizes.unused.wasm - base.wasm;
const unusedJs = sizes.unused.js - base.js;
const unusedGzip = sizes.unused.totalGzip - base.totalGzip;
console.log(
  unusedWasm === 0 && unusedJs === 0
    ? `\nunused: the same raw sizes as the baseline, wasm and glue (gzip ${delta(unusedGzip)}: the same code laid out in another order): depending on the crate without calling it adds nothing.`
    : `\nunused: wasm ${delta(unusedWasm)}, glue ${delta(unusedJs)} raw, ${delta(unusedGzip)} gzip against the baseline: the crate brings something in unconditionally.`,
);
