// The package under a strict Content Security Policy: a page served with
//   default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' http://<server> ws://<server>
// (no 'unsafe-eval', no 'unsafe-inline') and nothing inline imports the built package
// (pkg/), connects to a real socket.io server on 127.0.0.1, receives an event and gets
// an acknowledgement, with no `securitypolicyviolation` event and no console error.
// The same page under the same policy less 'wasm-unsafe-eval' does not connect (the
// WebAssembly compilation is refused, and the page records the violation), nor does it
// with the server left out of connect-src: the header really is applied, the page
// would see a violation, and both of what the package adds to a locked-down policy are
// needed. The page's sources are in ./support/csp/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { CHROMIUM, CHROMIUM_ARGS } from "./support/browser.mjs";
import { startSocketIoServer } from "./support/processes.mjs";
import { routeFiles, startFileServer } from "./support/serve-dir.mjs";
import { packageBuilt, referenceMode, ROOT } from "./support/static.mjs";

const PAGE_DIR = fileURLToPath(new URL("./support/csp/", import.meta.url));
const PKG_DIR = join(ROOT, "pkg");

const state = { server: null, browser: null };

before(async () => {
  if (referenceMode) return; // the package, not socket.io-client, is under test here
  if (!packageBuilt()) throw new Error("pkg/index.js is missing: build the package first (node scripts/build-package.mjs)");
  // Each resource is recorded as soon as it exists, so that `after` releases it even if
  // the other one failed.
  await Promise.all([
    startSocketIoServer().then((server) => (state.server = server)),
    chromium
      .launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
      .then((browser) => (state.browser = browser)),
  ]);
});

after(async () => {
  await state.browser?.close().catch(() => {});
  await state.server?.stop();
});

/**
 * The policy of the tests, for a socket.io server on 127.0.0.1:`port`; `wasm: false`
 * or `server: false` leave out what the package needs, to show that it is needed.
 */
function policy(port, { wasm, server = true }) {
  return [
    // Whatever is not named below (styles, images, fonts, frames, workers, ...) may
    // only come from the page's own origin: nothing inline, nothing from elsewhere.
    "default-src 'self'",
    // The page's module and the package are files of the page's origin.
    // 'wasm-unsafe-eval' lets the page compile WebAssembly (the package is a wasm
    // module) and nothing more: eval() and new Function() stay forbidden.
    `script-src 'self'${wasm ? " 'wasm-unsafe-eval'" : ""}`,
    // 'self': the package fetches its .wasm file from where it is served. The
    // socket.io server's origins: http:// for long-polling (the default first
    // transport), ws:// for the upgrade, as for socket.io-client.
    `connect-src 'self'${server ? ` http://127.0.0.1:${port} ws://127.0.0.1:${port}` : ""}`,
  ].join("; ");
}

/**
 * Serves the page and pkg/ with the header `Content-Security-Policy: <csp>`, opens the
 * page in a fresh browser context with `?server=` pointing at the socket.io server, and
 * waits (at most 15 s) for the app's report. Resolves to { app (window.cspApp), header
 * (the policy the page was served with), consoleErrors, pageErrors }.
 */
async function openUnder(t, csp) {
  const site = await startFileServer(
    routeFiles({ index: join(PAGE_DIR, "index.html"), mounts: { "/csp/": PAGE_DIR, "/pkg/": PKG_DIR } }),
    { headers: { "cache-control": "no-store", "content-security-policy": csp } },
  );
  const context = await state.browser.newContext();
  const page = await context.newPage();
  const consoleErrors = [];
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("console", (msg) => {
    // The browser asks for /favicon.ico by itself; the page has none (a data: icon
    // would be an img-src violation of its own).
    if (msg.type() === "error" && !msg.location().url.endsWith("/favicon.ico")) consoleErrors.push(msg.text());
  });
  try {
    const server = `http://127.0.0.1:${state.server.port}`;
    const response = await page.goto(`${site.url}/?server=${encodeURIComponent(server)}`, { timeout: 15_000 });
    const header = response.headers()["content-security-policy"];
    await page.waitForFunction(() => window.cspApp?.done, null, { timeout: 15_000 }).catch(() => {});
    const app = await page.evaluate(() => window.cspApp);
    assert.ok(app?.done, `the app did not report within 15 s; page errors: ${JSON.stringify(pageErrors)}; console errors: ${JSON.stringify(consoleErrors)}`);
    return { app, header, consoleErrors, pageErrors };
  } catch (err) {
    const dir = join(ROOT, "test-results", "e2e");
    await mkdir(dir, { recursive: true }).catch(() => {});
    const slug = `csp--${t.name}`.replace(/[^a-zA-Z0-9._-]+/g, "_").slice(0, 120);
    await page.screenshot({ path: join(dir, `${slug}.png`), timeout: 5_000 }).catch(() => {});
    throw err;
  } finally {
    await context.close().catch(() => {});
    await site.close();
  }
}

const skip = referenceMode ? "the package itself is under test (RESOCKET_E2E_CLIENT is set)" : false;

test("strict CSP (script-src 'self' 'wasm-unsafe-eval'): the page connects, receives an event, gets an ack, no violation", { skip }, async (t) => {
  const csp = policy(state.server.port, { wasm: true });
  assert.doesNotMatch(csp, /'unsafe-(eval|inline)'/, "the policy stays strict");
  const { app, header, consoleErrors, pageErrors } = await openUnder(t, csp);
  assert.equal(header, csp, "the page was served with the policy");
  assert.equal(app.error, null, `the app failed: ${app.error}`);
  assert.deepEqual(app.violations, [], "no securitypolicyviolation event");
  assert.deepEqual(app.result.received, [{ hello: "event" }], "the server's event arrived");
  assert.deepEqual(app.result.echo, { hello: "ack" }, "the acknowledgement came back");
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(consoleErrors, []);
  assert.ok(
    state.server.log.some((e) => e.event === "connection" && e.id === app.result.id),
    `the server has no connection of socket ${app.result.id}`,
  );
});

test("the same policy without 'wasm-unsafe-eval': the WebAssembly compilation is refused and nothing connects", { skip }, async (t) => {
  const csp = policy(state.server.port, { wasm: false });
  const connectionsBefore = state.server.count((e) => e.event === "connection");
  const { app, header } = await openUnder(t, csp);
  assert.equal(header, csp, "the page was served with the policy");
  assert.equal(app.result, null, "the app must not have connected");
  assert.match(app.error ?? "", /WebAssembly/, "the package failed to load because WebAssembly could not be compiled");
  assert.ok(
    app.violations.some((v) => v.directive === "script-src" && v.blocked === "wasm-eval"),
    `the page recorded the violation: ${JSON.stringify(app.violations)}`,
  );
  assert.equal(state.server.count((e) => e.event === "connection"), connectionsBefore, "no connection reached the server");
  t.diagnostic(`refused as expected: ${app.error}`);
});

test("the strict policy without the server in connect-src: the request is refused, connect_error, nothing connects", { skip }, async (t) => {
  const csp = policy(state.server.port, { wasm: true, server: false });
  const connectionsBefore = state.server.count((e) => e.event === "connection");
  const { app, header } = await openUnder(t, csp);
  assert.equal(header, csp, "the page was served with the policy");
  assert.equal(app.result, null, "the app must not have connected");
  assert.ok(app.error, "connect_error reached the app");
  assert.ok(
    app.violations.some((v) => v.directive === "connect-src" && v.blocked.startsWith(`http://127.0.0.1:${state.server.port}/`)),
    `the page recorded the violation: ${JSON.stringify(app.violations)}`,
  );
  assert.equal(state.server.count((e) => e.event === "connection"), connectionsBefore, "no connection reached the server");
});
