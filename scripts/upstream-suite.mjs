// Runs socket.io-client's own browser test suite in headless Chromium against either
// socket.io-client (node_modules, the reference) or resocket (pkg/), and prints the
// passes and failures per file, the failing tests with their errors, and writes a JSON
// summary to test-results/upstream-suite-<client>.json (replaced by every run).
//
//   node scripts/upstream-suite.mjs <socket.io checkout> [options]
//   UPSTREAM_SOCKET_IO=<socket.io checkout> node scripts/upstream-suite.mjs [options]
//
//   --client=resocket|socket.io-client|both   default: resocket
//   --mode=one-page|isolated|both             default: both
//   --timeout=<ms>    mocha's per-test timeout (default 10000: upstream's Node.js run has
//                     mocha's 2 s, its WebdriverIO run 60 s; a page is slower than Node.js,
//                     and a test that hangs should not cost a minute)
//   --linger=<ms>     how long a page stays open after its last test, for late errors
//                     (a done() called twice, a listener throwing later; default 500)
//   --grep=<text>     only the tests whose full title contains <text>
//   --pkg=<dir>       the built resocket package to test (default pkg/), e.g. a copy kept
//                     to compare two builds
//
// The suite is packages/socket.io-client/test of the socket.io monorepo. It is not part
// of this repository and cannot be downloaded in CI, so neither CI nor `npm test` runs
// this script. Get it once, anywhere (target/ is ignored by git):
//   git clone https://github.com/socketio/socket.io target/upstream/socket.io
//   git -C target/upstream/socket.io checkout socket.io-client@4.8.3
// (that directory has not changed since 4.8.3: 4.8.4 ships the same tests) and pass the
// checkout, or a copy of packages/socket.io-client/test alone (with the package's
// package.json beside it, which says which test files a browser cannot run).
//
// What it does with it, all at run time, under target/upstream-suite/:
// - installs the suite's test tools (mocha, expect.js, @sinonjs/fake-timers, and the
//   small helpers the tests import), at the versions the monorepo locks, with
//   `npm install --no-save` there, once: only this script needs them;
// - bundles the browser-runnable files of test/index.ts, in its order, with esbuild,
//   their `..` import (the client) pointed at the chosen client;
// - runs test/support/server.ts (the suite's server, port 3210) with this repository's
//   socket.io, and serves the test page from that same server, at the tests' BASE_URL;
// - runs the tests with mocha in the page: "one page" runs every file in one page, as the
//   suite runs; "isolated" runs each test alone in a fresh browser context.
// Exit code: 0 when every test passed, 1 when some failed, 2 when the run could not start.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { createConnection } from "node:net";
import { dirname, join, relative, resolve, sep } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { spawnTracked, stopChild } from "./children.mjs";
import { sendFile, under } from "./static-files.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const WORK = join(ROOT, "target", "upstream-suite");
const PAGE_PREFIX = "/__upstream/";

// The versions in the socket.io monorepo's package-lock.json, so that the assertions and
// the fake clock behave as in upstream's own runs.
const TEST_TOOLS = {
  mocha: "10.6.0",
  "expect.js": "0.3.1",
  "@sinonjs/fake-timers": "11.2.2",
  "has-cors": "1.1.0",
  "text-blob-builder": "0.0.1",
  "base64-arraybuffer": "1.0.2",
};

class SetupError extends Error {}

// ---------------------------------------------------------------------------------------
// The server child: `--serve` is this same file started by the runner (below), so that an
// exception thrown by the suite's server (its handlers assert with expect.js) is reported
// and survives, instead of taking the runner down.

async function serve([serverBundle, wwwDir, depsDir]) {
  const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
  process.on("uncaughtException", (err) => say({ serverError: String(err?.stack ?? err) }));
  const { createServer } = createRequire(import.meta.url)(serverBundle);
  const io = createServer();
  const http = io.httpServer;
  http.once("error", (err) => {
    say({ fatal: `the suite's server cannot listen: ${err.message}` });
    process.exit(1);
  });
  // The page must come from the tests' own origin: BASE_URL is that origin, long-polling
  // needs it (the suite's server sends no CORS headers) and `new Manager(opts)` without a
  // URL connects to the page's location. So the page is served by the suite's server,
  // in front of its handlers, the way engine.io itself attaches to a server.
  const handlers = http.listeners("request");
  http.removeAllListeners("request");
  const mocha = join(depsDir, "node_modules", "mocha", "mocha.js");
  http.on("request", (req, res) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    if (!pathname.startsWith(PAGE_PREFIX)) {
      for (const handler of handlers) handler.call(http, req, res);
      return;
    }
    const rest = pathname.slice(PAGE_PREFIX.length);
    const file = rest === "mocha.js" ? mocha : under(wwwDir, rest);
    sendFile(res, file, pathname, { headers: { "cache-control": "no-store" } }).catch(() => res.destroy());
  });
  if (http.listening) say({ ready: true });
  else http.once("listening", () => say({ ready: true }));
}

if (process.argv[2] === "--serve") {
  await serve(process.argv.slice(3));
} else {
  process.exitCode = await main().catch((err) => {
    if (!(err instanceof SetupError)) throw err;
    console.error(`upstream-suite: ${err.message}`);
    return 2;
  });
}

// ---------------------------------------------------------------------------------------
// The runner.

function parseArgs(argv) {
  const opts = {
    client: "resocket",
    mode: "both",
    timeout: 10_000,
    linger: 500,
    grep: "",
    pkg: join(ROOT, "pkg"),
    path: process.env.UPSTREAM_SOCKET_IO,
  };
  for (const arg of argv) {
    const [, key, value] = /^--([a-z]+)(?:=(.*))?$/.exec(arg) ?? [];
    if (!key) opts.path = arg;
    else if (key === "client" && ["resocket", "socket.io-client", "both"].includes(value)) opts.client = value;
    else if (key === "mode" && ["one-page", "isolated", "both"].includes(value)) opts.mode = value;
    else if (key === "timeout" && Number(value) > 0) opts.timeout = Number(value);
    else if (key === "linger" && Number(value) >= 0) opts.linger = Number(value);
    else if (key === "grep" && value !== undefined) opts.grep = value;
    else if (key === "pkg" && value) opts.pkg = resolve(value);
    else throw new SetupError(`unknown or invalid option ${arg} (see the comment at the top of ${relative(ROOT, SELF)})`);
  }
  if (!opts.path) {
    throw new SetupError(
      `where is the socket.io checkout? Pass its path (or set UPSTREAM_SOCKET_IO); see the top of ${relative(ROOT, SELF)}`,
    );
  }
  return opts;
}

/** The test directory of a checkout (or the directory itself), and the suite's files in order. */
function locateSuite(path) {
  const given = resolve(path);
  const testDir = [join(given, "packages", "socket.io-client", "test"), given].find(
    (dir) => existsSync(join(dir, "index.ts")) && existsSync(join(dir, "support", "server.ts")),
  );
  if (!testDir) {
    throw new SetupError(`${given} holds neither packages/socket.io-client/test/ nor test/index.ts + test/support/server.ts`);
  }
  // The package's "browser" field says which test files a browser cannot run (test/node.ts
  // spawns Node.js processes); without the package.json, that is the one it has always named.
  let excluded = new Set(["./test/node.ts"]);
  const manifest = join(testDir, "..", "package.json");
  if (existsSync(manifest)) {
    const browser = JSON.parse(readFileSync(manifest, "utf8")).browser ?? {};
    excluded = new Set(Object.entries(browser).filter(([, to]) => to === false).map(([from]) => from));
  }
  const files = [...readFileSync(join(testDir, "index.ts"), "utf8").matchAll(/^import\s+"\.\/([^"]+)";/gm)]
    .map((m) => m[1])
    .filter((name) => !excluded.has(`./test/${name}.ts`));
  if (!files.length) throw new SetupError(`no test file imported by ${join(testDir, "index.ts")}`);
  for (const name of files) {
    if (!existsSync(join(testDir, `${name}.ts`))) throw new SetupError(`${join(testDir, `${name}.ts`)} is missing`);
  }
  const util = readFileSync(join(testDir, "support", "util.ts"), "utf8");
  const baseUrl = /BASE_URL\s*=\s*"([^"]+)"/.exec(util)?.[1];
  if (!baseUrl) throw new SetupError(`no BASE_URL in ${join(testDir, "support", "util.ts")}`);
  return { testDir, files, baseUrl, revision: revisionOf(testDir) };
}

/** The checkout's commit (and nearest tag), when the tests are in a git work tree of their own. */
function revisionOf(dir) {
  const git = (...args) => spawnSync("git", ["-C", dir, ...args], { encoding: "utf8" });
  const top = git("rev-parse", "--show-toplevel");
  // A copy extracted under this repository's target/ is not socket.io's history.
  if (top.status !== 0 || resolve(top.stdout.trim()) === resolve(ROOT)) return null;
  const described = git("describe", "--tags", "--always");
  return described.status === 0 ? described.stdout.trim() : null;
}

function ensureTestTools() {
  const dir = join(WORK, "deps");
  const stamp = join(dir, "installed.json");
  const wanted = JSON.stringify(TEST_TOOLS);
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === wanted) return dir;
  mkdirSync(dir, { recursive: true });
  // A manifest of its own, so that npm installs here and never touches the repository's.
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ private: true }, null, 2)}\n`);
  const specs = Object.entries(TEST_TOOLS).map(([name, version]) => `${name}@${version}`);
  console.log(`installing the suite's test tools into ${relative(ROOT, dir)}: ${specs.join(" ")}`);
  const npm = spawnSync(
    "npm",
    ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", dir, ...specs],
    { stdio: "inherit" },
  );
  if (npm.status !== 0) throw new SetupError(`npm install of the test tools failed (${npm.error?.message ?? npm.status})`);
  writeFileSync(stamp, wanted);
  return dir;
}

function clientInfo(client, pkg) {
  if (client === "socket.io-client") {
    const manifest = join(ROOT, "node_modules", "socket.io-client", "package.json");
    if (!existsSync(manifest)) throw new SetupError("socket.io-client is not in node_modules: run `npm ci`");
    return { name: client, version: JSON.parse(readFileSync(manifest, "utf8")).version };
  }
  const manifest = join(pkg, "package.json");
  if (!existsSync(join(pkg, "index.js")) || !existsSync(manifest)) {
    throw new SetupError(`${pkg} holds no built package: run \`npm run build\``);
  }
  const built = statSync(join(pkg, "index.js")).mtimeMs;
  // The build writes the wasm first and index.js last.
  const older = (f) => !existsSync(join(pkg, f)) || statSync(join(pkg, f)).mtimeMs > built;
  if (older("resocket_wasm_bg.wasm")) {
    throw new SetupError(`${pkg} is being rebuilt (its wasm is newer than its index.js): run again once the build is done`);
  }
  if (pkg === join(ROOT, "pkg")) {
    const newer = [];
    const walk = (dir) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (statSync(p).mtimeMs > built) newer.push(relative(ROOT, p));
      }
    };
    walk(join(ROOT, "src"));
    if (newer.length) {
      const some = newer.slice(0, 3).join(", ");
      console.warn(`warning: pkg/ is older than ${newer.length} file(s) of src/ (${some}): \`npm run build\` to test them`);
    }
  }
  return { name: client, version: JSON.parse(readFileSync(manifest, "utf8")).version, pkg, built: new Date(built).toISOString() };
}

// The page's harness, a classic script run after mocha.js and before the bundle.
function harness() {
  // Each top-level describe remembers the file that declared it: the bundle sets
  // __upstreamFile before the code of each file.
  const tagged = (describe) =>
    function (...args) {
      const suite = describe.apply(this, args);
      if (suite && !suite.upstreamFile) suite.upstreamFile = globalThis.__upstreamFile;
      return suite;
    };
  window.describe = Object.assign(tagged(window.describe), {
    only: tagged(window.describe.only),
    skip: tagged(window.describe.skip),
  });
  // Under Node.js (upstream's own runs), an unhandled rejection is thrown, and fails the
  // test under way: the same here, through the error event that mocha listens to (from a
  // microtask: a test may have replaced setTimeout with a fake clock).
  window.addEventListener("unhandledrejection", (event) => {
    queueMicrotask(() => {
      throw event.reason instanceof Error ? event.reason : new Error(`unhandled rejection: ${String(event.reason)}`);
    });
  });
  // Errors once mocha is done (it stops listening then) are still the tests' doing: a
  // callback run twice, a listener that throws late. In upstream's single run they fail
  // whatever test runs at that moment; here they are kept for the runner.
  window.addEventListener("error", (event) => {
    if (!window.__upstreamLoaded) window.__upstreamLoadError ??= String(event.error?.stack ?? event.message);
    else if (window.__upstreamOutcome?.ended) window.__upstreamOutcome.late.push(describeError(event.error ?? event.message));
  });

  const fileOf = (runnable) => {
    for (let s = runnable.parent; s; s = s.parent) if (s.upstreamFile) return s.upstreamFile;
    return null;
  };
  const describeError = (err) => ({
    message: String(err?.message ?? err),
    stack: err?.stack ? String(err.stack).split("\n").slice(0, 8).join("\n") : "",
  });

  window.__upstreamList = () => {
    const tests = [];
    const walk = (suite) => {
      for (const test of suite.tests) {
        test.upstreamId = tests.length;
        tests.push({ id: test.upstreamId, file: fileOf(test), title: test.fullTitle() });
      }
      for (const child of suite.suites) walk(child);
    };
    walk(mocha.suite);
    return tests;
  };

  // Runs the tests `ids` (all when null); the outcome is also kept in __upstreamOutcome,
  // so that the runner can read what finished if the page never gets to the end.
  window.__upstreamRun = (ids) =>
    new Promise((resolve) => {
      if (ids) {
        const keep = new Set(ids);
        const prune = (suite) => {
          suite.tests = suite.tests.filter((t) => keep.has(t.upstreamId));
          suite.suites.forEach(prune);
        };
        prune(mocha.suite);
      }
      const outcome = (window.__upstreamOutcome = { tests: {}, extra: [], late: [], ended: false });
      const record = (test) =>
        (outcome.tests[test.upstreamId] ??= { state: "running", durationMs: null, errors: [] });
      const runner = mocha.run();
      runner.on("test", (test) => {
        record(test);
        window.__upstreamEvent?.({ begin: test.upstreamId });
      });
      runner.on("pass", (test) => {
        const r = record(test);
        if (r.state !== "failed") r.state = "passed";
      });
      runner.on("fail", (runnable, err) => {
        // A hook's failure belongs to the test it ran for; a late error (after its test
        // ended, or outside any test) still counts, as in upstream's runs.
        const test = runnable.type === "test" ? runnable : runnable.ctx?.currentTest;
        if (test && test.upstreamId !== undefined) {
          const r = record(test);
          r.state = "failed";
          r.errors.push({ ...describeError(err), ...(test === runnable ? {} : { in: runnable.fullTitle() }) });
        } else {
          outcome.extra.push({ title: runnable.fullTitle(), ...describeError(err) });
        }
      });
      runner.on("test end", (test) => {
        const r = record(test);
        r.durationMs = test.duration ?? null;
        if (r.state === "running") r.state = test.isPending() ? "pending" : "failed";
        window.__upstreamEvent?.({ end: test.upstreamId, state: r.state });
      });
      runner.on("end", () => {
        outcome.ended = true;
        resolve();
      });
    });
}

// The client is an ES module of its own (resocket's top-level await needs one); the tests
// are a classic script, loaded once the client is there: expect.js, like any CommonJS
// module of its time, relies on sloppy mode (it assigns a function's `length`), which
// the strict mode of an ES module bundle would turn into a TypeError in every assertion.
function pageHtml({ timeout, clientUrl }) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>socket.io-client test suite</title><link rel="icon" href="data:,"></head>
<body>
<div id="mocha"></div>
<script src="${PAGE_PREFIX}mocha.js"></script>
<script>mocha.setup({ ui: "bdd", timeout: ${timeout}, reporter: function () {} });</script>
<script>(${harness.toString()})();</script>
<script type="module">
try {
  window.__upstreamClient = await import(${JSON.stringify(clientUrl)});
  const tests = document.createElement("script");
  tests.src = "${PAGE_PREFIX}suite.js";
  tests.onerror = () => (window.__upstreamLoadError ??= "${PAGE_PREFIX}suite.js did not load");
  document.head.append(tests);
} catch (err) {
  window.__upstreamLoadError ??= "the client did not load: " + (err && err.stack || err);
}
</script>
</body>
</html>
`;
}

/** Builds the page bundle (the tests, pointed at `client`) and the server bundle into `dir`. */
async function buildBundles({ suite, client, pkg, depsDir, dir }) {
  const esbuild = await import("esbuild");
  const pkgRoot = dirname(suite.testDir);
  const inSuite = (importer) => importer && (importer === suite.testDir || importer.startsWith(suite.testDir + sep));
  // Bare imports of the tests come from the installed test tools, then from this
  // repository's node_modules (engine.io-client, socket.io): never from whatever a
  // checkout may have installed around itself.
  const fromOurs = (build) => async (args) => {
    if (!inSuite(args.importer) || args.pluginData === "ours") return undefined;
    for (const resolveDir of [depsDir, ROOT]) {
      const r = await build.resolve(args.path, { kind: args.kind, resolveDir, pluginData: "ours" });
      if (!r.errors.length) return r;
    }
    return { errors: [{ text: `cannot resolve ${args.path} from the test tools or this repository` }] };
  };
  const virtual = (path) => ({ path, namespace: "upstream" });

  const pagePlugin = {
    name: "upstream-page",
    setup(build) {
      build.onResolve({ filter: /^upstream:/ }, (args) => virtual(args.path));
      build.onLoad({ filter: /.*/, namespace: "upstream" }, (args) => {
        const [, what, name] = args.path.split(":");
        if (what === "file") return { contents: `globalThis.__upstreamFile = ${JSON.stringify(name)};`, loader: "js" };
        if (what === "loaded") return { contents: "globalThis.__upstreamLoaded = true;", loader: "js" };
        if (what === "builtin") return { contents: "module.exports = {};", loader: "js" };
        if (what === "client") return { contents: "module.exports = window.__upstreamClient;", loader: "js" };
        // resocket has no url() module: the url tests read that socket.io-client internal.
        const message = "resocket has no url() module (socket.io-client's internal build/cjs/url)";
        return { contents: `export function url() { throw new Error(${JSON.stringify(message)}); }`, loader: "js" };
      });
      // Node.js modules that the test tools require only when they find a `process`
      // (@sinonjs/fake-timers: util): nothing, as in a browser bundle of webpack 5.
      build.onResolve({ filter: /^[a-z_]/ }, (args) =>
        builtinModules.includes(args.path.replace(/^node:/, "")) ? virtual(`upstream:builtin:${args.path}`) : undefined,
      );
      build.onResolve({ filter: /^\.\./ }, async (args) => {
        if (!inSuite(args.importer)) return undefined;
        const target = resolve(args.resolveDir, args.path);
        if (target === pkgRoot) return virtual("upstream:client");
        if (target === join(pkgRoot, "build", "cjs", "url")) {
          if (client === "resocket") return virtual("upstream:url-stub");
          // Not among the package's exports: taken by its path, from the ESM build.
          return { path: join(ROOT, "node_modules", "socket.io-client", "build", "esm", "url.js") };
        }
        return undefined;
      });
      build.onResolve({ filter: /^[^./]/ }, fromOurs(build));
    },
  };
  const entry = [
    ...suite.files.flatMap((name) => [
      `import "upstream:file:${name}";`,
      `import ${JSON.stringify(join(suite.testDir, `${name}.ts`))};`,
    ]),
    `import "upstream:loaded";`,
  ].join("\n");
  const www = join(dir, "www");
  rmSync(www, { recursive: true, force: true });
  mkdirSync(www, { recursive: true });
  await esbuild.build({
    stdin: { contents: entry, resolveDir: suite.testDir, sourcefile: "suite-entry.js", loader: "js" },
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    outfile: join(www, "suite.js"),
    // The tests were written for webpack-era bundles, where `global` is the window.
    define: { global: "globalThis" },
    // Compiled alike whatever tsconfig a checkout has around the tests.
    tsconfigRaw: "{}",
    plugins: [pagePlugin],
    logLevel: "error",
  });

  let clientUrl = `${PAGE_PREFIX}pkg/index.js`;
  if (client === "resocket") {
    // A copy: pkg/ may be rebuilt while the runs go on, and a page must not load the new
    // JS with the old wasm, nor one mode test another build than the other.
    cpSync(pkg, join(www, "pkg"), { recursive: true });
  } else {
    // Its browser ES module build, as an application bundler would pick it.
    await esbuild.build({
      stdin: { contents: `export * from "socket.io-client";`, resolveDir: ROOT, loader: "js" },
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      outfile: join(www, "client.js"),
      logLevel: "error",
    });
    clientUrl = `${PAGE_PREFIX}client.js`;
  }

  const serverPlugin = {
    name: "upstream-server",
    setup(build) {
      // This repository's socket.io, loaded by the server child at run time, never bundled.
      build.onResolve({ filter: /^socket\.io$/ }, () => ({
        path: createRequire(join(ROOT, "package.json")).resolve("socket.io"),
        external: true,
      }));
      build.onResolve({ filter: /^[^./]/ }, fromOurs(build));
    },
  };
  const serverBundle = join(dir, "server.cjs");
  await esbuild.build({
    entryPoints: [join(suite.testDir, "support", "server.ts")],
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node18",
    outfile: serverBundle,
    tsconfigRaw: "{}",
    plugins: [serverPlugin],
    logLevel: "error",
  });
  return { www, serverBundle, clientUrl };
}

function portBusy(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolvePort) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once("error", () => resolvePort(false));
  });
}

/** Starts the suite's server child; resolves to { stop(), onError(fn) }. */
async function startServer({ serverBundle, www, depsDir, baseUrl }) {
  if (await portBusy(baseUrl)) throw new SetupError(`something already listens at ${baseUrl}, the suite's server address`);
  const child = spawnTracked(process.execPath, [SELF, "--serve", serverBundle, www, depsDir], { cwd: ROOT });
  let onError = () => {};
  const lines = createInterface({ input: child.stdout });
  createInterface({ input: child.stderr }).on("line", (line) => console.error(`  [server] ${line}`));
  await new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new SetupError("the suite's server did not start within 15 s")), 15_000);
    child.once("exit", (code) => reject(new SetupError(`the suite's server exited (${code}) before it was ready`)));
    lines.on("line", (line) => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        console.log(`  [server] ${line}`);
        return;
      }
      if (msg.ready) {
        clearTimeout(timer);
        resolveReady();
      } else if (msg.fatal) {
        clearTimeout(timer);
        reject(new SetupError(msg.fatal));
      } else if (msg.serverError) onError(msg.serverError);
    });
  });
  let stopping = false;
  child.once("exit", (code, signal) => {
    if (!stopping) onError(`the suite's server exited (${signal ?? code}) during the run: the tests after this one cannot pass`);
  });
  return {
    onError(fn) {
      onError = fn;
    },
    stop: () => {
      stopping = true;
      return stopChild(child);
    },
  };
}

/**
 * Opens the page in a fresh context and waits for the bundle; resolves to { context,
 * page, tests }. `onEvent` hears of each test's begin and end.
 */
async function openPage(browser, baseUrl, onEvent) {
  const context = await browser.newContext();
  await context.exposeBinding("__upstreamEvent", (_source, event) => onEvent(event));
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(String(err?.message ?? err)));
  try {
    await page.goto(new URL(`${PAGE_PREFIX}index.html`, baseUrl).href, { timeout: 15_000 });
    await page.waitForFunction(() => window.__upstreamLoaded || window.__upstreamLoadError, null, { timeout: 30_000 });
    const loadError = await page.evaluate(() => window.__upstreamLoadError ?? null);
    if (loadError) throw new SetupError(`the test bundle failed to load in the page: ${loadError}`);
    return { context, page, tests: await page.evaluate(() => window.__upstreamList()) };
  } catch (err) {
    await context.close().catch(() => {});
    if (err instanceof SetupError) throw err;
    const also = pageErrors.length ? ` (page errors: ${pageErrors.join("; ")})` : "";
    throw new SetupError(`the test page did not load: ${err.message}${also}`);
  }
}

/**
 * Runs `ids` (all when null) in `page`, then lingers `lingerMs` for late errors; gives up
 * `budgetMs` later, keeping what finished.
 */
async function runInPage(page, ids, budgetMs, lingerMs) {
  let timer;
  const watchdog = new Promise((resolveLate) => {
    timer = setTimeout(() => resolveLate(false), budgetMs);
  });
  const crashed = new Promise((resolveCrash) => page.once("crash", () => resolveCrash(false)));
  const run = page.evaluate((sel) => window.__upstreamRun(sel), ids).then(() => true);
  const finished = await Promise.race([run, watchdog, crashed]).catch(() => false);
  clearTimeout(timer);
  if (finished) await new Promise((r) => setTimeout(r, lingerMs));
  const outcome = await page.evaluate(() => window.__upstreamOutcome ?? null).catch(() => null);
  return { tests: outcome?.tests ?? {}, extra: outcome?.extra ?? [], late: outcome?.late ?? [], unfinished: !finished };
}

async function runMode({ browser, server, baseUrl, mode, timeout, grep, linger }) {
  let current = null;
  const serverErrors = [];
  server.onError((error) => serverErrors.push({ id: current, error }));
  const onEvent = (event) => {
    if (event.begin !== undefined) current = event.begin;
  };
  // Upper bound for a page: every test up to its timeout, and the page's own start.
  const budget = (n) => n * (timeout + 2_000) + 30_000;
  const started = Date.now();
  const first = await openPage(browser, baseUrl, onEvent);
  const tests = first.tests;
  const selected = tests.filter((t) => t.title.includes(grep));
  const results = {};
  const extra = [];
  const notes = [];
  const absorb = (outcome, ids) => {
    Object.assign(results, outcome.tests);
    extra.push(...outcome.extra);
    const late = outcome.late.map((e) => ({ ...e, in: "after the test ended" }));
    // Alone in its page, a test is the only one that can have caused a late error.
    if (ids.length === 1 && results[ids[0]]) {
      if (late.length) results[ids[0]].state = "failed";
      results[ids[0]].errors.push(...late);
    } else extra.push(...late.map((e) => ({ title: "(after the last test)", ...e })));
    if (outcome.unfinished) notes.push(`the page did not finish within ${budget(ids.length)} ms (tests ${ids.join(", ")})`);
  };
  if (mode === "one-page") {
    const ids = selected.map((t) => t.id);
    absorb(await runInPage(first.page, grep ? ids : null, budget(ids.length), linger), ids);
    await first.context.close().catch(() => {});
  } else {
    await first.context.close().catch(() => {});
    for (const test of selected) {
      const { context, page } = await openPage(browser, baseUrl, onEvent);
      current = test.id;
      absorb(await runInPage(page, [test.id], budget(1), linger), [test.id]);
      await context.close().catch(() => {});
      process.stdout.write(results[test.id]?.state === "passed" ? "." : "F");
    }
    process.stdout.write("\n");
  }
  // Let a server error caused by the last test arrive.
  await new Promise((r) => setTimeout(r, 200));
  for (const { id, error } of serverErrors) {
    const entry = { message: `server-side error: ${error.split("\n")[0]}`, stack: error };
    if (id === null || !results[id]) extra.push({ title: "(no test under way)", ...entry });
    else {
      results[id].state = "failed";
      results[id].errors.push(entry);
    }
  }
  const rows = selected.map((t) => ({
    file: t.file,
    title: t.title,
    state: results[t.id]?.state === "running" ? "unfinished" : (results[t.id]?.state ?? "not run"),
    durationMs: results[t.id]?.durationMs ?? null,
    errors: results[t.id]?.errors ?? [],
  }));
  // "not run": mocha stops a run when a test that had passed fails afterwards (a
  // callback run twice), and a run may be cut by the page's time budget.
  const count = (list) => ({
    tests: list.length,
    passed: list.filter((r) => r.state === "passed").length,
    failed: list.filter((r) => r.state === "failed").length,
    notRun: list.filter((r) => r.state === "not run" || r.state === "unfinished").length,
    pending: list.filter((r) => r.state === "pending").length,
  });
  const files = [...new Set(rows.map((r) => r.file))].map((file) => ({ file, ...count(rows.filter((r) => r.file === file)) }));
  return { mode, durationMs: Date.now() - started, total: count(rows), files, extraFailures: extra, notes, tests: rows };
}

function printRun(info, run) {
  const title = { "one-page": "one page, every file in suite order", isolated: "isolated, each test in a fresh page" }[run.mode];
  console.log(`\n== ${info.name} ${info.version}: ${title} (${(run.durationMs / 1000).toFixed(1)} s)`);
  const width = Math.max(...run.files.map((f) => String(f.file).length), 5);
  for (const f of [...run.files, { file: "total", ...run.total }]) {
    const more = `${f.notRun ? `, ${f.notRun} not run` : ""}${f.pending ? `, ${f.pending} pending` : ""}`;
    const passed = `${String(f.passed).padStart(3)}/${String(f.tests).padEnd(3)} passed`;
    console.log(`  ${String(f.file).padEnd(width)}  ${passed}, ${f.failed} failed${more}`);
  }
  const failures = run.tests.filter((t) => t.state === "failed");
  if (failures.length) console.log(`  failures (${failures.length}):`);
  for (const t of failures) {
    console.log(`   - [${t.file}] ${t.title}`);
    const lines = new Map();
    for (const e of t.errors) {
      const line = `${e.in ? `${e.in}: ` : ""}${e.message.split("\n")[0].slice(0, 300)}`;
      lines.set(line, (lines.get(line) ?? 0) + 1);
    }
    for (const [line, n] of lines) console.log(`       ${line}${n > 1 ? `  (${n} times)` : ""}`);
  }
  const extra = new Map();
  for (const e of run.extraFailures) {
    const line = `${e.title}: ${e.message.split("\n")[0].slice(0, 300)}`;
    extra.set(line, (extra.get(line) ?? 0) + 1);
  }
  if (extra.size) console.log(`  errors outside any test (${run.extraFailures.length}):`);
  for (const [line, n] of extra) console.log(`   - ${line}${n > 1 ? `  (${n} times)` : ""}`);
  const notRun = run.tests.filter((t) => t.state === "not run" || t.state === "unfinished");
  if (notRun.length) console.log(`  not run (${notRun.length}): from [${notRun[0].file}] ${notRun[0].title} on`);
  for (const n of run.notes) console.log(`   ! ${n}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const suite = locateSuite(opts.path);
  const clients = opts.client === "both" ? ["socket.io-client", "resocket"] : [opts.client];
  const modes = opts.mode === "both" ? ["one-page", "isolated"] : [opts.mode];
  const depsDir = ensureTestTools();
  const { chromium } = await import("playwright-core");
  const { CHROMIUM, CHROMIUM_ARGS } = await import("../tests/e2e/support/browser.mjs");
  console.log(`suite: ${suite.testDir}${suite.revision ? ` (${suite.revision})` : ""}; files: ${suite.files.join(", ")}`);

  let failed = 0;
  let passed = 0;
  for (const client of clients) {
    const info = clientInfo(client, opts.pkg);
    const dir = join(WORK, client);
    const bundles = await buildBundles({ suite, client, pkg: opts.pkg, depsDir, dir }).catch((err) => {
      throw new SetupError(`bundling for ${client} failed: ${err.message}`);
    });
    writeFileSync(join(bundles.www, "index.html"), pageHtml({ timeout: opts.timeout, clientUrl: bundles.clientUrl }));
    const runs = [];
    for (const mode of modes) {
      // A fresh server and browser per run: nothing a run leaves behind reaches the next.
      const server = await startServer({ ...bundles, depsDir, baseUrl: suite.baseUrl });
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
      try {
        const run = await runMode({ ...opts, browser, server, baseUrl: suite.baseUrl, mode });
        printRun(info, run);
        runs.push(run);
        passed += run.total.passed;
        failed += run.total.tests - run.total.passed - run.total.pending;
      } finally {
        await browser.close().catch(() => {});
        await server.stop();
      }
    }
    const out = join(ROOT, "test-results", `upstream-suite-${client}.json`);
    mkdirSync(dirname(out), { recursive: true });
    const summary = {
      client: info,
      suite: { testDir: suite.testDir, revision: suite.revision, files: suite.files },
      timeoutMs: opts.timeout,
      grep: opts.grep || null,
      runs,
    };
    writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`  summary: ${relative(ROOT, out)}`);
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}
