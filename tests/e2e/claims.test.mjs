// The README's claims about where resocket differs from socket.io-client, each checked
// on both clients: the same page code runs on resocket and, with
// RESOCKET_E2E_CLIENT=socket.io-client, on socket.io-client 4.8.4 (./support/static.mjs),
// and each test asserts what the README says the client under test does. Passing in both
// modes is what proves a difference. Where the README was wrong about socket.io-client,
// the test asserts what both clients really do. Covered:
//   - backoff: socket.io-client's delays at the cap are all exactly the cap (its jitter
//     comes before the cap), resocket's stay spread below it; after a thousand failures
//     socket.io-client's delay overflows to 0 ms half the time, resocket's saturates;
//   - a retry at once when the browser goes online, the page becomes visible or comes
//     back from the back/forward cache (socket.io-client waits its backoff out);
//   - the offline queue: bounded by count and age, every drop reported (socket.io-client
//     keeps everything);
//   - connection state recovery: the offset never shows as an extra argument, and a
//     replay is delivered after `connect` (socket.io-client: before);
//   - reconnect events on the socket; `reconnectionAttempts` 0 and -1; a
//     `reconnectionDelay` of 0;
//   - the Manager's `packet` event (placeholders for binary attachments); no
//     `receiveBuffer`; rejoin(), clearQueue() and emit_dropped;
//   - acks pending when the transport dies (rejected by both clients);
//   - listeners that throw: the others still run, and a throwing `disconnect` listener
//     does not stop the reconnection (it does in socket.io-client);
//   - a failing `auth` function, on the main namespace and on one namespace of several,
//     and a namespace whose CONNECT reply never comes;
//   - disconnect() inside a listener (both clients fire `disconnect` before it returns);
//   - server events named like the reconnect events; a malformed Engine.IO open packet.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite, referenceMode } from "./support/browser.mjs";
import { formatLog, pick } from "./support/events.mjs";
import { freePort } from "../../scripts/children.mjs";
import { startServer, startSocketIoServer } from "./support/processes.mjs";
import { startRawEngineServer } from "./support/raw-engine.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;
const client = referenceMode ? "socket.io-client" : "resocket";

// Backoff tests need many failed attempts quickly: a refused XMLHttpRequest fails at
// once, where Chromium spaces out failed WebSocket connections to one endpoint.
const deadPolling = (extra) => ({ transports: ["polling"], forceNew: true, ...extra });

test("backoff at the cap: socket.io-client waits exactly the cap every time, resocket's waits stay spread below it", { timeout: TEST_TIMEOUT }, async (t) => {
  const port = await freePort(); // nobody listens there
  const CAP = 400;
  await suite.withPage(t, async (ctx) => {
    const runs = await ctx.page.evaluate(
      async ({ url, opts }) => {
        // Several clients, as on many pages at once: at the cap they should not retry
        // in lockstep.
        const runs = Array.from({ length: 4 }, () => {
          const socket = e2e.lib.io(url, opts);
          const run = { socket, attempts: 0, failedAt: null, waits: [] };
          // A wait is measured from the failure to the next attempt, so that the time
          // an attempt takes to fail does not count.
          socket.io.on("reconnect_error", () => (run.failedAt = performance.now()));
          socket.io.on("reconnect_attempt", (n) => {
            run.attempts = n;
            if (run.failedAt !== null) run.waits.push([n, performance.now() - run.failedAt]);
            run.failedAt = null;
          });
          return run;
        });
        try {
          await e2e.waitFor(() => runs.every((r) => r.attempts >= 10), 20_000, "10 attempts on every client");
        } finally {
          for (const r of runs) r.socket.disconnect();
        }
        return runs.map((r) => r.waits);
      },
      { url: `http://127.0.0.1:${port}`, opts: deadPolling({ reconnectionDelay: 50, reconnectionDelayMax: CAP, randomizationFactor: 0.5 }) },
    );
    // From attempt 5 the base delay (50·2^(n−1) ≥ 800) is past the cap for both clients.
    const atCap = runs.flatMap((waits) => waits.filter(([n]) => n >= 5).map(([, ms]) => Math.round(ms)));
    t.diagnostic(`${client}: waits at the cap (${CAP} ms, randomizationFactor 0.5): ${atCap.join(" ")}`);
    assert.ok(atCap.length >= 16, `too few waits measured: ${JSON.stringify(runs)}`);
    // A timer never fires early; 15 ms covers the gap between arming it and the
    // reconnect_error that follows.
    if (referenceMode) {
      assert.ok(atCap.every((ms) => ms >= CAP - 15), `socket.io-client: every wait at the cap is the cap itself: ${atCap}`);
    } else {
      assert.ok(atCap.every((ms) => ms >= CAP / 2 - 15), `resocket: jitter takes at most half off: ${atCap}`);
      // Jittered uniformly in [200, 400], most fall under 340: needing only a sixth
      // leaves room for a loaded machine's late timers (socket.io-client has none).
      const spread = atCap.filter((ms) => ms < CAP * 0.85).length;
      assert.ok(spread >= atCap.length / 6, `resocket: the waits at the cap should be spread below it, not all at it: ${atCap}`);
    }
    ctx.assertNoErrors();
  });
});

test("backoff after a thousand failures: socket.io-client's delay overflows to 0 ms, resocket's stays at the cap", { timeout: 90_000 }, async (t) => {
  const port = await freePort();
  const CAP = 300;
  await suite.withPage(t, async (ctx) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts, cap }) => {
        const socket = e2e.lib.io(url, opts);
        let attempt = 0;
        let failedAt = null;
        let switchedAt = null;
        const waits = [];
        socket.io.on("reconnect_error", () => (failedAt = performance.now()));
        socket.io.on("reconnect_attempt", (n) => {
          attempt = n;
          // The wait before the first attempt after the switch may have been computed
          // with the old cap: count from the one after.
          if (switchedAt !== null && n > switchedAt + 1 && failedAt !== null) waits.push(performance.now() - failedAt);
          failedAt = null;
        });
        try {
          // 1 ms delays get past attempt 1024, where 2^(n−1) no longer fits a double.
          await e2e.waitFor(() => attempt >= 1030, 60_000, "1030 failed attempts");
          switchedAt = attempt;
          socket.io.reconnectionDelayMax(cap);
          await e2e.waitFor(() => waits.length >= 16, 20_000, "16 waits with the new cap");
        } finally {
          socket.disconnect();
        }
        return { switchedAt, waits: waits.map(Math.round) };
      },
      { url: `http://127.0.0.1:${port}`, opts: deadPolling({ reconnectionDelay: 1, reconnectionDelayMax: 1, randomizationFactor: 0.5 }), cap: CAP },
    );
    t.diagnostic(`${client}: waits after attempt ${result.switchedAt} with a ${CAP} ms cap: ${result.waits.join(" ")}`);
    if (referenceMode) {
      // With jitter, Infinity − Infinity is NaN, which `| 0` turns into 0: each wait is
      // 0 or the cap with even odds, and 16 without a 0 would be 1 in 65 536.
      const zero = result.waits.filter((ms) => ms < CAP / 3);
      assert.ok(zero.length >= 1, `socket.io-client: some waits collapse to 0 ms: ${result.waits}`);
    } else {
      assert.ok(result.waits.every((ms) => ms >= CAP / 2 - 15), `resocket: no wait below half the cap: ${result.waits}`);
    }
    ctx.assertNoErrors();
  });
});

test("online, a visible page, a back/forward restore: resocket retries at once, socket.io-client waits its backoff out", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    // A 20 s backoff: a reconnection within the window below can only be the trigger's.
    const opts = clientOptions({ forceNew: true, reconnectionDelay: 20_000, reconnectionDelayMax: 20_000, randomizationFactor: 0 });
    const WINDOW = 2000;
    await ctx.page.evaluate(
      async ({ url, opts }) => {
        for (const name of ["visible", "pageshow", "online"]) await e2e.open(url, opts, name);
        e2e.windowEvents = [];
        for (const name of ["online", "offline"]) addEventListener(name, () => e2e.windowEvents.push(name));
      },
      { url, opts },
    );
    // One socket per trigger, each dropped just before its trigger: a trigger seen by
    // the other sockets finds them connected.
    const drop = (name) => ctx.page.evaluate((name) => e2e.dropTransport(e2e.sockets[name], 2000, name), name);
    const backWithin = (name) =>
      ctx.page.evaluate(
        ({ name, ms }) => e2e.waitFor(() => e2e.sockets[name].connected, ms, name).then(() => true, () => false),
        { name, ms: WINDOW },
      );
    const back = {};

    // Headless Chromium keeps every page visible, so the page announces it itself.
    await drop("visible");
    await ctx.page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    back.visible = await backWithin("visible");

    await drop("pageshow");
    await ctx.page.evaluate(() => dispatchEvent(new PageTransitionEvent("pageshow", { persisted: true })));
    back.pageshow = await backWithin("pageshow");

    // Last: socket.io-client closes its connections when the browser goes offline.
    await drop("online");
    const cdp = await ctx.cdp();
    const network = (offline) => cdp.send("Network.emulateNetworkConditions", { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await network(true);
    await ctx.page.evaluate(() => e2e.waitFor(() => e2e.windowEvents.includes("offline"), 3000, "the offline event"));
    await network(false);
    await ctx.page.evaluate(() => e2e.waitFor(() => e2e.windowEvents.includes("online"), 3000, "the online event"));
    back.online = await backWithin("online");

    const logs = await ctx.page.evaluate(() => {
      for (const socket of Object.values(e2e.sockets)) socket.disconnect();
      return e2e.logs;
    });
    const expected = !referenceMode;
    assert.deepEqual(back, { visible: expected, pageshow: expected, online: expected }, `reconnected within ${WINDOW} ms of the trigger:${formatLog(Object.values(logs).flat())}`);
    ctx.assertNoErrors({ allowConsole: [/ERR_INTERNET_DISCONNECTED/] });
  });
});

test("offline queue: resocket bounds it by count and age and reports each drop, socket.io-client keeps everything", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const base = { forceNew: true, reconnectionDelay: 1000, reconnectionDelayMax: 1000, randomizationFactor: 0 };
    const EMITS = 1050; // 50 more than resocket's default maxQueue
    const result = await ctx.page.evaluate(
      async ({ url, counted, aged, emits }) => {
        const count = await e2e.open(url, counted, "count");
        const age = await e2e.open(url, aged, "age");
        const drops = { count: e2e.drops(count), age: e2e.drops(age) };
        await Promise.all([e2e.dropTransport(count, 2000, "count"), e2e.dropTransport(age, 2000, "age")]);
        for (let i = 1; i <= emits; i += 1) count.emit("note", "count", i);
        age.emit("note", "age", 1);
        const agedAck = e2e.settle(age.emitWithAck("note", "age", 2));
        const queued = { count: count.sendBuffer.length, age: age.sendBuffer.length };
        await e2e.waitFor(() => count.connected && age.connected, 8000, "both reconnections");
        // Sent after the queue, so acknowledged once it has been flushed.
        await Promise.all([
          e2e.within(count.emitWithAck("note", "count", "end"), 5000, "the last note's ack"),
          e2e.within(age.emitWithAck("note", "age", "end"), 5000, "the last note's ack"),
        ]);
        const ack = await e2e.orPending(agedAck, 1000, "the aged emit's ack");
        count.disconnect();
        age.disconnect();
        const summary = (list) => ({ reasons: [...new Set(list.map(([reason]) => reason))], numbers: list.map(([, data]) => data[2]) });
        return { queued, count: summary(drops.count), age: summary(drops.age), ack: ack.err ? { type: ack.err.type } : ack };
      },
      { url, counted: clientOptions(base), aged: clientOptions({ ...base, maxQueueAge: 200 }), emits: EMITS },
    );
    const received = (kind) => server.log.filter((e) => e.event === "note" && e.args[0] === kind).map((e) => e.args[1]);
    const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    t.diagnostic(`${client}: queued ${JSON.stringify(result.queued)}, dropped ${result.count.numbers.length} by count (${result.count.reasons}), ${result.age.numbers.length} by age (${result.age.reasons})`);
    if (referenceMode) {
      assert.deepEqual(result.queued, { count: EMITS, age: 2 }, "socket.io-client queues every emit");
      assert.deepEqual([result.count.numbers, result.age.numbers], [[], []], "no emit_dropped");
      assert.deepEqual(received("count"), [...range(1, EMITS), "end"], "all sent after the reconnection");
      assert.deepEqual(received("age"), [1, 2, "end"], "however long they waited");
      assert.deepEqual(result.ack, { ok: "noted" });
    } else {
      assert.deepEqual(result.queued, { count: 1000, age: 2 }, "maxQueue (1000 by default) holds the newest");
      assert.deepEqual(result.count, { reasons: ["overflow"], numbers: range(1, 50) }, "each emit over the bound reported, oldest first");
      assert.deepEqual(result.age, { reasons: ["expired"], numbers: [1, 2] }, "emits older than maxQueueAge reported");
      assert.deepEqual(received("count"), [...range(51, EMITS), "end"], "the kept ones sent in order");
      assert.deepEqual(received("age"), ["end"]);
      assert.deepEqual(result.ack, { type: "DroppedError" }, "a dropped emit's ack is rejected");
    }
    ctx.assertNoErrors();
  });
});

test("recovery: the server's offset is never an extra argument in resocket, socket.io-client passes it on", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer({ recovery: true }), async (ctx, { url }) => {
    const args = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const news = e2e.next(socket, "news", 5000);
        socket.emit("emit-to-me", "news", "live", { n: 1 });
        const args = await news;
        socket.disconnect();
        return args;
      },
      { url, opts: clientOptions() },
    );
    if (referenceMode) {
      assert.equal(args.length, 3, `socket.io-client: the offset is appended: ${JSON.stringify(args)}`);
      assert.deepEqual(args.slice(0, 2), ["live", { n: 1 }]);
      assert.equal(typeof args[2], "string");
    } else {
      assert.deepEqual(args, ["live", { n: 1 }], "resocket: exactly what the server emitted");
    }
    ctx.assertNoErrors();
  });
});

test("recovery: resocket delivers a replay after connect, socket.io-client before it", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer({ recovery: true }), async (ctx, { server, url }) => {
    // Away 1 s: the broadcast below comes while the client is away, after the server has
    // seen the old transport close (only then does it keep the session).
    const opts = clientOptions({ reconnectionDelay: 1000, reconnectionDelayMax: 1000, randomizationFactor: 0 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const order = [];
        socket.on("connect", () => order.push({ k: "connect", recovered: socket.recovered }));
        socket.on("news", (...args) => order.push({ k: "news", args }));
        // One event on the session first: recovery resumes from the last offset seen.
        socket.emit("emit-to-me", "news", "live");
        await e2e.waitFor(() => order.length === 1, 5000, "the live event");
        // Broadcast while the client is away, so that only the replay can bring it.
        await e2e.within(socket.emitWithAck("broadcast-later", 300, "news", "missed"), 5000, "broadcast-later's ack");
        await e2e.dropTransport(socket, 2000);
        await e2e.waitFor(() => order.length >= 3, 8000, "the reconnection and the replay", e2e.logs.main);
        await e2e.sleep(100);
        socket.disconnect();
        return order;
      },
      { url, opts },
    );
    const conns = server.log.filter((e) => e.event === "connection");
    assert.equal(conns[1]?.recovered, true, `the server restored the session: ${JSON.stringify(conns)}`);
    const seen = result.map((e) => (e.k === "connect" ? `connect(recovered ${e.recovered})` : `news(${e.args[0]})`));
    const expected = referenceMode
      ? ["news(live)", "news(missed)", "connect(recovered true)"]
      : ["news(live)", "connect(recovered true)", "news(missed)"];
    assert.deepEqual(seen, expected, `${client}: order of the replay and connect: ${JSON.stringify(result)}`);
    ctx.assertNoErrors();
  });
});

test("reconnect events: resocket emits them on the socket too, socket.io-client on the Manager only", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const log = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        await e2e.dropTransport(socket, 2000);
        await e2e.waitForEvent("manager", "reconnect", 5000, "the Manager's reconnect");
        await e2e.waitFor(() => socket.connected, 5000, "the socket's connect", e2e.logs.main);
        await e2e.sleep(100);
        socket.disconnect();
        return e2e.logs.main;
      },
      { url, opts: clientOptions({ reconnectionDelay: 100, randomizationFactor: 0 }) },
    );
    const names = (src) => pick(log, src, "reconnect_attempt", "reconnect").map((e) => `${e.name}(${e.args[0]})`);
    assert.deepEqual(names("manager"), ["reconnect_attempt(1)", "reconnect(1)"], `on the Manager, in both:${formatLog(log)}`);
    const onSocket = referenceMode ? [] : ["reconnect_attempt(1)", "reconnect(1)"];
    assert.deepEqual(names("socket"), onSocket, `${client}: on the socket:${formatLog(log)}`);
    ctx.assertNoErrors();
  });
});

test("reconnectionAttempts: 0 never reconnects and -1 is forever in resocket; socket.io-client reads 0 as forever and gives up at once on -1", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const base = { forceNew: true, reconnectionDelay: 100, randomizationFactor: 0 };
    const result = await ctx.page.evaluate(
      async ({ url, zero, minusOne }) => {
        const sockets = { zero: await e2e.open(url, zero, "zero"), minusOne: await e2e.open(url, minusOne, "minusOne") };
        await Promise.all(Object.entries(sockets).map(([name, s]) => e2e.dropTransport(s, 2000, name)));
        const settled = (name) => sockets[name].connected || e2e.logs[name].some((e) => e.src === "manager" && e.name === "reconnect_failed");
        await e2e.waitFor(() => settled("zero") && settled("minusOne"), 5000, "a reconnection or reconnect_failed on each", e2e.logs);
        await e2e.sleep(500); // nothing more may follow
        const out = {};
        for (const [name, s] of Object.entries(sockets)) {
          const log = e2e.logs[name];
          const count = (n) => log.filter((e) => e.src === "manager" && e.name === n).length;
          out[name] = { connected: s.connected, active: s.active, attempts: count("reconnect_attempt"), failed: count("reconnect_failed") };
          s.disconnect();
        }
        return { out, logs: e2e.logs };
      },
      { url, zero: clientOptions({ ...base, reconnectionAttempts: 0 }), minusOne: clientOptions({ ...base, reconnectionAttempts: -1 }) },
    );
    const reconnected = { connected: true, attempts: 1, failed: 0 };
    const gaveUp = { connected: false, attempts: 0, failed: 1 };
    const expected = referenceMode ? { zero: reconnected, minusOne: gaveUp } : { zero: gaveUp, minusOne: reconnected };
    const shape = ({ connected, attempts, failed }) => ({ connected, attempts, failed });
    const seen = { zero: shape(result.out.zero), minusOne: shape(result.out.minusOne) };
    assert.deepEqual(seen, expected, `${client}:${formatLog([...result.logs.zero, ...result.logs.minusOne])}`);
    // socket.io-client's socket still says active after its Manager gave up.
    if (!referenceMode) assert.equal(result.out.zero.active, false, "resocket: a socket that will not reconnect is inactive");
    ctx.assertNoErrors();
  });
});

test("reconnectionDelay: 0 stays 0 in resocket, socket.io-client waits its 1000 ms default", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        await e2e.dropTransport(socket, 2000);
        // Counted from the disconnect itself: far below 1000 ms, far above a 0 ms timer.
        const droppedAt = e2e.logs.main.find((e) => e.src === "socket" && e.name === "disconnect").t;
        await e2e.sleep(Math.max(0, droppedAt + 600 - performance.now()));
        const early = e2e.logs.main.filter((e) => e.src === "manager" && e.name === "reconnect_attempt" && e.t < droppedAt + 600).length;
        await e2e.waitFor(() => socket.connected, 5000, "the reconnection", e2e.logs.main);
        socket.disconnect();
        return { early, log: e2e.logs.main };
      },
      { url, opts: clientOptions({ reconnectionDelay: 0, randomizationFactor: 0 }) },
    );
    if (referenceMode) assert.equal(result.early, 0, `socket.io-client: no attempt within 600 ms:${formatLog(result.log)}`);
    else assert.ok(result.early >= 1, `resocket: an attempt at once:${formatLog(result.log)}`);
    ctx.assertNoErrors();
  });
});

// Both clients fire the Manager's packet event (the README's "the `packet` event never
// fires" is out of date); they differ in what a binary packet holds.
test("the Manager's packet event: resocket leaves binary attachments as placeholders, socket.io-client gives the buffers", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const packet = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const packets = [];
        socket.io.on("packet", (p) => packets.push(p));
        await e2e.within(socket.emitWithAck("send-binary"), 5000, "send-binary's ack");
        await e2e.waitFor(() => packets.some((p) => p.data?.[0] === "binary"), 5000, 'the "binary" event packet');
        socket.disconnect();
        return e2e.serialize(packets.find((p) => p.data?.[0] === "binary"));
      },
      { url, opts: clientOptions() },
    );
    const [, payload] = packet.data;
    const top = referenceMode ? { $type: "ArrayBuffer", $bytes: "000102fdfeff" } : { _placeholder: true, num: 0 };
    assert.deepEqual(payload.top, top, `${client}: ${JSON.stringify(packet)}`);
    assert.equal(payload.text, "not binary");
    ctx.assertNoErrors();
  });
});

test("receiveBuffer: socket.io-client exposes it, resocket does not", { timeout: TEST_TIMEOUT }, async (t) => {
  const port = await freePort(); // the socket never connects
  await suite.withPage(t, async (ctx) => {
    const result = await ctx.page.evaluate(
      ({ url, opts }) => {
        const socket = e2e.lib.io(url, { ...opts, autoConnect: false });
        return { has: "receiveBuffer" in socket, isArray: Array.isArray(socket.receiveBuffer) };
      },
      { url: `http://127.0.0.1:${port}`, opts: clientOptions({ forceNew: true }) },
    );
    assert.deepEqual(result, referenceMode ? { has: true, isArray: true } : { has: false, isArray: false });
    ctx.assertNoErrors();
  });
});

test("resocket's additions: rejoin(), clearQueue(), and emit_dropped when sendBuffer = [] drops the queue", { timeout: TEST_TIMEOUT }, async (t) => {
  const port = await freePort();
  await suite.withPage(t, async (ctx) => {
    const result = await ctx.page.evaluate(
      ({ url, opts }) => {
        const socket = e2e.lib.io(url, { ...opts, autoConnect: false });
        const dropped = e2e.drops(socket);
        socket.emit("note", 1);
        socket.emit("note", 2);
        socket.sendBuffer = [];
        return { rejoin: typeof socket.rejoin, clearQueue: typeof socket.clearQueue, left: socket.sendBuffer.length, dropped };
      },
      { url: `http://127.0.0.1:${port}`, opts: clientOptions({ forceNew: true }) },
    );
    const expected = referenceMode
      ? { rejoin: "undefined", clearQueue: "undefined", left: 0, dropped: [] }
      : { rejoin: "function", clearQueue: "function", left: 0, dropped: [["cleared", ["note", 1]], ["cleared", ["note", 2]]] };
    assert.deepEqual(result, expected);
    ctx.assertNoErrors();
  });
});

// The README said socket.io-client may leave these pending; 4.8 rejects every
// error-first ack (timeout(), ackTimeout, emitWithAck) of a packet already sent when the
// socket disconnects. Both clients leave a plain callback uncalled.
test("acks pending when the transport dies: rejected by both clients, with a DisconnectedError in resocket", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        let plainCalled = false;
        // "noack" never answers; the timeouts are far beyond this test.
        socket.emit("noack", "plain", () => (plainCalled = true));
        const pending = {
          emitWithAck: e2e.settle(socket.emitWithAck("noack", "emitWithAck")),
          timeoutEmitWithAck: e2e.settle(socket.timeout(60_000).emitWithAck("noack", "timeout emitWithAck")),
          timeoutCallback: new Promise((resolve) =>
            socket.timeout(60_000).emit("noack", "timeout callback", (err) => resolve(err ? { err: e2e.serialize(err) } : { ok: true })),
          ),
        };
        // The server answers in order: once this comes, it has every packet above.
        const counters = await e2e.within(socket.emitWithAck("counters"), 5000, "the counters");
        await e2e.dropTransport(socket, 2000);
        const settled = {};
        for (const [name, promise] of Object.entries(pending)) settled[name] = await e2e.orPending(promise, 1500, name);
        await e2e.sleep(100);
        socket.disconnect();
        return { counters, settled, plainCalled };
      },
      { url, opts: clientOptions({ reconnectionDelay: 5000, randomizationFactor: 0 }) },
    );
    assert.equal(result.counters.noack, 4, "the server had every emit before the transport died");
    for (const [name, outcome] of Object.entries(result.settled)) {
      assert.ok(outcome.err, `${client}: ${name} is rejected: ${JSON.stringify(outcome)}`);
      if (referenceMode) assert.equal(outcome.err.message, "socket has been disconnected", name);
      else assert.equal(outcome.err.type, "DisconnectedError", name);
    }
    assert.equal(result.plainCalled, false, "a plain callback has no error argument: not called");
    ctx.assertNoErrors();
  });
});

test("a throwing listener: resocket runs the listeners after it, socket.io-client skips them; both report it and stay connected", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const calls = [];
        socket.on("news", (n) => {
          calls.push(`first ${n}`);
          throw new Error("listener boom");
        });
        socket.on("news", (n) => calls.push(`second ${n}`));
        socket.emit("emit-to-me", "news", 1);
        await e2e.waitFor(() => e2e.reported.some((r) => r.message.includes("listener boom")), 5000, "the error to be reported");
        // Answered after "news" was handled, whatever became of it.
        const echo = await e2e.within(socket.emitWithAck("echo", "after"), 5000, "an ack after the throw");
        await e2e.sleep(100);
        const out = { calls, echo, connected: socket.connected, reported: e2e.reported.map((r) => r.message) };
        socket.disconnect();
        return out;
      },
      { url, opts: clientOptions() },
    );
    assert.deepEqual(result.calls, referenceMode ? ["first 1"] : ["first 1", "second 1"], `${client}: listener calls`);
    assert.deepEqual(result.reported, ["listener boom"], "the error reaches window once");
    assert.equal(result.echo, "after");
    assert.equal(result.connected, true);
    ctx.assertNoErrors({ allowPage: [/listener boom/], allowConsole: [/listener boom/] });
  });
});

test("a throwing disconnect listener: resocket reconnects anyway, socket.io-client never reconnects", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        socket.on("disconnect", () => {
          throw new Error("disconnect boom");
        });
      },
      { url, opts: clientOptions({ reconnectionDelay: 100, randomizationFactor: 0 }) },
    );
    // From the server, as a network failure would: socket.io-client would throw the
    // listener's error into a page call of engine.close().
    server.send({ cmd: "drop-transports" });
    const result = await ctx.page.evaluate(async () => {
      const socket = e2e.sockets.main;
      await e2e.waitForEvent("socket", "disconnect", 5000, "the disconnect");
      // 100 ms backoff: 3 s leaves room for many attempts.
      const back = await e2e.waitFor(() => socket.connected, 3000, "the reconnection").then(() => true, () => false);
      const out = { back, reported: e2e.reported.map((r) => r.message), log: [...e2e.logs.main] };
      socket.off("disconnect");
      socket.disconnect();
      return out;
    });
    assert.deepEqual(result.reported, ["disconnect boom"], "the error reaches window");
    assert.equal(result.back, !referenceMode, `${client}: reconnected:${formatLog(result.log)}`);
    const attempts = pick(result.log, "manager", "reconnect_attempt").length;
    if (referenceMode) assert.equal(attempts, 0, "socket.io-client: not even an attempt");
    // The server's log line may trail the client's connect by a moment.
    const connections = referenceMode ? 1 : 2;
    await server.waitForLog((log) => log.filter((e) => e.event === "connection").length >= connections, 5000, "the connections");
    assert.equal(server.count((e) => e.event === "connection"), connections);
    ctx.assertNoErrors({ allowPage: [/disconnect boom/], allowConsole: [/disconnect boom/] });
  });
});

test("an auth function that throws or rejects: resocket fails the attempt at once and asks again, socket.io-client hangs", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const calls = { sync: 0, async: 0 };
        const sockets = {
          sync: e2e.lib.io(url, {
            ...opts,
            auth: (cb) => {
              calls.sync += 1;
              if (calls.sync === 1) throw new Error("no token yet (sync)");
              cb({ token: "sync" });
            },
          }),
          async: e2e.lib.io(url, {
            ...opts,
            auth: async () => {
              calls.async += 1;
              if (calls.async === 1) throw new Error("no token yet (async)");
              return { token: "async" };
            },
          }),
        };
        const errors = { sync: [], async: [] };
        for (const [name, s] of Object.entries(sockets)) s.on("connect_error", (err) => errors[name].push({ message: err.message, type: err.type }));
        // socket.io-client never sends the CONNECT nor gives up: a bounded wait.
        await e2e.waitFor(() => sockets.sync.connected && sockets.async.connected, 3000, "both connections").catch(() => {});
        const out = { calls, errors, connected: { sync: sockets.sync.connected, async: sockets.async.connected }, reported: e2e.reported.map((r) => r.message).sort() };
        for (const s of Object.values(sockets)) s.disconnect();
        return out;
      },
      { url, opts: clientOptions({ forceNew: true, reconnectionDelay: 100, randomizationFactor: 0 }) },
    );
    const tokens = server.log.filter((e) => e.event === "connection").map((e) => e.token).sort();
    if (referenceMode) {
      assert.deepEqual(result.errors, { sync: [], async: [] }, "socket.io-client: no connect_error");
      assert.deepEqual(result.connected, { sync: false, async: false });
      assert.deepEqual(result.calls, { sync: 1, async: 1 }, "never asked again");
      assert.deepEqual(result.reported, ["no token yet (async)", "no token yet (sync)"], "the errors escape to window");
      assert.deepEqual(tokens, [], "no CONNECT at all");
    } else {
      assert.deepEqual(result.errors, {
        sync: [{ message: "no token yet (sync)", type: "AuthError" }],
        async: [{ message: "no token yet (async)", type: "AuthError" }],
      });
      assert.deepEqual(result.connected, { sync: true, async: true });
      assert.deepEqual(result.calls, { sync: 2, async: 2 });
      assert.deepEqual(result.reported, []);
      assert.deepEqual(tokens, ["async", "sync"], "no CONNECT without credentials");
    }
    ctx.assertNoErrors({ allowPage: [/no token yet/], allowConsole: [/no token yet/] });
  });
});

test("one namespace's failing auth or missing CONNECT reply: resocket retries that namespace alone, socket.io-client waits forever", { timeout: TEST_TIMEOUT }, async (t) => {
  const starting = startSocketIoServer({ namespaces: ["/", "/admin", "/slow"], stall: ["/slow"] });
  await suite.withServer(t, starting, async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        // No autoConnect: socket.io-client throws the auth function's error out of the
        // call that connects, caught here.
        const manager = new e2e.lib.Manager(url, { ...opts, autoConnect: false });
        const main = manager.socket("/");
        const mainLog = e2e.record(main, { name: "main" });
        main.connect();
        await e2e.waitFor(() => main.connected, 5000, "/ to connect", mainLog);
        let tries = 0;
        const admin = manager.socket("/admin", {
          auth: (cb) => {
            tries += 1;
            if (tries === 1) throw new Error("no token yet");
            cb({ token: "second" });
          },
        });
        const slow = manager.socket("/slow");
        const errors = { admin: [], slow: [] };
        admin.on("connect_error", (err) => errors.admin.push({ message: err.message, type: err.type }));
        slow.on("connect_error", (err) => errors.slow.push({ message: err.message, type: err.type }));
        let thrown = null;
        try {
          admin.connect();
        } catch (err) {
          thrown = err.message;
        }
        slow.connect();
        // A bounded wait: socket.io-client gets there never.
        await e2e.waitFor(() => admin.connected && errors.slow.length >= 2, 3000, "/admin to connect and /slow to fail twice").catch(() => {});
        const echo = await e2e.within(main.emitWithAck("echo", "still here"), 5000, "an ack on /");
        const out = { thrown, tries, errors, admin: admin.connected, main: main.connected, echo, log: [...mainLog] };
        for (const s of [main, admin, slow]) s.disconnect();
        return out;
      },
      { url, opts: clientOptions({ timeout: 500, reconnectionDelay: 200, randomizationFactor: 0 }) },
    );
    assert.equal(result.main, true, "/ stays connected");
    assert.equal(result.echo, "still here");
    assert.deepEqual(pick(result.log, "socket", "disconnect"), [], `/ never disconnected:${formatLog(result.log)}`);
    const stalled = server.count((e) => e.event === "stalled");
    const adminTokens = server.log.filter((e) => e.event === "connection" && e.nsp === "/admin").map((e) => e.token);
    if (referenceMode) {
      assert.equal(result.thrown, "no token yet", "socket.io-client: the error comes out of connect()");
      assert.deepEqual(result.errors, { admin: [], slow: [] }, "no connect_error for either");
      assert.deepEqual([result.tries, result.admin, adminTokens, stalled], [1, false, [], 1], "/admin never asks again, /slow never gives up its one CONNECT");
    } else {
      assert.equal(result.thrown, null);
      assert.deepEqual(result.errors.admin, [{ message: "no token yet", type: "AuthError" }]);
      assert.ok(result.errors.slow.length >= 2, `/slow fails on its own: ${JSON.stringify(result.errors.slow)}`);
      assert.ok(result.errors.slow.every((e) => e.type === "TimeoutError"), JSON.stringify(result.errors.slow));
      assert.deepEqual([result.tries, result.admin, adminTokens], [2, true, ["second"]], "/admin connects on its second try");
      assert.ok(stalled >= 2, `/slow sent its CONNECT again (${stalled} times)`);
    }
    ctx.assertNoErrors({ allowPage: [/no token yet/], allowConsole: [/no token yet/] });
  });
});

// The README said resocket fires `disconnect` only once the listener that called
// disconnect() returns; both clients fire it inside the call.
test("disconnect() inside a listener: both clients fire disconnect before the call returns", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const order = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const order = [];
        socket.on("disconnect", (reason) => order.push(`disconnect(${reason})`));
        socket.on("news", () => {
          order.push("news");
          socket.disconnect();
          order.push(`disconnect() returned, connected ${socket.connected}`);
        });
        socket.emit("emit-to-me", "news");
        await e2e.waitFor(() => order.length >= 3, 5000, "the news and the disconnect");
        await e2e.sleep(100);
        return order;
      },
      { url, opts: clientOptions() },
    );
    assert.deepEqual(order, ["news", "disconnect(io client disconnect)", "disconnect() returned, connected false"]);
    ctx.assertNoErrors();
  });
});

test("a server event named reconnect: refused by resocket (parse error, reconnection), delivered by socket.io-client", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const forged = [];
        socket.on("reconnect", (...args) => {
          if (args.includes("forged")) forged.push(args);
        });
        const reasons = [];
        socket.on("disconnect", (reason) => reasons.push(reason));
        socket.emit("emit-to-me", "reconnect", "forged");
        await e2e.waitFor(() => forged.length > 0 || reasons.length > 0, 5000, "the forged event or a disconnect");
        await e2e.waitFor(() => socket.connected, 5000, "a connected socket", e2e.logs.main);
        const echo = await e2e.within(socket.emitWithAck("echo", "works"), 5000, "an ack");
        socket.disconnect();
        return { forged, reasons: reasons.filter((r) => r !== "io client disconnect"), echo };
      },
      { url, opts: clientOptions({ reconnectionDelay: 100, randomizationFactor: 0 }) },
    );
    const expected = referenceMode ? { forged: [["forged"]], reasons: [], echo: "works" } : { forged: [], reasons: ["parse error"], echo: "works" };
    assert.deepEqual(result, expected, client);
    ctx.assertNoErrors();
  });
});

test("a malformed Engine.IO open packet: an error event in resocket, an uncaught exception in socket.io-client", { timeout: TEST_TIMEOUT }, async (t) => {
  const raw = await startRawEngineServer({ handshake: (index) => (index === 1 ? ["0not json"] : null) });
  try {
    await suite.withPage(t, async (ctx) => {
      const result = await ctx.page.evaluate(
        async ({ url, opts }) => {
          const socket = await e2e.open(url, opts, "main", { wait: 0 });
          // socket.io-client gets over it only through the handshake timeout (1 s here).
          await e2e.waitFor(() => socket.connected, 8000, "a connection after the bad handshake", e2e.logs.main);
          const echo = await e2e.within(socket.emitWithAck("echo", "works"), 3000, "an ack");
          const errors = e2e.logs.main.filter((e) => e.src === "manager" && e.name === "error").map((e) => e.args[0]?.type ?? null);
          const out = { echo, errors, reported: e2e.reported.map((r) => r.kind) };
          socket.disconnect();
          return out;
        },
        { url: `http://127.0.0.1:${raw.port}`, opts: clientOptions({ timeout: 1000, reconnectionDelay: 100, randomizationFactor: 0 }) },
      );
      assert.equal(result.echo, "works", "both get over it");
      if (referenceMode) {
        assert.deepEqual(result.reported, ["error"], "socket.io-client: the parse error escapes to window");
      } else {
        assert.deepEqual(result.reported, [], "resocket: nothing escapes");
        assert.ok(result.errors.includes("ParseError"), `resocket: an error event of type ParseError: ${JSON.stringify(result.errors)}`);
      }
      ctx.assertNoErrors({ allowPage: [/not valid JSON/] });
    });
  } finally {
    await raw.close();
  }
});
