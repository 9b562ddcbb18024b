// One headless Chromium (playwright-core, the system's /usr/bin/chromium, a fresh temp
// profile) and one static server per test file, plus `withPage()`: a fresh page per
// test that has loaded the package, with its errors collected, a screenshot in
// test-results/e2e/ when the test fails, and the page closed afterwards. The pieces of
// it that a test driving its own page needs too (the launch arguments, the page's error
// collection, the failure report, the timers) are exported for such a test.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { chromium } from "playwright-core";

import { packageBuilt, referenceMode, ROOT, startStaticServer } from "./static.mjs";

export { referenceMode };

/**
 * Client options for `io()`: WebSocket only, for both clients (each starts with HTTP
 * long-polling unless told otherwise). These scenarios are about the connection's life,
 * whatever carries it; long-polling and the upgrade have tests of their own
 * (polling.test.mjs and the files it names), which pass their own `transports`.
 */
export function clientOptions(extra = {}) {
  return { transports: ["websocket"], ...extra };
}

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// Console errors Chromium itself prints when a connection fails: expected whenever a
// test makes the server unreachable, never a sign of a library bug by themselves.
export const NETWORK_NOISE = [
  /WebSocket connection to '.*' failed/,
  /net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|INTERNET_DISCONNECTED|CONNECTION_CLOSED|EMPTY_RESPONSE|SOCKET_NOT_CONNECTED)/,
];

/** `promise`, or a rejection naming `what` once `ms` have passed without an answer. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects what goes wrong in `page` from now on: { page: [...], console: [...] }. */
export function collectErrors(page) {
  const errors = { page: [], console: [] };
  page.on("pageerror", (err) => errors.page.push(String(err?.message ?? err)));
  page.on("crash", () => errors.page.push("the page crashed"));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.console.push(msg.text());
  });
  return errors;
}

/**
 * What a failed test leaves behind: a screenshot of `page` in test-results/e2e/, named
 * after `name` (the test file's and the test's), and the page's `errors` appended to
 * `err`'s message, where a failed assertion alone would not show them.
 */
export async function reportFailure(page, name, errors, err) {
  const slug = name.replace(/[^a-zA-Z0-9._-]+/g, "_").slice(0, 120);
  const dir = join(ROOT, "test-results", "e2e");
  await mkdir(dir, { recursive: true }).catch(() => {});
  await withTimeout(page.screenshot({ path: join(dir, `${slug}.png`) }), 5_000, "screenshot").catch(() => {});
  if (err && typeof err === "object" && (errors.page.length || errors.console.length)) {
    try {
      err.message += `\n  page errors: ${JSON.stringify(errors.page)}\n  console errors: ${JSON.stringify(errors.console.slice(0, 20))}`;
    } catch {
      // a frozen message: leave it
    }
  }
}

/**
 * Registers `before`/`after` hooks for the calling test file: a static server and a
 * browser, shared by the file's tests. Returns { withPage, withServer, get url() }.
 * `fileUrl`: the test file's import.meta.url (names the failure screenshots).
 */
export function e2eSuite(fileUrl) {
  const state = { static: null, context: null, userDataDir: null };
  const fileName = basename(new URL(fileUrl).pathname).replace(/\.test\.mjs$/, "");

  before(async () => {
    if (!packageBuilt()) {
      throw new Error("pkg/index.js is missing: build the package first (node scripts/build-package.mjs)");
    }
    state.static = await startStaticServer();
    state.userDataDir = await mkdtemp(join(tmpdir(), "resocket-e2e-"));
    state.context = await chromium.launchPersistentContext(state.userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
    });
    // The persistent context opens with one blank page; tests use their own.
    for (const page of state.context.pages()) await page.close().catch(() => {});
  });

  after(async () => {
    if (state.context) await withTimeout(state.context.close(), 15_000, "closing the browser").catch(() => {});
    if (state.static) await state.static.close();
    if (state.userDataDir) await rm(state.userDataDir, { recursive: true, force: true, maxRetries: 3 });
  });

  /**
   * Runs `fn(ctx)` with a fresh page that has loaded /pkg/index.js. ctx: { page, url,
   * errors: { page: [], console: [] }, cdp() (a CDP session, created on first use),
   * assertNoErrors(opts) }.
   */
  async function withPage(t, fn) {
    assert.ok(state.context, "the browser did not start (see the `before` hook's error)");
    const page = await state.context.newPage();
    const errors = collectErrors(page);
    let cdp = null;
    const ctx = {
      page,
      url: state.static.url,
      errors,
      async cdp() {
        cdp ??= await page.context().newCDPSession(page);
        return cdp;
      },
      /**
       * No uncaught page error (except those matching `allowPage`), no console error
       * except connection failures (and those matching `allowConsole`).
       */
      assertNoErrors({ allowPage = [], allowConsole = [] } = {}) {
        const pageErrors = errors.page.filter((m) => !allowPage.some((re) => re.test(m)));
        assert.deepEqual(pageErrors, [], `uncaught errors in the page: ${JSON.stringify(pageErrors)}`);
        const consoleErrors = errors.console.filter(
          (m) => ![...NETWORK_NOISE, ...allowConsole].some((re) => re.test(m)),
        );
        assert.deepEqual(consoleErrors, [], `console errors in the page: ${JSON.stringify(consoleErrors)}`);
      },
    };
    try {
      await page.goto(`${state.static.url}/`, { timeout: 15_000 });
      await page.waitForFunction(() => window.e2e && (window.e2e.ready || window.e2e.loadError), null, {
        timeout: 15_000,
      });
      const loadError = await page.evaluate(() => window.e2e.loadError);
      assert.equal(loadError, null, `the package failed to load in the page: ${loadError}`);
      await fn(ctx);
    } catch (err) {
      await reportFailure(page, `${fileName}--${t.name}`, errors, err);
      throw err;
    } finally {
      if (cdp) await cdp.detach().catch(() => {});
      await withTimeout(page.close(), 10_000, "closing the page").catch(() => {});
    }
  }

  /**
   * `withPage()` with a server: `starting` is a handle of ./processes.mjs on its way
   * (e.g. `startServer({ recovery: true })`); runs `fn(ctx, { server, url })`, `url`
   * being the server's http://127.0.0.1:<port>, and stops the server afterwards.
   */
  async function withServer(t, starting, fn) {
    const server = await starting;
    try {
      await withPage(t, (ctx) => fn(ctx, { server, url: `http://127.0.0.1:${server.port}` }));
    } finally {
      await server.stop();
    }
  }

  return {
    withPage,
    withServer,
    get url() {
      return state.static?.url;
    },
  };
}
