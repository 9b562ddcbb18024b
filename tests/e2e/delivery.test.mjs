// Delivery guarantees of the client against a real socket.io server:
//   - the offline queue: emits made while disconnected are sent in order after the
//     reconnection (acks included), shown by `socket.sendBuffer`; volatile emits are
//     never queued;
//   - its bounds: `maxQueue` with `queueOverflow` "drop-oldest" / "drop-newest",
//     `maxQueueAge`, and `socket.clearQueue()`; every dropped emit is reported by
//     `emit_dropped(reason, [ev, ...args])` and its ack rejected with a DroppedError;
//   - at-least-once emits (`retries` + `ackTimeout`): resent until acknowledged, one in
//     flight at a time (FIFO), given up with `emit_dropped("unacknowledged")` and an
//     error to the ack after the last try, and resent after a server crash and restart;
//     acks of plain emits in flight when the transport dies are rejected with a
//     DisconnectedError and not resent.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { startServer } from "./support/processes.mjs";
import { formatLog } from "./support/events.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;

/** The "note" events the server received, as their argument lists, in arrival order. */
const notes = (server, pred = () => true) =>
  server.log.filter((e) => e.event === "note" && pred(e)).map((e) => e.args);

test("offline queue: sent in order after reconnecting, acks answered, sendBuffer exact, volatile never queued", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer(), async (ctx, { server, url }) => {
    const opts = clientOptions({ reconnectionDelay: 1000, reconnectionDelayMax: 1000, randomizationFactor: 0 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const dropped = e2e.drops(socket);
        socket.volatile.emit("note", "volatile-online");
        await e2e.within(socket.emitWithAck("note", "online"), 5000, "the online note's ack");
        await e2e.dropTransport(socket, 2000);
        socket.emit("note", 1);
        socket.emit("note", 2, "two");
        socket.volatile.emit("note", "volatile-offline");
        const acked = e2e.within(socket.emitWithAck("note", 3, { three: [3] }), 8000, "the ack of a queued emit");
        socket.emit("note", 4, null, [4]);
        const sendBuffer = socket.sendBuffer;
        await e2e.waitFor(() => socket.connected, 8000, "the reconnection", e2e.logs.main);
        const ack = await acked;
        await e2e.within(socket.emitWithAck("note", "last"), 5000, "the last note's ack");
        await e2e.sleep(200);
        socket.disconnect();
        return { sendBuffer, ack, dropped, log: e2e.logs.main };
      },
      { url, opts },
    );
    const received = notes(server);
    console.log(`offline queue: sendBuffer ${JSON.stringify(result.sendBuffer)}; server received ${JSON.stringify(received)}`);
    assert.deepEqual(
      result.sendBuffer,
      [["note", 1], ["note", 2, "two"], ["note", 3, { three: [3] }], ["note", 4, null, [4]]],
      "socket.sendBuffer: the queued emits, oldest first, the volatile one not among them",
    );
    assert.deepEqual(
      received,
      [["volatile-online"], ["online"], [1], [2, "two"], [3, { three: [3] }], [4, null, [4]], ["last"]],
      `what the server received, in order (a volatile emit only while connected):${formatLog(result.log)}`,
    );
    assert.equal(result.ack, "noted", "the ack of an emit queued offline arrives after the reconnection");
    assert.deepEqual(result.dropped, [], "nothing dropped");
    const conns = server.log.filter((e) => e.event === "connection");
    assert.equal(conns.length, 2);
    // The queued emits went out on the new connection, not the old one.
    const queuedOn = server.log.filter((e) => e.event === "note" && typeof e.args[0] === "number").map((e) => e.connId);
    assert.deepEqual(queuedOn, [1, 2, 3, 4].map(() => conns[1].connId), "queued emits sent on the new connection");
    ctx.assertNoErrors();
  });
});

test("queue overflow: drop-oldest and drop-newest, each drop reported and its ack rejected", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer(), async (ctx, { server, url }) => {
    const base = { forceNew: true, reconnectionDelay: 1000, reconnectionDelayMax: 1000, randomizationFactor: 0, maxQueue: 3 };
    const optsA = clientOptions({ ...base }); // queueOverflow: "drop-oldest" is the default
    const optsB = clientOptions({ ...base, queueOverflow: "drop-newest" });
    const result = await ctx.page.evaluate(
      async ({ url, optsA, optsB }) => {
        const run = async (name, opts) => {
          const socket = await e2e.open(url, opts, name);
          const dropped = e2e.drops(socket);
          await e2e.dropTransport(socket, 2000, name);
          const first = e2e.settle(socket.emitWithAck("note", `${name}-1`));
          socket.emit("note", `${name}-2`);
          socket.emit("note", `${name}-3`, { n: 3 });
          socket.emit("note", `${name}-4`);
          const last = e2e.settle(socket.emitWithAck("note", `${name}-5`));
          const sendBuffer = socket.sendBuffer;
          const droppedOffline = [...dropped];
          await e2e.waitFor(() => socket.connected, 8000, `${name}: the reconnection`, e2e.logs[name]);
          // Bounded: an ack that never settles shows up as { pending: true }.
          const acks = [await e2e.orPending(first, 3000, "an ack"), await e2e.orPending(last, 3000, "an ack")];
          await e2e.within(socket.emitWithAck("note", `${name}-after`), 5000, "a note after the reconnection");
          socket.disconnect();
          return { sendBuffer, droppedOffline, dropped, acks };
        };
        const [a, b] = await Promise.all([run("a", optsA), run("b", optsB)]);
        return { a, b, logs: e2e.logs };
      },
      { url, optsA, optsB },
    );
    const receivedBy = (prefix) => notes(server, (e) => String(e.args[0]).startsWith(prefix)).map((args) => args[0]);
    console.log(
      `overflow drop-oldest: dropped ${JSON.stringify(result.a.dropped)}, server got ${JSON.stringify(receivedBy("a-"))}\n` +
        `overflow drop-newest: dropped ${JSON.stringify(result.b.dropped)}, server got ${JSON.stringify(receivedBy("b-"))}`,
    );
    const droppedError = { $type: "Error", name: "Error", type: "DroppedError" };
    const pickError = (ack) => (ack.err ? { $type: ack.err.$type, name: ack.err.name, type: ack.err.type } : ack);

    // drop-oldest: the two oldest go, the three newest stay and are sent.
    assert.deepEqual(result.a.droppedOffline, [["overflow", ["note", "a-1"]], ["overflow", ["note", "a-2"]]], "drop-oldest: reported at once, oldest first");
    assert.deepEqual(result.a.dropped, result.a.droppedOffline, "drop-oldest: nothing else dropped later");
    assert.deepEqual(result.a.sendBuffer, [["note", "a-3", { n: 3 }], ["note", "a-4"], ["note", "a-5"]]);
    assert.deepEqual(receivedBy("a-"), ["a-3", "a-4", "a-5", "a-after"], `drop-oldest: what the server got:${formatLog(result.logs.a)}`);
    assert.deepEqual(pickError(result.a.acks[0]), droppedError, "drop-oldest: the dropped emit's ack is rejected with a DroppedError");
    assert.deepEqual(result.a.acks[1], { ok: "noted" }, "drop-oldest: the kept emit is acknowledged");

    // drop-newest: the queue keeps the three oldest, the two newest go.
    assert.deepEqual(result.b.droppedOffline, [["overflow", ["note", "b-4"]], ["overflow", ["note", "b-5"]]], "drop-newest: reported at once, in emit order");
    assert.deepEqual(result.b.dropped, result.b.droppedOffline, "drop-newest: nothing else dropped later");
    assert.deepEqual(result.b.sendBuffer, [["note", "b-1"], ["note", "b-2"], ["note", "b-3", { n: 3 }]]);
    assert.deepEqual(receivedBy("b-"), ["b-1", "b-2", "b-3", "b-after"], `drop-newest: what the server got:${formatLog(result.logs.b)}`);
    assert.deepEqual(result.b.acks[0], { ok: "noted" }, "drop-newest: the kept emit is acknowledged");
    assert.deepEqual(pickError(result.b.acks[1]), droppedError, "drop-newest: the ack of the emit refused at once by the full queue is rejected with a DroppedError ({ pending: true }: it never settled)");
    ctx.assertNoErrors();
  });
});

test("emits refused at once (maxQueue 0; at-least-once queue full): reported, and their acks rejected", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer(), async (ctx, { url }) => {
    // Never connected (autoConnect false): every emit meets the queue.
    const noQueue = clientOptions({ forceNew: true, autoConnect: false, maxQueue: 0 });
    const reliable = clientOptions({ forceNew: true, autoConnect: false, maxQueue: 1, retries: 2 });
    const result = await ctx.page.evaluate(
      async ({ url, noQueue, reliable }) => {
        const bounded = (p) =>
          e2e.within(p, 2000, "an ack").then(
            (v) => ({ ok: v }),
            (err) => (String(err?.message).startsWith("timed out") ? { pending: true } : { err: err.type }),
          );
        // An error-first callback, as a promise.
        const callback = (socket, ...args) =>
          bounded(new Promise((resolve, reject) => socket.emit(...args, (err) => (err ? reject(err) : resolve(null)))));
        const a = e2e.lib.io(url, noQueue);
        const b = e2e.lib.io(url, reliable);
        const dropped = { a: e2e.drops(a), b: e2e.drops(b) };
        const acks = await Promise.all([
          bounded(a.emitWithAck("note", "a-promise")),
          callback(a.timeout(500), "note", "a-callback"),
          callback(b, "note", "b-kept"), // queued: stays pending, never connected
          callback(b, "note", "b-refused"),
        ]);
        const buffers = { a: a.sendBuffer, b: b.sendBuffer };
        a.disconnect();
        b.disconnect();
        return { acks, dropped, buffers };
      },
      { url, noQueue, reliable },
    );
    console.log(`refused at once: acks ${JSON.stringify(result.acks)}, dropped ${JSON.stringify(result.dropped)}`);
    assert.deepEqual(result.dropped.a, [["overflow", ["note", "a-promise"]], ["overflow", ["note", "a-callback"]]], "maxQueue 0: each offline emit reported");
    assert.deepEqual(result.dropped.b, [["overflow", ["note", "b-refused"]]], "at-least-once queue full: the new emit reported");
    assert.deepEqual(result.acks[0], { err: "DroppedError" }, "maxQueue 0: emitWithAck rejected ({ pending: true }: never settled)");
    assert.deepEqual(result.acks[1], { err: "DroppedError" }, "maxQueue 0: the timeout(…) callback gets the error ({ pending: true }: never called)");
    assert.deepEqual(result.acks[2], { pending: true }, "the queued at-least-once emit waits for a connection");
    assert.deepEqual(result.acks[3], { err: "DroppedError" }, "at-least-once queue full: the refused emit's callback gets the error");
    assert.deepEqual(result.buffers.a, [], "nothing queued with maxQueue 0");
    ctx.assertNoErrors();
  });
});

test("queue expiry (maxQueueAge): old emits dropped as 'expired', never sent; newer ones sent", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer(), async (ctx, { server, url }) => {
    // Away 1.5 s; queued emits live 1 s: what is queued at once expires before the
    // reconnection, what is queued after that expiry is still young at the reconnection.
    const opts = clientOptions({ reconnectionDelay: 1500, reconnectionDelayMax: 1500, randomizationFactor: 0, maxQueueAge: 1000 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const dropped = [];
        socket.on("emit_dropped", (reason, data) => dropped.push({ reason, data, t: performance.now() }));
        await e2e.dropTransport(socket, 1000);
        const queuedAt = performance.now();
        const oldAck = e2e.settle(socket.emitWithAck("note", "old-1"));
        socket.emit("note", "old-2", 2);
        const queuedBefore = socket.sendBuffer;
        await e2e.waitFor(() => dropped.length >= 2, 1400, "the two emits to expire", dropped);
        const expiredAfter = Math.round(dropped[1].t - queuedAt);
        const afterExpiry = { sendBuffer: socket.sendBuffer, connected: socket.connected };
        const freshAck = e2e.settle(socket.emitWithAck("note", "fresh"));
        await e2e.waitFor(() => socket.connected, 5000, "the reconnection", e2e.logs.main);
        const acks = {
          old: await e2e.orPending(oldAck, 3000, "the expired emit's ack"),
          fresh: await e2e.orPending(freshAck, 3000, "the fresh emit's ack"),
        };
        socket.disconnect();
        return {
          dropped: dropped.map(({ reason, data }) => [reason, data]),
          expiredAfter,
          queuedBefore,
          afterExpiry,
          acks,
          log: e2e.logs.main,
        };
      },
      { url, opts },
    );
    const received = notes(server).map((args) => args[0]);
    console.log(
      `expiry: dropped ${result.expiredAfter} ms after queueing (maxQueueAge 1000); ` +
        `dropped ${JSON.stringify(result.dropped)}; server got ${JSON.stringify(received)}`,
    );
    assert.deepEqual(result.queuedBefore, [["note", "old-1"], ["note", "old-2", 2]]);
    assert.deepEqual(
      result.dropped,
      [
        ["expired", ["note", "old-1"]],
        ["expired", ["note", "old-2", 2]],
      ],
      "every expired emit reported once, with its data, oldest first",
    );
    assert.deepEqual(result.afterExpiry, { sendBuffer: [], connected: false }, "expired while still offline: the queue is empty");
    assert.ok(result.expiredAfter >= 950 && result.expiredAfter < 1400, `expired ${result.expiredAfter} ms after being queued (maxQueueAge 1000)`);
    assert.equal(result.acks.old.err?.type, "DroppedError", `the expired emit's ack: ${JSON.stringify(result.acks.old)}`);
    assert.deepEqual(result.acks.fresh, { ok: "noted" }, "the emit queued after the expiry is sent and acknowledged");
    assert.deepEqual(received, ["fresh"], `the server got only the emit that had not expired:${formatLog(result.log)}`);
    ctx.assertNoErrors();
  });
});

test("clearQueue(): every queued emit dropped as 'cleared', reported, its ack rejected, never sent", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer(), async (ctx, { server, url }) => {
    const opts = clientOptions({ reconnectionDelay: 1000, reconnectionDelayMax: 1000, randomizationFactor: 0 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const dropped = e2e.drops(socket);
        await e2e.dropTransport(socket, 1000);
        const clearedAck = e2e.settle(socket.emitWithAck("note", "clear-1"));
        socket.emit("note", "clear-2");
        socket.emit("note", "clear-3", { n: 3 });
        const beforeClear = socket.sendBuffer;
        socket.clearQueue();
        const afterClear = socket.sendBuffer;
        const droppedByClear = [...dropped];
        socket.emit("note", "kept");
        const keptBuffer = socket.sendBuffer;
        await e2e.waitFor(() => socket.connected, 5000, "the reconnection", e2e.logs.main);
        await e2e.within(socket.emitWithAck("note", "last"), 5000, "the last note's ack");
        const cleared = await e2e.orPending(clearedAck, 3000, "the cleared emit's ack");
        socket.disconnect();
        return { dropped, beforeClear, afterClear, droppedByClear, keptBuffer, cleared, log: e2e.logs.main };
      },
      { url, opts },
    );
    const received = notes(server).map((args) => args[0]);
    console.log(`clearQueue: dropped ${JSON.stringify(result.dropped)}; server got ${JSON.stringify(received)}`);
    const expected = [
      ["cleared", ["note", "clear-1"]],
      ["cleared", ["note", "clear-2"]],
      ["cleared", ["note", "clear-3", { n: 3 }]],
    ];
    assert.deepEqual(result.beforeClear, [["note", "clear-1"], ["note", "clear-2"], ["note", "clear-3", { n: 3 }]]);
    assert.deepEqual(result.afterClear, [], "sendBuffer after clearQueue()");
    assert.deepEqual(result.droppedByClear, expected, "clearQueue() has reported each emit, oldest first, by the time it returns");
    assert.deepEqual(result.dropped, expected, "nothing else dropped");
    assert.deepEqual(result.keptBuffer, [["note", "kept"]], "the queue works on after clearQueue()");
    assert.equal(result.cleared.err?.type, "DroppedError", `the cleared emit's ack: ${JSON.stringify(result.cleared)}`);
    assert.deepEqual(received, ["kept", "last"], `the server got only what was queued after the clear:${formatLog(result.log)}`);
    ctx.assertNoErrors();
  });
});

test("retries + ackTimeout: acknowledged on the 3rd try -> (null, result), one in flight (FIFO)", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer(), async (ctx, { server, url }) => {
    const opts = clientOptions({ retries: 3, ackTimeout: 300 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const dropped = e2e.drops(socket);
        const done = [];
        const flaky = new Promise((resolve) => socket.emit("flaky", "k1", 3, (...args) => (done.push("flaky"), resolve(args))));
        const after = new Promise((resolve) => socket.emit("note", "after-flaky", (...args) => (done.push("note"), resolve(args))));
        const results = await e2e.within(Promise.all([flaky, after]), 8000, "both acks");
        socket.disconnect();
        return { results: results.map((r) => r.map((a) => e2e.serialize(a))), done, dropped };
      },
      { url, opts },
    );
    const order = server.log
      .filter((e) => e.event === "flaky" || e.event === "note")
      .map((e) => (e.event === "flaky" ? `flaky try ${e.try}` : `note ${e.args[0]}`));
    console.log(`retries: server saw ${order.join(" | ")}; ack ${JSON.stringify(result.results[0])}`);
    assert.deepEqual(order, ["flaky try 1", "flaky try 2", "flaky try 3", "note after-flaky"], "three tries, and the next emit only once the first was acknowledged");
    assert.deepEqual(result.results[0], [null, { key: "k1", tries: 3 }], "error-first ack: (null, result)");
    assert.deepEqual(result.results[1], [null, "noted", "after-flaky"], "the next emit's ack");
    assert.deepEqual(result.done, ["flaky", "note"], "acks settled in order");
    assert.deepEqual(result.dropped, []);
    ctx.assertNoErrors();
  });
});

test('retries used up: emit_dropped("unacknowledged") and the ack gets the error; the queue goes on', { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer(), async (ctx, { server, url }) => {
    const opts = clientOptions({ retries: 2, ackTimeout: 200 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const dropped = e2e.drops(socket);
        const lost = new Promise((resolve) => socket.emit("noack", "lost", (...args) => resolve(args.map((a) => e2e.serialize(a)))));
        const next = new Promise((resolve) => socket.emit("note", "next", (...args) => resolve(args)));
        const [lostArgs, nextArgs] = await e2e.within(Promise.all([lost, next]), 8000, "both acks");
        const counters = await e2e.within(socket.emitWithAck("counters"), 5000, "counters");
        socket.disconnect();
        return { lostArgs, nextArgs, counters, dropped, log: e2e.logs.main };
      },
      { url, opts },
    );
    console.log(`unacknowledged: ack ${JSON.stringify(result.lostArgs)}, dropped ${JSON.stringify(result.dropped)}, server tries ${result.counters.noack}`);
    assert.equal(result.lostArgs.length, 1, "the ack gets exactly one argument, the error");
    assert.equal(result.lostArgs[0].$type, "Error", `the ack's argument is an Error: ${JSON.stringify(result.lostArgs)}`);
    assert.equal(typeof result.lostArgs[0].type, "string", "the error has a .type");
    assert.deepEqual(result.dropped, [["unacknowledged", ["noack", "lost"]]], "reported once, with its data");
    assert.equal(result.counters.noack, 3, "sent 1 + 2 retries times");
    assert.deepEqual(result.nextArgs, [null, "noted", "next"], "the emit behind it went out afterwards");
    assert.deepEqual(notes(server), [["next"]]);
    ctx.assertNoErrors();
  });
});

test("server killed with emits in flight: at-least-once emits resent after the restart, plain acks rejected", { timeout: TEST_TIMEOUT }, async (t) => {
  // The first server never acknowledges "hold" in time; its successor does at once.
  const first = await startServer({ holdMs: 600_000, name: "first server" });
  let second = null;
  try {
    await suite.withPage(t, async (ctx) => {
      const url = `http://127.0.0.1:${first.port}`;
      const reliableOpts = clientOptions({ forceNew: true, retries: 3, ackTimeout: 20_000, reconnectionDelay: 300, reconnectionDelayMax: 1000 });
      const plainOpts = clientOptions({ forceNew: true, reconnectionDelay: 300, reconnectionDelayMax: 1000 });
      await ctx.page.evaluate(
        async ({ url, reliableOpts, plainOpts }) => {
          const reliable = await e2e.open(url, reliableOpts, "reliable");
          const plain = await e2e.open(url, plainOpts, "plain");
          e2e.results = { acks: [], dropped: e2e.drops(reliable) };
          const ack = (label) => (...args) => e2e.results.acks.push([label, ...args.map((a) => e2e.serialize(a))]);
          reliable.emit("hold", "m1", ack("m1"));
          reliable.emit("note", "m2", ack("m2"));
          reliable.emit("note", "m3");
          e2e.results.plainPromise = e2e.settle(plain.emitWithAck("hold", "plain-promise"));
          plain.timeout(20_000).emit("hold", "plain-callback", ack("plain-callback"));
        },
        { url, reliableOpts, plainOpts },
      );
      const holds = (server) => server.log.filter((e) => e.event === "hold").map((e) => e.args[0]);
      await first.waitForLog((log) => holds(first).length >= 3, 5000, "the three held emits");
      await first.kill();
      second = await startServer({ port: first.port, name: "second server" });
      const result = await ctx.page.evaluate(async () => {
        const { reliable, plain } = e2e.sockets;
        await e2e.waitFor(() => e2e.results.acks.some((a) => a[0] === "m2"), 10_000, "m2's ack after the restart", e2e.results);
        const plainPromise = await e2e.within(e2e.results.plainPromise, 1000, "the plain emitWithAck to settle");
        await e2e.waitFor(() => plain.connected, 5000, "the plain socket to reconnect", e2e.logs.plain);
        await e2e.sleep(300);
        const out = { acks: e2e.results.acks, dropped: e2e.results.dropped, plainPromise, logs: e2e.logs };
        reliable.disconnect();
        plain.disconnect();
        return out;
      });
      const inOrder = (server) =>
        server.log.filter((e) => e.event === "hold" || e.event === "note").map((e) => `${e.event} ${e.args[0]}`);
      console.log(`in flight at the kill: first server saw ${inOrder(first).join(" | ")}; second server saw ${inOrder(second).join(" | ")}`);
      console.log(`  acks: ${JSON.stringify(result.acks)}; plain emitWithAck: ${JSON.stringify(result.plainPromise)}`);
      // The first server got the in-flight m1 (never acknowledged) and the plain emits;
      // m2 and m3 waited behind m1 (one in flight).
      assert.deepEqual(inOrder(first).sort(), ["hold m1", "hold plain-callback", "hold plain-promise"]);
      // After the restart: m1 again, then m2 and m3, in order; the plain emits are not resent.
      assert.deepEqual(inOrder(second), ["hold m1", "note m2", "note m3"], "what the restarted server received");
      const byLabel = Object.fromEntries(result.acks.map(([label, ...args]) => [label, args]));
      assert.deepEqual(byLabel.m1, [null, "held", "m1"], "m1 acknowledged by the restarted server");
      assert.deepEqual(byLabel.m2, [null, "noted", "m2"]);
      assert.equal(byLabel["plain-callback"]?.length, 1, `plain callback settled with one error: ${JSON.stringify(byLabel["plain-callback"])}`);
      assert.equal(byLabel["plain-callback"][0].type, "DisconnectedError", "the timeout callback of a plain emit whose transport died");
      assert.equal(result.plainPromise.err?.type, "DisconnectedError", "the plain emitWithAck whose transport died");
      assert.deepEqual(result.dropped, [], "nothing given up");
      ctx.assertNoErrors();
    });
  } finally {
    await first.stop();
    await second?.stop();
  }
});
