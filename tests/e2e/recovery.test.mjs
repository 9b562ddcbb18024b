// Connection state recovery against a real socket.io server with
// `connectionStateRecovery` on (./support/server.mjs --recovery):
//   a. the documented check: the transport is dropped (`socket.io.engine.close()`) in
//      the middle of a numbered stream; the client comes back with `recovered === true`,
//      the same `socket.id`, and every number exactly once and in order, each event
//      with exactly its own arguments (the server's offset never shows);
//   b. the session expired (maxDisconnectionDuration 1 s, client away 2.5 s):
//      `recovered === false`, a new id, the declared `socket.rejoin()` emits are sent
//      again on the new socket in declared order BEFORE the emits queued offline, a
//      stopped rejoin is not, and the app can see what it missed (a gap in the numbers).
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { startServer } from "./support/processes.mjs";
import { formatLog } from "./support/events.mjs";
import { analyzeStream, formatStreamReport } from "./support/sequence.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("transport dropped mid-stream: recovered, same id, every event once and in order", { timeout: TEST_TIMEOUT }, async (t) => {
  const COUNT = 150;
  await suite.withServer(t, startServer({ recovery: true }), async (ctx, { server, url }) => {
    // ≥ 300 ms: the server saves the session only once it has seen the old transport close.
    const opts = clientOptions({ reconnectionDelay: 300, reconnectionDelayMax: 1000 });
    const result = await ctx.page.evaluate(
      async ({ url, opts, COUNT }) => {
        const socket = await e2e.open(url, opts, "main", { trace: "n" });
        const trace = e2e.traces.main;
        const firstId = socket.id;
        const firstRecovered = socket.recovered;
        await e2e.within(socket.emitWithAck("stream", { every: 20, count: COUNT }), 5000, "the stream to start");
        await e2e.waitFor(() => e2e.traced("event") >= 30, 5000, "30 streamed events", trace.slice(-5));
        socket.io.engine.close();
        await e2e.waitFor(() => e2e.traced("connect") >= 2, 10_000, "the reconnection", e2e.logs.main);
        const second = { id: socket.id, recovered: socket.recovered };
        // Bounded; what is missing then is shown by the assertions below.
        await e2e.waitFor(() => e2e.traced("event") >= COUNT, 10_000, `all ${COUNT} events`).catch(() => {});
        await e2e.sleep(300); // a duplicate arriving late would show up here
        const out = { firstId, firstRecovered, second, trace: [...trace], log: [...e2e.logs.main] };
        socket.disconnect();
        return out;
      },
      { url, opts, COUNT },
    );

    const { trace, log } = result;
    const report = analyzeStream(trace, { lastSent: COUNT });
    const conns = server.log.filter((e) => e.event === "connection");
    const drop = server.log.find((e) => e.event === "disconnect");
    const missedWhileAway = conns[1] && drop ? conns[1].streamLast - drop.streamLast : NaN;
    console.log(formatStreamReport("recovery (documented check)", report));
    console.log(
      `  server: disconnect "${drop?.reason}" at #${drop?.streamLast}, reconnection at #${conns[1]?.streamLast}` +
        ` (${missedWhileAway} events emitted while away, replayed); client disconnect reason: ` +
        `${trace.find((e) => e.k === "disconnect")?.reason}`,
    );

    assert.equal(result.firstRecovered, false, "the first connection has nothing to recover");
    assert.deepEqual(
      trace.filter((e) => e.k === "connect").map((e) => ({ recovered: e.recovered, id: e.id })),
      [
        { recovered: false, id: result.firstId },
        { recovered: true, id: result.firstId },
      ],
      `two connects, the second recovered with the same id:${formatLog(log)}`,
    );
    assert.deepEqual(result.second, { id: result.firstId, recovered: true }, "socket.id and socket.recovered after the reconnection");
    const received = trace.filter((e) => e.k === "event").map((e) => e.args);
    assert.deepEqual(received, range(1, COUNT).map((n) => [n]), "every number exactly once, in order, each with exactly one argument");
    assert.deepEqual(report.badArgs, []);
    assert.equal(report.lostInRecovered, 0);
    assert.equal(report.dupInRecovered, 0);
    // The server side of the same story: the same socket id came back, recovered.
    assert.equal(conns.length, 2, `server connections: ${JSON.stringify(server.log)}`);
    assert.equal(conns[1].recovered, true, "the server restored the session");
    assert.equal(conns[1].id, conns[0].id, "the server kept the socket id");
    // The replay was really needed: events were emitted while the client was away.
    assert.ok(missedWhileAway > 0, `no event was emitted while the client was away (${missedWhileAway}): the test proved nothing`);
    ctx.assertNoErrors();
  });
});

test("session expired: not recovered, rejoin emits re-sent before the offline queue, the gap is visible", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startServer({ recovery: true, maxDisconnectionDuration: 1000 }), async (ctx, { server, url }) => {
    // Away 2.5 s, exactly: longer than the server's 1 s maxDisconnectionDuration.
    const opts = clientOptions({ reconnectionDelay: 2500, reconnectionDelayMax: 2500, randomizationFactor: 0 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts, "main", { trace: "n" });
        const trace = e2e.traces.main;
        const firstId = socket.id;
        // Declared while connected: each is sent now, and after every lost session.
        socket.rejoin("join", "room-1");
        socket.rejoin("join", "room-2");
        const stop3 = socket.rejoin("join", "room-3");
        stop3(); // sent once now, never again
        // The stream goes to room-1 only: after a lost session the client gets it
        // again only if it joined again.
        await e2e.within(socket.emitWithAck("stream", { every: 20, room: "room-1" }), 5000, "the stream to start");
        await e2e.waitFor(() => e2e.traced("event") >= 20, 5000, "20 streamed events", trace.slice(-5));
        await e2e.dropTransport(socket, 2000);
        socket.emit("note", "queued-1");
        socket.emit("note", "queued-2", { x: 1 });
        const sendBuffer = socket.sendBuffer;
        await e2e.waitFor(() => e2e.traced("connect") >= 2, 8000, "the reconnection", e2e.logs.main);
        const second = { id: socket.id, recovered: socket.recovered };
        const before = e2e.traced("event");
        await e2e.waitFor(() => e2e.traced("event") >= before + 20, 5000, "20 events after the reconnection", trace.slice(-5));
        const stopped = await e2e.within(socket.emitWithAck("stream-stop"), 5000, "the stream to stop");
        await e2e.sleep(200);
        const out = { firstId, second, sendBuffer, stopped, trace: [...trace], log: [...e2e.logs.main] };
        socket.disconnect();
        return out;
      },
      { url, opts },
    );

    const { trace, log } = result;
    const report = analyzeStream(trace, { lastSent: result.stopped.last });
    console.log(formatStreamReport("recovery (session expired)", report));
    const conns = server.log.filter((e) => e.event === "connection");
    const timeline = (id) =>
      server.log
        .filter((e) => e.id === id && (e.event === "join" || e.event === "note"))
        .map((e) => (e.event === "join" ? `join ${e.room}` : `note ${JSON.stringify(e.args)}`));
    const first = conns[0] ? timeline(conns[0].id) : [];
    const second = conns[1] ? timeline(conns[1].id) : [];
    console.log(`  server, first socket: ${first.join(" | ")}\n  server, second socket: ${second.join(" | ")}`);

    assert.deepEqual(result.sendBuffer, [["note", "queued-1"], ["note", "queued-2", { x: 1 }]], "socket.sendBuffer while offline");
    assert.equal(result.second.recovered, false, `the expired session cannot be recovered:${formatLog(log)}`);
    assert.notEqual(result.second.id, result.firstId, "a new session gets a new id");
    assert.deepEqual(
      trace.filter((e) => e.k === "connect").map((e) => e.recovered),
      [false, false],
      `two connects, neither recovered:${formatLog(log)}`,
    );
    assert.equal(conns.length, 2, `server connections: ${JSON.stringify(server.log)}`);
    assert.equal(conns[1].recovered, false, "the server did not restore the session");
    // Rejoins: sent once when declared, then again, in declared order, on the new
    // socket before what was queued offline; the stopped one only the first time.
    assert.deepEqual(first, ["join room-1", "join room-2", "join room-3"], "what the first socket received");
    assert.deepEqual(
      second,
      ["join room-1", "join room-2", 'note ["queued-1"]', 'note ["queued-2",{"x":1}]'],
      "what the new socket received: the rejoins in declared order, then the offline queue",
    );
    // The app can tell what it missed: recovered false, and a gap in the numbers.
    assert.equal(report.gapsAtFresh.length, 1, `one gap, at the not-recovered connect: ${JSON.stringify(report.gapsAtFresh)}`);
    assert.ok(report.gapAtFresh > 0, "events were emitted to room-1 while the client was away, and are missing");
    assert.equal(report.lostInRecovered, 0, `no loss inside a session: ${JSON.stringify(report.lossesInRecovered)}`);
    assert.equal(report.dupInRecovered + report.dupAcrossFresh, 0, "no duplicate");
    assert.deepEqual(report.badArgs, []);
    assert.equal(report.tailLost, 0, "the stream's last events arrived");
    ctx.assertNoErrors();
  });
});
