// The Rust front-end example end to end: examples/leptos-ticker (a Leptos app on the
// crate's Rust API, with its own global allocator), as built by
// scripts/build-rust-example.mjs, in headless Chromium against a real socket.io server
// with connection state recovery on, run in this process and serving the app's files
// from its own origin (the app connects to the page's origin):
//   a. the app's wasm module exports none of the crate's JS API (Connection, run,
//      liveConnections): the app links the Rust API alone;
//   b. a numbered `tick` stream; the server cuts the WebSocket under the app as a network
//      failure would (the TCP connection destroyed, no close frame: the server keeps the
//      session); ticks go on while the app is away; the page shows the disconnect, the
//      reconnection, `recovered` true, and every tick exactly once and in order; a
//      message sent with an acknowledgement shows the server's reply, before and after.
// Everything is read from the page's DOM (ids and data- attributes).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { Server } from "socket.io";

import { SITE_DIR, SITE_JS, SITE_WASM } from "../../scripts/build-rust-example.mjs";
import { CHROMIUM, CHROMIUM_ARGS, collectErrors, NETWORK_NOISE, reportFailure, sleep, withTimeout } from "./support/browser.mjs";
import { routeFiles, startFileServer } from "./support/serve-dir.mjs";

const TEST_TIMEOUT = 60_000;
const TICK_EVERY_MS = 25;
const BUILD_HINT = "build the example first: node scripts/build-rust-example.mjs";

/** Polls `pred()` (synchronous, in this process) every 20 ms for at most `ms`. */
async function until(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * The app's server: the built site and socket.io on one 127.0.0.1 port. The ticks start
 * with the first connection (so the app sees them from 1) and are broadcasts, which
 * connection state recovery stores for a client that is away. `message` is acknowledged
 * with "server got: <text>". Resolves to { url, io, log, ticks, stopTicks(), close() }.
 */
async function startAppServer() {
  const files = await startFileServer(routeFiles({ root: SITE_DIR }));
  const io = new Server(files.server, { serveClient: false, connectionStateRecovery: { maxDisconnectionDuration: 30_000 } });

  const log = [];
  const ticks = { last: 0, timer: null };
  io.on("connection", (socket) => {
    log.push({ event: "connection", id: socket.id, recovered: socket.recovered, lastTick: ticks.last });
    socket.on("disconnect", (reason) => log.push({ event: "disconnect", id: socket.id, reason, lastTick: ticks.last }));
    socket.on("message", (text, ack) => {
      log.push({ event: "message", id: socket.id, text });
      if (typeof ack === "function") ack(`server got: ${text}`);
    });
    if (ticks.timer === null && ticks.last === 0) {
      ticks.timer = setInterval(() => {
        ticks.last += 1;
        io.emit("tick", ticks.last);
      }, TICK_EVERY_MS);
    }
  });

  const stopTicks = () => {
    clearInterval(ticks.timer);
    ticks.timer = 0;
    return ticks.last;
  };
  return {
    url: files.url,
    io,
    log,
    ticks,
    stopTicks,
    // io.close() disconnects the sockets, then closes the HTTP server too.
    close: () => {
      stopTicks();
      const closed = new Promise((resolve) => io.close(() => resolve()));
      files.server.closeAllConnections?.();
      return withTimeout(closed, 5_000, "closing the server").catch(() => {});
    },
  };
}

/** The page's state, as its DOM shows it. */
function readPage(page) {
  return page.evaluate(() => {
    const data = (selector) => document.querySelector(selector)?.dataset ?? {};
    const items = (selector) => [...document.querySelectorAll(selector)];
    const status = data("#status");
    const reply = document.querySelector("#reply");
    return {
      state: status.state ?? null,
      reason: status.reason ?? null,
      attempt: status.attempt ?? null,
      recovered: data("#recovered").recovered ?? null,
      connects: Number(data("#connects").count ?? NaN),
      history: items("#history li").map((li) => ({ state: li.dataset.state, reason: li.dataset.reason, attempt: li.dataset.attempt })),
      ticks: items("#ticks li").map((li) => Number(li.dataset.seq)),
      received: Number(data("#tick-count").count ?? NaN),
      unreadable: Number(data("#unreadable").count ?? NaN),
      reply: { state: reply?.dataset.state ?? null, text: reply?.textContent ?? null },
    };
  });
}

/** Waits, in the page, until `pred(state of the DOM)` holds; bounded by `ms`. */
async function waitForPage(page, pred, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await readPage(page);
    if (pred(last)) return last;
    if (Date.now() > deadline) {
      const shown = { ...last, ticks: `${last.ticks.length} ticks, last ${JSON.stringify(last.ticks.slice(-5))}` };
      throw new Error(`timed out after ${ms} ms waiting for ${what}; the page shows ${JSON.stringify(shown)}`);
    }
    await sleep(25);
  }
}

/** Types `text` into the app's message box, sends it, and resolves with the page's reply. */
async function roundTrip(page, text) {
  await page.fill("#message", text, { timeout: 5_000 });
  await page.click("#send-button", { timeout: 5_000 });
  const shown = await waitForPage(page, (s) => s.reply.state === "answered" || s.reply.state === "failed", 5_000, `the reply to ${text}`);
  return shown.reply;
}

/** Lowercased words of an export name (split on `_`), to match whole words only. */
const words = (name) => name.toLowerCase().split("_").filter(Boolean);

const state = { browser: null };

before(async () => {
  assert.ok(existsSync(SITE_WASM) && existsSync(join(SITE_DIR, "index.html")), `the example is not built: ${BUILD_HINT}`);
  state.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
});

after(async () => {
  if (state.browser) await withTimeout(state.browser.close(), 15_000, "closing the browser").catch(() => {});
});

test("the app's wasm module exports none of the crate's JS API", () => {
  const module = new WebAssembly.Module(readFileSync(SITE_WASM));
  const names = WebAssembly.Module.exports(module).map((e) => e.name);
  // The check is about a real app's module: its start function is there.
  assert.ok(names.includes("__wbindgen_start"), `no __wbindgen_start among the exports: ${JSON.stringify(names)}`);
  const forbidden = new Set(["connection", "run", "liveconnections"]);
  const leaked = names.filter((name) => words(name).some((word) => forbidden.has(word)));
  assert.deepEqual(leaked, [], `exports of the crate's JS API in the app's module (all exports: ${JSON.stringify(names)})`);
  const glue = readFileSync(SITE_JS, "utf8");
  assert.doesNotMatch(glue, /\bclass Connection\b|\bliveConnections\b/, "the wasm-bindgen glue carries the crate's JS API");
});

test("transport cut by the server: reconnected, recovered, every tick once and in order; acks answered", { timeout: TEST_TIMEOUT }, async (t) => {
  assert.ok(state.browser, "the browser did not start (see the `before` hook's error)");
  const server = await startAppServer();
  const page = await state.browser.newPage();
  const errors = collectErrors(page);
  try {
    await page.goto(`${server.url}/`, { timeout: 15_000 });
    const first = await waitForPage(page, (s) => s.state === "connected" && s.ticks.length >= 20, 15_000, "connected and 20 ticks");
    assert.equal(first.recovered, "false", "the first connection has nothing to recover");
    assert.deepEqual(await roundTrip(page, "before the cut"), { state: "answered", text: "server got: before the cut" });

    // The app starts on long-polling and upgrades; the cut is of the WebSocket.
    const [socket] = server.io.of("/").sockets.values();
    assert.ok(socket, "the server has no socket of the app");
    await until(() => socket.conn.transport.name === "websocket" && !socket.conn.upgrading, 10_000, "the upgrade to WebSocket");
    const firstId = socket.id;
    // terminate(): the TCP connection destroyed, no close frame, as a network failure.
    socket.conn.transport.socket.terminate();

    await waitForPage(page, (s) => s.connects >= 2 && s.state === "connected", 15_000, "the reconnection");
    const afterCut = server.ticks.last;
    await waitForPage(page, (s) => s.ticks.length > 0 && s.ticks.at(-1) >= afterCut + 20, 10_000, "20 ticks after the reconnection");
    assert.deepEqual(await roundTrip(page, "after the cut"), { state: "answered", text: "server got: after the cut" });
    const lastSent = server.stopTicks();
    await waitForPage(page, (s) => s.ticks.includes(lastSent), 5_000, `tick ${lastSent}`).catch(() => {});
    await sleep(300); // a duplicate arriving late would show here
    const shown = await readPage(page);

    const conns = server.log.filter((e) => e.event === "connection");
    const drop = server.log.find((e) => e.event === "disconnect");
    const missedWhileAway = conns[1] && drop ? conns[1].lastTick - drop.lastTick : NaN;
    console.log(
      `  server: disconnect "${drop?.reason}" at tick ${drop?.lastTick}, back at tick ${conns[1]?.lastTick} ` +
        `(${missedWhileAway} emitted while away); ${lastSent} ticks in all; the page: ` +
        shown.history.map((h) => `${h.state}${h.reason ? `(${h.reason})` : ""}${h.attempt ? `(${h.attempt})` : ""}`).join(" > "),
    );

    // The server side of the story: the cut looked like a network failure, and the same
    // session came back.
    assert.equal(drop?.reason, "transport close", `the server's disconnect: ${JSON.stringify(server.log)}`);
    assert.equal(conns.length, 2, `server connections: ${JSON.stringify(conns)}`);
    assert.deepEqual(
      conns.map((c) => ({ id: c.id, recovered: c.recovered })),
      [
        { id: firstId, recovered: false },
        { id: firstId, recovered: true },
      ],
      "the server restored the session",
    );
    assert.ok(missedWhileAway > 0, `no tick was emitted while the app was away (${missedWhileAway}): the test proved nothing`);

    // The page's side.
    assert.deepEqual(
      shown.history.map((h) => h.state),
      ["connected", "disconnected", "reconnecting", "connected"],
      `the connection states the page went through: ${JSON.stringify(shown.history)}`,
    );
    assert.equal(shown.history[1].reason, "transport close", "the disconnect's reason on the page");
    assert.equal(shown.history[2].attempt, "1", "the reconnect attempt on the page");
    assert.equal(shown.state, "connected");
    assert.equal(shown.recovered, "true", "the page shows the session recovered");
    assert.equal(shown.connects, 2);
    assert.equal(shown.unreadable, 0, "ticks whose number the app could not read");
    assert.equal(shown.received, lastSent, "the count of ticks the page received");
    const expected = Array.from({ length: lastSent }, (_, i) => i + 1);
    assert.deepEqual(shown.ticks, expected, "every tick exactly once and in order: no gap, no duplicate");
    assert.deepEqual(
      server.log.filter((e) => e.event === "message").map((e) => e.text),
      ["before the cut", "after the cut"],
      "the messages the server received",
    );

    const pageErrors = errors.page;
    const consoleErrors = errors.console.filter((m) => !NETWORK_NOISE.some((re) => re.test(m)));
    assert.deepEqual(pageErrors, [], "uncaught errors in the page");
    assert.deepEqual(consoleErrors, [], "console errors in the page");
  } catch (err) {
    await reportFailure(page, `rust-app--${t.name}`, errors, err);
    throw err;
  } finally {
    await withTimeout(page.close(), 10_000, "closing the page").catch(() => {});
    await server.close();
  }
});
