// The demo of `npm start`: scripts/demo.mjs (on a free port) and its page (www/) in
// headless Chromium, clicked through as a person would, asserting what the page SHOWS.
//
//   1. single node: connected -> drop the transport: reconnecting, then connected,
//      recovered, replayed ticks marked -> kill the server: the attempt counter rises,
//      the timeline draws an outage -> restart: connected (a new session, shown as
//      such) -> a slower reconnectionDelay, read back by the page ->
//      offline: suspended, no attempt -> online: connected at once (well before the
//      backoff delay), recovered. Keeps a screenshot: test-results/demo.png.
//   2. --cluster (two nodes over redis-server): a dropped transport lands on the other
//      node and recovers there; a node stopped gracefully hands its client over, still
//      recovered. Screenshot: test-results/demo-cluster.png.
//   3. the front refuses other sites: a foreign Host (DNS rebinding) or Origin gets 403
//      from the control endpoints and the /socket.io/ proxy, WebSocket upgrades
//      included, and a plain GET cannot kill; the server is untouched afterwards.
//   4. markup in a server event's payload (a message another client sent) is shown as
//      text: no element made of it, nothing run.
//   5. --failover (two independent nodes), the page on a failover list (/?failover):
//      connected through the first URL (node A); A crashes: the page shows the client
//      on the second URL (node B), the "failover" event, a new session and the gap.
//   6. persistQueue: the page's checkbox turns it on (a reload); the server crashes,
//      messages are emitted, the page is reloaded while it is down, and shows the
//      restored queue ("queue_restored" with every message); the server restarts and
//      gets each message once, in order, and broadcasts it back to the page.
//   7. shareAcrossTabs: two tabs of the demo with the option; the server panel counts
//      one connection, one tab says it holds it and the other that it goes through it;
//      the holding tab closes: the other takes the session over (recovered, no tick
//      missed nor twice) and the count stays one.
//
// Requires pkg/ (npm run build). Every process is stopped by PID.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { killPid, stopChild } from "../../scripts/children.mjs";
import { CHROMIUM, CHROMIUM_ARGS, referenceMode } from "./support/browser.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS = join(ROOT, "test-results");
const REDIS_SERVER = process.env.REDIS_SERVER || "/usr/bin/redis-server";
// The demo page always runs resocket: nothing to compare in the reference mode.
const SKIP = referenceMode ? "the demo page always uses resocket" : false;

// Console errors Chromium prints by itself when a WebSocket cannot connect (the server
// is killed on purpose here): not page errors.
// Failed connections, and the front's answer while no node is up (a long-polling
// request gets it where a WebSocket upgrade is refused).
const NETWORK_NOISE = [
  /WebSocket connection to '.*' failed/,
  /net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE)/,
  /the server responded with a status of 50[23] /,
];

let browser = null;
let userDataDir = null;

before(async () => {
  if (SKIP) return;
  userDataDir = await mkdtemp(join(tmpdir(), "resocket-demo-"));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
    timeout: 30_000,
  });
  for (const p of browser.pages()) await p.close().catch(() => {});
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 });
});

const alive = (pid) => killPid(pid, 0);

/**
 * Runs `fn(demo)` with `node scripts/demo.mjs --port 0 ...args` started and its page
 * open. demo: { url, page, status(), errors, output (its last 400 console lines) }.
 * Afterwards: a failure screenshot if it threw, the demo stopped (SIGTERM, SIGKILL
 * after 5 s) and any child it reported (socket.io nodes, redis-server) killed by PID if
 * still there.
 */
async function withDemo(args, query, fn) {
  assert.ok(existsSync(join(ROOT, "pkg", "index.js")), "pkg/index.js is missing: build the package first (npm run build)");
  assert.ok(browser, "the browser did not start (see the `before` hook's error)");
  const child = spawn(process.execPath, [join(ROOT, "scripts", "demo.mjs"), "--port", "0", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = [];
  const keep = (line) => {
    output.push(line);
    if (output.length > 400) output.shift();
  };
  createInterface({ input: child.stderr }).on("line", keep);
  const pids = new Set();
  const errors = { page: [], console: [] };
  let page = null;
  let url = null;
  const status = async () => {
    const body = await (await fetch(`${url}control/status`)).json();
    for (const n of body.nodes) if (n.pid) pids.add(n.pid);
    if (body.redis?.pid) pids.add(body.redis.pid);
    return body;
  };
  try {
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("demo: no URL printed within 20 s")), 20_000);
      createInterface({ input: child.stdout }).on("line", (line) => {
        keep(line);
        const m = /^resocket demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once("error", (err) => reject(new Error(`demo: cannot start: ${err.message}`)));
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`demo exited early (${signal ?? code})`));
      });
    });
    await status();
    page = await browser.newPage();
    page.on("pageerror", (err) => errors.page.push(String(err?.message ?? err)));
    page.on("crash", () => errors.page.push("the page crashed"));
    page.on("console", (msg) => {
      if (msg.type() === "error" && !NETWORK_NOISE.some((re) => re.test(msg.text()))) errors.console.push(msg.text());
    });
    await page.goto(`${url}?${query}`, { timeout: 15_000 });
    await fn({ url, page, status, errors, output });
    assert.deepEqual(errors.page, [], "no uncaught errors in the page");
    assert.deepEqual(errors.console, [], "no console errors in the page (besides failed connections)");
  } catch (err) {
    if (page) {
      await mkdir(RESULTS, { recursive: true }).catch(() => {});
      const mode = ["--cluster", "--failover"].find((a) => args.includes(a));
      const name = mode ? `demo-${mode.slice(2)}-failure.png` : "demo-failure.png";
      await page.screenshot({ path: join(RESULTS, name), fullPage: true, timeout: 5000 }).catch(() => {});
    }
    err.message += `\n  page errors: ${JSON.stringify(errors.page)}\n  console errors: ${JSON.stringify(errors.console.slice(0, 10))}\n  demo output (last lines):\n    ${output.slice(-25).join("\n    ")}`;
    throw err;
  } finally {
    if (url) await status().catch(() => {});
    if (page) await page.close().catch(() => {});
    await stopChild(child, "SIGTERM", 5000);
    const deadline = Date.now() + 3000;
    for (const pid of pids) {
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (alive(pid)) killPid(pid, "SIGKILL");
    }
  }
}

/** Page helpers: the badge's state, waiting for one, a number shown. */
function helpers(page) {
  const state = () => page.getAttribute("#state", "data-state");
  return {
    state,
    waitState: (name, timeout = 10_000) =>
      page.waitForSelector(`#state[data-state="${name}"]`, { timeout }).catch(async (err) => {
        throw new Error(`the page never showed "${name}" within ${timeout} ms (it shows "${await state()}"): ${err.message}`);
      }),
    number: async (selector) => Number(await page.textContent(selector)),
    you: () => page.getAttribute("#nodes li:has(.node-you)", "data-node", { timeout: 5000 }),
  };
}

test("demo page: drop the transport, kill and restart the server, change an option, go offline and online", { timeout: 60_000, skip: SKIP }, async (t) => {
  const started = Date.now();
  // Exact delays (randomizationFactor 0): 500 ms, 1 s, 1.5 s, 1.5 s, ...
  await withDemo([], "reconnectionDelay=500&reconnectionDelayMax=1500&randomizationFactor=0", async ({ page, status }) => {
    const { state, waitState, number } = helpers(page);
    assert.equal((await status()).nodes.filter((n) => n.alive).length, 1, "one live socket.io node");
    await waitState("connected");
    assert.equal(await page.textContent("#state-text"), "connected");
    await page.waitForFunction(() => Number(document.querySelector("#last-tick").textContent) > 0, null, { timeout: 5000 });
    assert.equal(await page.getAttribute("#recovered", "data-value"), "false", "a first connection is not recovered");
    assert.equal(await page.textContent("#attempt"), "0");
    assert.match(await page.textContent("#mode-text"), /single node/);

    // 1. Drop the transport: reconnecting, then connected again with the session
    //    recovered, and the ticks missed meanwhile replayed and marked as such.
    await page.waitForTimeout(400);
    await page.click("#drop");
    await waitState("reconnecting", 3000);
    await waitState("connected", 5000);
    await page.waitForSelector('#recovered[data-value="true"]', { timeout: 2000 });
    assert.ok((await page.locator('#ticks .chip[data-replayed="true"]').count()) >= 1, "replayed ticks are marked in the event stream");
    assert.ok((await number("#count-replayed")) >= 1, "the replayed counter counts them");
    assert.equal(await number("#count-missed"), 0, "nothing missed: the recovered session replayed every tick");
    assert.equal(await number("#count-dup"), 0, "nothing delivered twice");
    assert.equal(await page.textContent("#attempt"), "1", "one attempt sufficed");
    assert.ok((await page.locator("#timeline-svg .tk-replayed").count()) >= 1, "the timeline draws the replayed ticks");

    // 2. Kill the server: the attempt counter rises (500 ms, then 1 s, ...) and the
    //    timeline draws an outage with failed attempts.
    await page.click("#kill");
    await waitState("reconnecting", 3000);
    await page.waitForSelector('#nodes li[data-alive="false"]', { timeout: 3000 });
    await page.waitForFunction(() => Number(document.querySelector("#attempt").dataset.attempt) >= 2, null, { timeout: 6000 });
    assert.equal(await page.getAttribute("#attempt", "data-live"), "true");
    assert.ok((await page.locator('#timeline-svg rect.seg-outage[data-kind="outage"]').count()) >= 1, "the timeline shows the outage");
    assert.ok((await page.locator('#timeline-svg .attempt[data-result="failed"]').count()) >= 1, "the timeline shows failed attempts");
    assert.ok((await page.locator("#backoff-svg .bo-bar").count()) >= 2, "the backoff chart has a bar per attempt");
    const attemptsWhileDown = await number("#attempt");

    // 3. Restart: connected again, as a new session (the server's memory is gone); the
    //    ticks go on from where they stopped.
    const tickBefore = await number("#last-tick");
    await page.click("#restart");
    await waitState("connected", 10_000);
    await page.waitForSelector('#nodes li[data-alive="true"]', { timeout: 3000 });
    await status();
    assert.ok((await number("#attempt")) >= attemptsWhileDown, "the counter keeps the outage's attempts");
    assert.equal(await page.getAttribute("#recovered", "data-value"), "false", "a restarted in-memory server cannot recover");
    await page.waitForSelector('#ticks .chip-sep[data-recovered="false"]:has-text("new session")', { timeout: 2000 });
    await page.waitForFunction((n) => Number(document.querySelector("#last-tick").textContent) > n, tickBefore, { timeout: 3000 });
    assert.equal(await number("#count-dup"), 0, "no tick number twice across the restart");

    // 4. A reconnection option, changed live: the page shows the value read back.
    await page.fill("#in-reconnectionDelay", "5000");
    await page.waitForFunction(() => document.querySelector("#opt-reconnectionDelay").dataset.value === "5000", null, { timeout: 2000 });
    assert.equal(await page.textContent("#opt-reconnectionDelay"), "5000 ms");
    assert.match(await page.textContent("#lastcall"), /socket\.io\.reconnectionDelay\(5000\)/);
    await page.fill("#in-reconnectionDelayMax", "8000");
    assert.equal(await page.textContent("#opt-reconnectionDelayMax"), "8000 ms");

    // 5. Offline: the page shows offline (suspended), and no attempt is made.
    await page.waitForTimeout(300);
    await page.click("#offline");
    await waitState("offline", 3000);
    assert.equal(await page.textContent("#state-text"), "offline");
    assert.match(await page.textContent("#state-sub"), /suspended/);
    await page.waitForTimeout(700);
    assert.equal(await state(), "offline", "still offline");
    assert.equal(await page.textContent("#attempt"), "0", "no reconnection attempt while offline");

    // 6. Online: connected at once, not after the 5 s backoff, and recovered.
    const back = Date.now();
    await page.click("#online");
    await waitState("connected", 3000);
    const took = Date.now() - back;
    assert.ok(took < 3500, `connected ${took} ms after "online" (the backoff would have waited 5 s)`);
    await page.waitForSelector('#recovered[data-value="true"]', { timeout: 2000 });
    assert.equal(await page.locator('#timeline-svg .attempt[data-via="online"]').count(), 1, "the timeline marks the immediate retry");
    assert.ok((await page.locator('#timeline-svg rect[data-kind="offline"]').count()) >= 1, "the timeline shows the offline period");

    // Let a few more ticks arrive, then keep a picture of it all.
    await page.waitForTimeout(800);
    await mkdir(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "demo.png"), fullPage: true });
  });
  t.diagnostic(`walked through in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshot: test-results/demo.png`);
});

test(
  "demo page, --cluster: a dropped transport and a stopped node both land on the other node, recovered",
  { timeout: 60_000, skip: SKIP || (!existsSync(REDIS_SERVER) && `no redis-server at ${REDIS_SERVER}`) },
  async (t) => {
    const started = Date.now();
    await withDemo(["--cluster"], "reconnectionDelay=600&reconnectionDelayMax=1500&randomizationFactor=0", async ({ page, status }) => {
      const { waitState, number, you } = helpers(page);
      const initial = await status();
      assert.equal(initial.mode, "cluster");
      assert.deepEqual(initial.nodes.map((n) => [n.name, n.alive]), [["A", true], ["B", true]]);
      assert.ok(initial.redis?.pid, "the demo started its redis-server");
      await waitState("connected");
      await page.waitForSelector("#nodes li:has(.node-you)", { timeout: 5000 });
      assert.match(await page.textContent("#mode-text"), /cluster/);
      const first = await you();

      // Round-robin: the reconnection goes to the other node, which restores the
      // session from Redis.
      await page.waitForTimeout(300);
      await page.click("#drop");
      await waitState("reconnecting", 3000);
      await waitState("connected", 6000);
      await page.waitForSelector('#recovered[data-value="true"]', { timeout: 3000 });
      await page.waitForFunction((node) => document.querySelector("#nodes li:has(.node-you)")?.dataset.node !== node, first, { timeout: 3000 });
      const second = await you();
      assert.notEqual(second, first, "reconnected to the other node");
      assert.ok((await number("#count-replayed")) >= 1, "the other node replayed the missed ticks");
      assert.equal(await number("#count-missed"), 0, "nothing missed across nodes");
      assert.equal(await number("#count-dup"), 0, "nothing delivered twice across nodes");

      // Stop that node gracefully (its sessions go to Redis): the client moves back to
      // the first node, still recovered.
      await page.selectOption("#signal", "SIGTERM");
      await page.click(`#nodes li[data-node="${second}"] .btn-danger`);
      await page.waitForSelector(`#nodes li[data-node="${second}"][data-alive="false"]`, { timeout: 5000 });
      await waitState("connected", 8000);
      await page.waitForFunction((node) => document.querySelector("#nodes li:has(.node-you)")?.dataset.node === node, first, { timeout: 3000 });
      await page.waitForSelector('#recovered[data-value="true"]', { timeout: 3000 });
      assert.equal(await number("#count-missed"), 0, "nothing missed when the node went away");
      assert.equal(await number("#count-dup"), 0, "nothing delivered twice");

      await page.waitForTimeout(600);
      await mkdir(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, "demo-cluster.png"), fullPage: true });
    });
    t.diagnostic(`walked through in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshot: test-results/demo-cluster.png`);
  },
);

/**
 * One request to 127.0.0.1:`port` with exactly `headers` (Host included: Node adds
 * none), answered within 5 s. With `upgrade`, a WebSocket upgrade (the
 * connection is closed at once if it is granted). Resolves to the answer's status.
 */
function rawStatus(port, { method = "GET", path, headers, upgrade = false }) {
  const all = { ...headers };
  if (upgrade) {
    Object.assign(all, {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": randomBytes(16).toString("base64"),
    });
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: all, agent: false, setHost: false, signal: AbortSignal.timeout(5000) });
    req.once("response", (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode);
    });
    req.once("error", (err) => reject(new Error(`${method} ${path} (${JSON.stringify(headers)}): ${err.message}`)));
    req.end();
  });
}

test("demo server: a foreign Host or Origin is refused by the control endpoints and the socket.io proxy", { timeout: 60_000, skip: SKIP }, async () => {
  await withDemo([], "", async ({ url, page, status }) => {
    const { waitState } = helpers(page);
    await waitState("connected");
    const port = Number(new URL(url).port);
    const own = `127.0.0.1:${port}`;
    const before = (await status()).nodes[0];
    assert.ok(before.alive, "the node is up");

    const KILL = { method: "POST", path: "/control/kill?node=all&signal=SIGKILL" };
    const demoHeader = { "x-resocket-demo": "1" };
    const POLLING = { path: "/socket.io/?EIO=4&transport=polling" };
    const WEBSOCKET = { path: "/socket.io/?EIO=4&transport=websocket", upgrade: true };
    const check = async (what, req, expected) => {
      assert.equal(await rawStatus(port, req), expected, `${what}: ${req.method ?? "GET"} ${req.path}${req.upgrade ? " (upgrade)" : ""}`);
    };

    // What the page itself sends is let through, under each name of the loopback host.
    for (const host of [own, `localhost:${port}`, `[::1]:${port}`]) {
      await check(`Host ${host}`, { path: "/control/status", headers: { host } }, 200);
    }
    await check("own Origin", { ...POLLING, headers: { host: own, origin: `http://${own}` } }, 200);
    await check("own Origin", { ...WEBSOCKET, headers: { host: own, origin: `http://${own}` } }, 101);

    // DNS rebinding: a foreign name resolved to 127.0.0.1 makes the browser send it as
    // the Host, with or without this port. The requests are otherwise what the page sends.
    for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1:${port + 1}`]) {
      await check(`Host ${host}`, { ...KILL, headers: { host, ...demoHeader } }, 403);
      await check(`Host ${host}`, { path: "/control/status", headers: { host } }, 403);
      await check(`Host ${host}`, { ...POLLING, headers: { host } }, 403);
      await check(`Host ${host}`, { ...WEBSOCKET, headers: { host } }, 403);
    }

    // A cross-site page (another local app's among them): the right Host, its own Origin.
    for (const origin of ["http://evil.example", `http://127.0.0.1:${port}.evil.example`, `http://127.0.0.1:${port + 1}`, "null"]) {
      await check(`Origin ${origin}`, { ...KILL, headers: { host: own, origin, ...demoHeader } }, 403);
      await check(`Origin ${origin}`, { ...POLLING, headers: { host: own, origin } }, 403);
      await check(`Origin ${origin}`, { ...WEBSOCKET, headers: { host: own, origin } }, 403);
    }

    // What an <img> or a form can send: a GET, or a POST without the custom header.
    await check("a plain GET", { path: KILL.path, headers: { host: own } }, 405);
    await check("a POST without x-resocket-demo", { ...KILL, headers: { host: own } }, 403);

    const after = (await status()).nodes[0];
    assert.ok(after.alive && after.pid === before.pid, `the node was not touched: ${JSON.stringify({ before, after })}`);
    assert.equal(await helpers(page).state(), "connected", "the page stayed connected");
  });
});

test("demo page: markup in a server event's payload is shown as text, never parsed", { timeout: 60_000, skip: SKIP }, async () => {
  await withDemo([], "", async ({ page }) => {
    const { waitState } = helpers(page);
    await waitState("connected");
    const payload = `<img src=x onerror="document.body.dataset.injected='yes'"><b>bold</b>`;
    // Another client says it; the server broadcasts it to every socket as "message".
    const acked = await page.evaluate(async (text) => {
      const { io } = await import("/pkg/index.js");
      const other = io(location.origin, { forceNew: true, reconnection: false, timeout: 5000 });
      try {
        return await other.timeout(5000).emitWithAck("message", text);
      } finally {
        other.disconnect();
      }
    }, payload);
    assert.equal(acked, true, "the server took the message");

    const shown = page.locator("#log .detail", { hasText: payload });
    await shown.first().waitFor({ state: "visible", timeout: 5000 });
    assert.equal(await shown.first().textContent(), `${payload} (via node A)`, "the payload shown literally");
    // Long enough for a parsed <img src=x> to have failed to load and run its onerror.
    await page.waitForTimeout(500);
    const found = await page.evaluate(() => ({
      img: document.querySelectorAll("img").length,
      b: document.querySelectorAll("#log b").length,
      injected: document.body.dataset.injected ?? null,
    }));
    assert.deepEqual(found, { img: 0, b: 0, injected: null }, "no element made of the payload, no handler run");
  });
});

test("demo page, --failover: the node in use is killed, the client moves to the other URL", { timeout: 60_000, skip: SKIP }, async (t) => {
  const started = Date.now();
  await withDemo(["--failover"], "failover&reconnectionDelay=300&reconnectionDelayMax=1000&randomizationFactor=0", async ({ url, page, status }) => {
    const { waitState, number, you } = helpers(page);
    const initial = await status();
    assert.equal(initial.mode, "failover");
    assert.deepEqual(initial.nodes.map((n) => [n.name, n.alive]), [["A", true], ["B", true]]);
    await waitState("connected");
    assert.equal(await page.isChecked("#failover"), true, "the checkbox says the page is on a failover list");
    assert.equal(await page.textContent("#uri"), `${url}?node=A`, "socket.io.uri: the list's first URL");
    await page.waitForSelector("#nodes li:has(.node-you)", { timeout: 5000 });
    assert.equal(await you(), "A");
    await page.waitForFunction(() => Number(document.querySelector("#last-tick").textContent) > 0, null, { timeout: 5000 });
    const tickBefore = await number("#last-tick");

    // A crashes: the first attempt retries A's URL (refused), the next goes to B's.
    await page.click('#nodes li[data-node="A"] .btn-danger');
    await page.waitForSelector('#nodes li[data-node="A"][data-alive="false"]', { timeout: 5000 });
    await waitState("connected", 8000);
    await page.waitForFunction((want) => document.querySelector("#uri").textContent === want, `${url}?node=B`, { timeout: 3000 });
    await page.waitForFunction(() => document.querySelector("#nodes li:has(.node-you)")?.dataset.node === "B", null, { timeout: 3000 });
    const shown = page.locator("#log li", { has: page.locator(".ev", { hasText: /^failover$/ }) });
    assert.equal(await shown.count(), 1, "the lifecycle log shows one failover");
    assert.equal(await shown.locator(".detail").textContent(), `${url}?node=A → ${url}?node=B`);
    assert.equal(await page.locator("#timeline-svg .mark-text", { hasText: "failover → B" }).count(), 1, "the timeline marks it");
    // Two independent nodes: B has no session to restore, and the page says so.
    assert.equal(await page.getAttribute("#recovered", "data-value"), "false");
    await page.waitForSelector('#ticks .chip-sep[data-recovered="false"]:has-text("new session")', { timeout: 2000 });
    await page.waitForFunction((n) => Number(document.querySelector("#last-tick").textContent) > n, tickBefore, { timeout: 3000 });
    assert.ok((await number("#count-missed")) >= 1, "the ticks sent while the client was away show as missed");
    assert.equal(await number("#count-dup"), 0, "no tick number twice across the nodes");

    await page.waitForTimeout(400);
    await mkdir(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "demo-failover.png"), fullPage: true });
  });
  t.diagnostic(`walked through in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshot: test-results/demo-failover.png`);
});

test("demo page, persistQueue: messages emitted with the server down survive a reload and reach it once, in order", { timeout: 60_000, skip: SKIP }, async (t) => {
  const started = Date.now();
  const N = 5;
  const sent = Array.from({ length: N }, (_, i) => `hello #${i + 1}`);
  await withDemo([], "reconnectionDelay=300&reconnectionDelayMax=1000&randomizationFactor=0", async ({ page, output }) => {
    const { state, waitState, number } = helpers(page);
    const ready = () => page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    await waitState("connected");
    assert.equal(await page.isChecked("#persist"), false, "off by default");
    assert.equal(await page.isVisible("#queue-stored"), false);

    // The checkbox: the option is io()'s, so the page comes back with it in its URL.
    await Promise.all([page.waitForURL(/[?&]persistQueue(=|&|$)/, { timeout: 10_000 }), page.click("#persist")]);
    await ready();
    await waitState("connected");
    assert.equal(await page.isChecked("#persist"), true, "the checkbox survived its reload");
    assert.equal(await page.isVisible("#queue-stored"), true, "the queue count says it is stored");

    // The server crashes; what the page emits now waits, and is written to storage.
    await page.click("#kill");
    await page.waitForSelector('#nodes li[data-alive="false"]', { timeout: 5000 });
    await waitState("reconnecting", 3000);
    for (let i = 0; i < N; i += 1) await page.click("#emit");
    await page.waitForFunction((n) => document.querySelector("#queue").textContent === String(n), N, { timeout: 2000 });
    // The IndexedDB writes are under way once emit returns: a reload an instant later
    // could outrun them, which this story is not about.
    await page.waitForTimeout(300);

    // Reloaded with the server still down: the new page says what came back, and holds it.
    await page.reload({ timeout: 15_000 });
    await ready();
    await page.waitForSelector("#restored:not([hidden])", { timeout: 5000 });
    assert.equal(await page.getAttribute("#restored", "data-count"), String(N));
    assert.equal(await page.textContent("#restored-count"), `${N} emits`);
    assert.deepEqual(await page.locator("#restored-list li").allTextContents(), sent.map((text) => `message ${JSON.stringify(text)}`));
    const restored = page.locator("#log li", { has: page.locator(".ev", { hasText: /^queue_restored$/ }) });
    assert.equal(await restored.count(), 1, "the lifecycle log shows queue_restored once");
    assert.equal(await restored.getAttribute("data-kind"), "restored");
    assert.match(await restored.locator(".detail").textContent(), new RegExp(`^${N} emits from before the reload`));
    assert.equal(await page.locator("#timeline-svg .mark-text", { hasText: `queue_restored ${N}` }).count(), 1, "the timeline marks it");
    assert.notEqual(await state(), "connected", "the server is still down");
    // The restored messages wait in the queue (and so in storage).
    await page.waitForFunction((n) => document.querySelector("#queue").textContent === String(n), N, { timeout: 1000 });

    // The server is back: each message reaches it once, in order, and comes back to the
    // page as the broadcast "message".
    await page.click("#restart");
    await waitState("connected", 10_000);
    const received = page.locator("#log li", { has: page.locator(".ev", { hasText: /^message$/ }) }).locator(".detail");
    await page.waitForFunction(
      (n) => [...document.querySelectorAll("#log li .ev")].filter((e) => e.textContent === "message").length >= n,
      N,
      { timeout: 5000 },
    );
    // Time for a copy to arrive, were one sent.
    await page.waitForTimeout(500);
    const atServer = output.map((line) => /^\[node A\] message (".*") from \S+$/.exec(line)?.[1]).filter(Boolean).map((quoted) => JSON.parse(quoted));
    assert.deepEqual(atServer, sent, "the server got each message once, in order");
    // The log is newest first.
    assert.deepEqual((await received.allTextContents()).reverse(), sent.map((text) => `${text} (via node A)`), "the page got each broadcast once, in order");
    assert.equal(await number("#queue"), 0, "nothing left waiting");

    await mkdir(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "demo-persist.png"), fullPage: true });
  });
  t.diagnostic(`walked through in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshot: test-results/demo-persist.png`);
});

test("demo page, shareAcrossTabs: two tabs, one connection; the holding tab closes and the other takes over", { timeout: 60_000, skip: SKIP }, async (t) => {
  const started = Date.now();
  await withDemo([], "shareAcrossTabs&reconnectionDelay=300&reconnectionDelayMax=1000", async ({ url, page, status }) => {
    const first = helpers(page);
    await first.waitState("connected");
    assert.equal(await page.isChecked("#share"), true, "the checkbox shows the option");
    const second = await browser.newPage();
    try {
      await second.goto(`${url}?shareAcrossTabs&reconnectionDelay=300&reconnectionDelayMax=1000`, { timeout: 15_000 });
      const other = helpers(second);
      await other.waitState("connected");
      assert.match(await page.textContent("#state-sub"), /this tab holds the shared connection/);
      assert.match(await second.textContent("#state-sub"), /through another tab's connection/);
      assert.equal((await status()).nodes[0].connections, 1, "the server counts one connection for both tabs");
      await page.waitForSelector('#nodes li .node-meta:has-text("1 connection")', { timeout: 5000 });
      await second.waitForFunction(() => Number(document.querySelector("#last-tick").textContent) > 0, null, { timeout: 5000 });

      // The holding tab goes: the other holds the connection now, the same session.
      await page.close();
      await second.waitForSelector('#recovered[data-value="true"]', { timeout: 5000 });
      await other.waitState("connected", 5000);
      await second.waitForFunction(() => /this tab holds the shared connection/.test(document.querySelector("#state-sub").textContent), null, { timeout: 5000 });
      const tick = await other.number("#last-tick");
      await second.waitForFunction((n) => Number(document.querySelector("#last-tick").textContent) > n, tick, { timeout: 5000 });
      assert.equal(await other.number("#count-missed"), 0, "no tick missed across the take-over");
      assert.equal(await other.number("#count-dup"), 0, "no tick twice");
      assert.equal((await status()).nodes[0].connections, 1, "still one connection");
      await mkdir(RESULTS, { recursive: true });
      await second.screenshot({ path: join(RESULTS, "demo-share.png"), fullPage: true });
    } finally {
      await second.close().catch(() => {});
    }
  });
  t.diagnostic(`walked through in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshot: test-results/demo-share.png`);
});
