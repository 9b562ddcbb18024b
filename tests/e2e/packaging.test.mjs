// The npm package as users get it: pkg/ packed with `npm pack`, installed with
// `npm install <tarball>` (offline) into a throwaway app in a temp dir, then used
// unchanged in each documented way, each one proven in headless Chromium against a real
// socket.io server (connect + two acknowledged round trips, no console error or warning):
//   - no bundler: a module script imports /pkg/index.js (the installed package served);
//   - Vite, default config (no vite.config): `vite build`, and the `vite` dev server;
//   - esbuild: `esbuild main.js --bundle --format=esm --outdir=…` + the .wasm copied
//     next to the bundle (what the README tells users), and what happens without it.
// Plus: what the tarball holds, and that TypeScript resolves the installed package's
// types (moduleResolution "bundler" and "node16"); the server helper `resocket/server`
// imported by Node from the installed package, its types resolved too. And, bundled by
// Vite and by esbuild, an app whose wasm module traps (out of memory): its client hears
// "WasmTrap", a new io() connects and receives an event, on a fresh instance made inside
// the bundle, and the dead instance's memory is collected.
// The app's sources are in ./support/apps/ (the trap app in ./support/apps/trap/).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { freePort, spawnTracked, stopChild } from "../../scripts/children.mjs";
import { CHROMIUM, CHROMIUM_ARGS } from "./support/browser.mjs";
import { startSocketIoServer } from "./support/processes.mjs";
import { serveDirectory } from "./support/serve-dir.mjs";
import { packageBuilt, referenceMode, ROOT } from "./support/static.mjs";

const APP_SOURCES = fileURLToPath(new URL("./support/apps/", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const WASM = "resocket_wasm_bg.wasm";
// The JS API's modules (src/api/js/*.js, the entry index.js among them, the wasm's loader
// too), the wasm, the types, the server helper and the package's own files: nothing more, nothing
// less.
const API_MODULES = readdirSync(join(ROOT, "src", "api", "js")).filter((f) => f.endsWith(".js"));
const SERVER = ["server/index.d.ts", "server/index.js"];
const SHIPPED = ["LICENSE", "README.md", "index.d.ts", "package.json", WASM, ...API_MODULES, ...SERVER];

const state = { tmp: null, app: null, installed: null, packed: null, server: null, browser: null };

/** Runs a command to completion (at most `timeout` ms); rejects unless it exits with 0. */
function run(cmd, args, { cwd, timeout = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${signal ?? `exit code ${code}`}):\n${stdout}\n${stderr}`));
    });
  });
}

before(async () => {
  if (referenceMode) return; // the package, not socket.io-client, is under test here
  if (!packageBuilt()) throw new Error("pkg/index.js is missing: build the package first (node scripts/build-package.mjs)");
  state.tmp = await mkdtemp(join(tmpdir(), "resocket-packaging-"));
  state.app = join(state.tmp, "app");
  state.installed = join(state.app, "node_modules", "resocket");

  // Each resource is recorded as soon as it exists, so that `after` releases it even if
  // another one failed.
  await Promise.all([
    startSocketIoServer().then((server) => (state.server = server)),
    chromium
      .launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
      .then((browser) => (state.browser = browser)),
    installPackage(),
  ]);
});

/** `npm pack` of pkg/ into the temp dir, then `npm install <tarball>` into the app. */
async function installPackage() {
  const packArgs = ["pack", "--json", "--ignore-scripts", "--pack-destination", state.tmp];
  const { stdout } = await run("npm", packArgs, { cwd: join(ROOT, "pkg") });
  state.packed = JSON.parse(stdout)[0];
  await cp(APP_SOURCES, state.app, { recursive: true });
  await writeFile(join(state.app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  // Offline, with a throwaway cache: nothing fetched, the user's npm cache untouched.
  const installArgs = ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"];
  installArgs.push("--cache", join(state.tmp, "npm-cache"), "--prefix", state.app, join(state.tmp, state.packed.filename));
  await run("npm", installArgs, { cwd: state.app });
}

after(async () => {
  await state.browser?.close().catch(() => {});
  await state.server?.stop();
  if (state.tmp) await rm(state.tmp, { recursive: true, force: true, maxRetries: 3 });
});

// The check app's report: connected, acks answered, and the server saw this socket.
function assertChecked(result) {
  assert.deepEqual(result.echo, { hello: "from the app" });
  assert.equal(result.whoami.id, result.id);
  assert.equal(result.whoami.nsp, "/");
  assert.deepEqual(result.optIn, [
    'TypeError: resocket: option "shareAcrossTabs" needs its module: import "resocket/share" once in the app',
    'TypeError: resocket: option "persistQueue" needs its module: import "resocket/persist" once in the app',
  ]);
  assert.ok(
    state.server.log.some((e) => e.event === "connection" && e.id === result.id),
    `the server has no connection of socket ${result.id}`,
  );
}

/**
 * Opens `url` (an app page) with `?server=` pointing at the socket.io server, waits for
 * the app's report and checks it with `assertResult` (the check app's, by default), and
 * that there was no page error, no console error or warning. `init`: a script run
 * before the page's own; `assertPage(page)`: more checks, once the app reported.
 * Resolves to the wasm responses ({ path, status, type }).
 */
async function checkApp(t, url, { assertResult = assertChecked, init, assertPage } = {}) {
  const context = await state.browser.newContext();
  if (init) await context.addInitScript({ path: init });
  const page = await context.newPage();
  const problems = [];
  const wasm = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    // A connection that ends while its upgrade probe is still connecting closes that
    // WebSocket; Chromium prints it (so it does for socket.io-client).
    if (/WebSocket is closed before the connection is established/.test(msg.text())) return;
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on("response", (res) => {
    const path = new URL(res.url()).pathname;
    if (path.endsWith(".wasm")) wasm.push({ path, status: res.status(), type: res.headers()["content-type"] });
  });
  try {
    await page.goto(`${url}?server=${encodeURIComponent(`http://127.0.0.1:${state.server.port}`)}`, { timeout: 15_000 });
    // The app's report, or a page error (a module that failed to load never reports).
    const deadline = Date.now() + 15_000;
    let app;
    while (Date.now() < deadline && !problems.some((p) => p.startsWith("page error"))) {
      app = await page.evaluate(() => window.app).catch(() => undefined); // undefined across a reload
      if (app?.done) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(app?.done, `the app did not report within 15 s: ${JSON.stringify(problems)}`);
    assert.equal(app.error, null, `the app failed: ${app.error}`);
    assert.deepEqual(problems, []);
    assertResult(app.result);
    await assertPage?.(page);
    return wasm;
  } catch (err) {
    const dir = join(ROOT, "test-results", "e2e");
    await mkdir(dir, { recursive: true }).catch(() => {});
    const slug = `packaging--${t.name}`.replace(/[^a-zA-Z0-9._-]+/g, "_").slice(0, 120);
    await page.screenshot({ path: join(dir, `${slug}.png`), timeout: 5_000 }).catch(() => {});
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

/** The one .wasm response, served as application/wasm. */
function assertWasm(wasm, pathPattern) {
  assert.equal(wasm.length, 1, `wasm responses: ${JSON.stringify(wasm)}`);
  assert.match(wasm[0].path, pathPattern);
  assert.equal(wasm[0].status, 200);
  assert.equal(wasm[0].type, "application/wasm");
}

const skip = referenceMode ? "the package itself is under test (RESOCKET_E2E_CLIENT is set)" : false;

test("npm pack: the tarball holds the entry, the wasm, the types, the server helper and the package README", { skip }, async () => {
  assert.deepEqual(state.packed.files.map((f) => f.path).sort(), [...SHIPPED].sort());
  assert.deepEqual((await readdir(state.installed)).sort(), [...new Set(SHIPPED.map((f) => f.split("/")[0]))].sort());
  assert.deepEqual((await readdir(join(state.installed, "server"))).sort(), SERVER.map((f) => f.slice("server/".length)));

  const manifest = JSON.parse(await readFile(join(state.installed, "package.json"), "utf8"));
  const cargo = await readFile(join(ROOT, "Cargo.toml"), "utf8");
  assert.equal(manifest.name, "resocket");
  assert.equal(manifest.version, /^version\s*=\s*"([^"]+)"/m.exec(cargo)[1]);
  assert.equal(manifest.license, "MIT");
  assert.equal(manifest.type, "module");
  assert.deepEqual(manifest.exports["."], { types: "./index.d.ts", default: "./index.js" });
  assert.deepEqual(manifest.exports["./server"], { types: "./server/index.d.ts", default: "./server/index.js" });
  assert.equal(manifest.types, "./index.d.ts");
  assert.ok(manifest.sideEffects.includes("./index.js"), "index.js instantiates the wasm when imported");
  for (const key of ["description", "repository", "keywords"]) assert.ok(manifest[key], `package.json has no ${key}`);
  // Build scripts can find the wasm module to copy it (esbuild): resocket/resocket_wasm_bg.wasm.
  assert.equal(createRequire(join(state.app, "build.js")).resolve(`resocket/${WASM}`), join(state.installed, WASM));

  const readme = await readFile(join(state.installed, "README.md"), "utf8");
  assert.match(readme, /npm i resocket/);
  assert.match(readme, /import \{ io \} from "resocket"/);
  assert.doesNotMatch(readme, /\{\{|npm test/, "the package README is the template, filled in");
});

test("no bundler: a module script imports the served package's index.js", { skip }, async (t) => {
  const site = await serveDirectory(state.app, { "/pkg/": state.installed });
  try {
    assertWasm(await checkApp(t, `${site.url}/plain.html`), /^\/pkg\/resocket_wasm_bg\.wasm$/);
  } finally {
    await site.close();
  }
});

test("Vite, default config: vite build", { skip }, async (t) => {
  const built = await run(join(BIN, "vite"), ["build", "--logLevel", "warn"], { cwd: state.app });
  assert.equal(`${built.stdout}${built.stderr}`.trim(), "", "vite build warned");
  const assets = await readdir(join(state.app, "dist", "assets"));
  assert.ok(assets.some((f) => /^resocket_wasm_bg-.+\.wasm$/.test(f)), `no wasm asset: ${assets}`);
  const site = await serveDirectory(join(state.app, "dist"));
  try {
    assertWasm(await checkApp(t, `${site.url}/`), /^\/assets\/resocket_wasm_bg-.+\.wasm$/);
  } finally {
    await site.close();
  }
});

test("Vite, default config: the dev server", { skip }, async (t) => {
  const port = await freePort();
  const child = spawnTracked(join(BIN, "vite"), ["--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: state.app,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  try {
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await fetch(`${url}/`).catch(() => null);
      if (res?.ok) break;
      assert.ok(Date.now() < deadline && child.exitCode === null, `the Vite dev server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assertWasm(await checkApp(t, `${url}/`), /resocket_wasm_bg\.wasm$/);
  } finally {
    await stopChild(child); // SIGTERM, SIGKILL after 3 s
  }
});

test("esbuild: --bundle --format=esm, and the .wasm copied next to the bundle", { skip }, async (t) => {
  const out = join(state.app, "dist-esbuild");
  // What the README says: bundle, then `cp node_modules/resocket/resocket_wasm_bg.wasm dist/`.
  const built = await run(join(BIN, "esbuild"), ["main.js", "--bundle", "--format=esm", `--outdir=${out}`, "--log-level=warning"], {
    cwd: state.app,
  });
  assert.equal(`${built.stdout}${built.stderr}`.trim(), "", "esbuild warned");
  // The opt-in features the app does not import are not in its bundle.
  const bundle = await readFile(join(out, "main.js"), "utf8");
  for (const [feature, mark] of [["share.js", "resocket-share:"], ["persist.js", "indexedDB"]]) {
    assert.ok(!bundle.includes(mark), `the bundle holds ${feature} ("${mark}")`);
  }
  await copyFile(join(state.app, "node_modules", "resocket", WASM), join(out, WASM));
  await copyFile(join(state.app, "index.html"), join(out, "index.html"));
  const site = await serveDirectory(out);
  try {
    assertWasm(await checkApp(t, `${site.url}/`), /^\/resocket_wasm_bg\.wasm$/);
  } finally {
    await site.close();
  }
});

test("esbuild without the .wasm copied: the import fails, naming the missing file", { skip }, async () => {
  const out = join(state.app, "dist-esbuild-nowasm");
  await run(join(BIN, "esbuild"), ["main.js", "--bundle", "--format=esm", `--outdir=${out}`, "--log-level=warning"], {
    cwd: state.app,
  });
  await copyFile(join(state.app, "index.html"), join(out, "index.html"));
  const site = await serveDirectory(out);
  const context = await state.browser.newContext();
  try {
    const page = await context.newPage();
    const failed = page.waitForEvent("pageerror", { timeout: 15_000 });
    await page.goto(`${site.url}/`, { timeout: 15_000 });
    assert.match((await failed).message, /failed to fetch Wasm: 404 .*resocket_wasm_bg\.wasm/);
  } finally {
    await context.close().catch(() => {});
    await site.close();
  }
});

// The trap app's report: the dead client heard the trap once, by a socket "disconnect"
// and a Manager "error", and the new client, on a fresh instance, got its event.
function assertTrapped(result) {
  console.log(`trap app: ${JSON.stringify(result)}`);
  assert.ok(result.grown >= 2 ** 31, `the memory was grown to its limit (${result.grown} bytes)`);
  assert.deepEqual(result.reports.sort(), ["disconnect:transport error:WasmTrap", "error:WasmTrap"]);
  assert.equal(result.dead, false, "the dead client is inactive");
  assert.equal(result.news, 42, "the new client received the event");
  assert.ok(result.memory < 64 * 2 ** 20, `the new client runs on a fresh instance (${result.memory} bytes of memory)`);
  assert.ok(
    state.server.log.some((e) => e.event === "connection" && e.id === result.fresh),
    `the server has no connection of socket ${result.fresh}`,
  );
}

// The dead instance's memory and its buffer are collected (WeakRefs cleared) by garbage
// collections forced through CDP, while the app still holds its dead client: the bundler
// kept what lets go of them.
async function assertReleased(page) {
  const cdp = await page.context().newCDPSession(page);
  let released = [];
  for (let i = 0; i < 10; i += 1) {
    await cdp.send("HeapProfiler.collectGarbage");
    released = await page.evaluate(() => window.exhausted.map((ref) => ref.deref() === undefined));
    if (released.every(Boolean)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await cdp.detach().catch(() => {});
  assert.deepEqual(released, [true, true], "the dead instance's memory and its buffer were collected");
}

const TRAP = { assertResult: assertTrapped, init: join(APP_SOURCES, "note-wasm-memories.js"), assertPage: assertReleased };

test("Vite, default config, an app whose wasm traps: WasmTrap reported, then a new io() works", { skip }, async (t) => {
  // `vite build trap`: the trap app's own root (its index.html), output in trap/dist.
  const built = await run(join(BIN, "vite"), ["build", "trap", "--logLevel", "warn"], { cwd: state.app });
  assert.equal(`${built.stdout}${built.stderr}`.trim(), "", "vite build warned");
  const site = await serveDirectory(join(state.app, "trap", "dist"));
  try {
    assertWasm(await checkApp(t, `${site.url}/`, TRAP), /^\/assets\/resocket_wasm_bg-.+\.wasm$/);
  } finally {
    await site.close();
  }
});

test("esbuild, an app whose wasm traps: WasmTrap reported, then a new io() works", { skip }, async (t) => {
  const out = join(state.app, "dist-esbuild-trap");
  const built = await run(join(BIN, "esbuild"), ["trap/main.js", "--bundle", "--format=esm", `--outdir=${out}`, "--log-level=warning"], {
    cwd: state.app,
  });
  assert.equal(`${built.stdout}${built.stderr}`.trim(), "", "esbuild warned");
  await copyFile(join(state.app, "node_modules", "resocket", WASM), join(out, WASM));
  await copyFile(join(state.app, "trap", "index.html"), join(out, "index.html"));
  const site = await serveDirectory(out);
  try {
    assertWasm(await checkApp(t, `${site.url}/`, TRAP), /^\/resocket_wasm_bg\.wasm$/);
  } finally {
    await site.close();
  }
});

test("TypeScript resolves the installed package's types (moduleResolution bundler and node16)", { skip }, async () => {
  // tests/types/usage.ts as an app's source, `resocket` found in node_modules through
  // package.json (exports "types" for bundler/node16), strict, declarations checked too.
  await copyFile(join(ROOT, "tests", "types", "usage.ts"), join(state.app, "usage.ts"));
  const base = { strict: true, noEmit: true, target: "es2022", lib: ["es2022", "dom"], types: [], skipLibCheck: false, skipDefaultLibCheck: true };
  const configs = {
    "tsconfig.bundler.json": { ...base, module: "esnext", moduleResolution: "bundler", verbatimModuleSyntax: true },
    "tsconfig.node16.json": { ...base, module: "node16", moduleResolution: "node16" },
  };
  await Promise.all(
    Object.entries(configs).map(([name, compilerOptions]) =>
      writeFile(join(state.app, name), JSON.stringify({ compilerOptions, files: ["usage.ts"] })),
    ),
  );
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  await Promise.all(
    Object.keys(configs).map((name) =>
      run(process.execPath, [tsc, "-p", name, "--pretty", "false", "--listFiles"], { cwd: state.app }).then(({ stdout }) => {
        // The declarations come from the installed package, not from pkg/ or elsewhere.
        const declarations = stdout.split("\n").filter((f) => f.endsWith(".d.ts") && !f.includes("/typescript/lib/"));
        assert.deepEqual(declarations, [join(state.installed, "index.d.ts")], `${name}: ${stdout}`);
      }),
    ),
  );
});

test("resocket/server: Node imports the installed helper; TypeScript resolves its types (bundler and node16)", { skip }, async () => {
  const imported = await run(
    process.execPath,
    ["--input-type=module", "-e", 'const m = await import("resocket/server"); console.log(Object.keys(m).sort().join(" "))'],
    { cwd: state.app },
  );
  assert.equal(imported.stdout.trim(), "exactlyOnce memoryStore redisStore");

  // The app has no socket.io of its own (installed offline, resocket alone): its types
  // come from the repository's node_modules.
  const usage = `import { Server } from "socket.io";
import { exactlyOnce, memoryStore } from "resocket/server";
const io = new Server();
const detach: () => void = exactlyOnce(io, { store: memoryStore({ maxClients: 10 }), pendingTimeout: 5000 });
detach();
`;
  await writeFile(join(state.app, "server-usage.ts"), usage);
  const modules = join(ROOT, "node_modules");
  const base = {
    strict: true,
    noEmit: true,
    target: "es2022",
    types: ["node"],
    typeRoots: [join(modules, "@types")],
    paths: { "socket.io": [join(modules, "socket.io", "dist", "index.d.ts")] },
    skipLibCheck: false,
  };
  const configs = {
    "tsconfig.server-bundler.json": { ...base, module: "esnext", moduleResolution: "bundler" },
    "tsconfig.server-node16.json": { ...base, module: "node16", moduleResolution: "node16" },
  };
  await Promise.all(
    Object.entries(configs).map(([name, compilerOptions]) =>
      writeFile(join(state.app, name), JSON.stringify({ compilerOptions, files: ["server-usage.ts"] })),
    ),
  );
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  await Promise.all(
    Object.keys(configs).map((name) =>
      run(process.execPath, [tsc, "-p", name, "--pretty", "false", "--listFiles"], { cwd: state.app }).then(({ stdout }) => {
        // The helper's declarations come from the installed package, not from src/ or pkg/.
        const ours = stdout.split("\n").filter((f) => f.startsWith(state.installed) || f.endsWith(join("server", "index.d.ts")));
        assert.deepEqual(ours, [join(state.installed, "server", "index.d.ts")], `${name}: ${stdout}`);
      }),
    ),
  );
});
