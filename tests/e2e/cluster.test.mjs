// A cluster (./support/cluster.mjs): redis-server (private port, nothing saved), two
// socket.io nodes A and B with @socket.io/redis-streams-adapter over node-redis and
// connection state recovery on, behind a round-robin loopback TCP proxy (./support/proxy.mjs),
// plus a publisher node P (same adapter, no clients) streaming numbered events to
// room "room-1" THROUGH the adapter (P's io.to("room-1").emit("n", i) goes into the
// Redis stream; A and B deliver it to their own clients, with the stream offset).
// The client declares socket.rejoin("join", "room-1").
//   a. Handover (rolling deploy): the node holding the client leaves the proxy's
//      rotation and closes the client's Engine.IO connection (socket.conn.close():
//      "forced close", the session is saved to Redis). The client reconnects through
//      the other node and recovers: recovered === true, same id, the room restored
//      (no rejoin needed), nothing lost or doubled.
//   b. Crash: the node holding the client is SIGKILLed (it never saved the session).
//      The client reconnects through the other node (the proxy, which still routes to
//      the dead node first, fails over when refused), with
//      recovered === false, a new id; the rejoin is re-sent (before what was queued
//      offline), the stream flows again, and the gap is visible to the app.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { assertRecoveredHandover, away, finish, joinsOf, withCluster } from "./support/cluster.mjs";
import { formatLog } from "./support/events.mjs";
import { startProxy } from "./support/proxy.mjs";
import { redisAvailable, REDIS_SERVER } from "./support/redis.mjs";
import { formatStreamReport } from "./support/sequence.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;
const skip = redisAvailable() ? false : `no redis-server at ${REDIS_SERVER}`;

/** Page side: opens the client at `url`; it declares its rejoin before the first connect. */
async function openClient(ctx, url) {
  // WebSocket only: the proxy below is not sticky, which long-polling needs (see
  // cluster-polling.test.mjs).
  const opts = clientOptions({ transports: ["websocket"], reconnectionDelay: 300, reconnectionDelayMax: 1000 });
  await ctx.page.evaluate(
    async ({ url, opts }) => {
      const socket = await e2e.open(url, opts, "main", { wait: 0, trace: "n" });
      socket.rejoin("join", "room-1"); // declared before the first connect: sent on it
      await e2e.waitFor(() => socket.connected, 5000, "the first connect", e2e.logs.main);
    },
    { url, opts },
  );
}

/** withCluster()'s setup: the round-robin proxy, the client of openClient(). */
const CLUSTER = { suite, startProxy, open: openClient };

test("cluster handover: the client's node drops it and leaves the rotation; recovered on the other node", { timeout: TEST_TIMEOUT, skip }, async (t) => {
  await withCluster(t, CLUSTER, async (ctx, cluster, { holder, other, firstId }) => {
    // Rolling deploy: out of the rotation, then the client's transport is closed.
    cluster.proxy.setRotation([other.port]);
    holder.send({ cmd: "drop-transports" });
    await holder.waitForLog((log) => log.some((e) => e.event === "transports-dropped"), 5000, "the transports to be dropped");
    const result = await finish(ctx, cluster);
    const { trace, report } = result;
    const holderDisconnect = holder.log.find((e) => e.event === "disconnect");
    const otherConn = other.log.find((e) => e.event === "connection");
    const awayMs = away(trace);
    console.log(
      [
        `cluster handover: ${holder.name} -> ${other.name}; server-side reason on ${holder.name}: "${holderDisconnect?.reason}"; ` +
          `${other.name} connection recovered ${otherConn?.recovered}`,
        `  the client was away ${awayMs} ms (~${Math.floor(awayMs / 20)} events emitted meanwhile, replayed from the Redis stream); ` +
          `publisher streamed ${result.lastSent}`,
        formatStreamReport("  server -> client", report).replace(/\n/g, "\n  "),
      ].join("\n"),
    );

    assertRecoveredHandover(result, { from: holder, to: other, firstId });
    assert.equal(cluster.proxy.routes.at(-1), other.port, "the reconnection went through the other node");
    // Recovered: the rooms came back with the session, the rejoin is not re-sent.
    assert.deepEqual(joinsOf(holder, firstId).map((e) => e.room), ["room-1"], "one join, on the first connection");
    assert.deepEqual(joinsOf(other, firstId), [], "no rejoin after a recovered reconnection");
    assert.ok(awayMs >= 60, `the client was away only ${awayMs} ms: too short for events to be missed, the test proves little`);
    ctx.assertNoErrors();
  });
});

test("cluster crash: the client's node is SIGKILLed; not recovered on the other node, rejoin re-sent, gap visible", { timeout: TEST_TIMEOUT, skip }, async (t) => {
  await withCluster(t, CLUSTER, async (ctx, cluster, { holder, other, firstId }) => {
    // The proxy still has the crashed node in its rotation, next in line: the
    // reconnection is refused there, and the proxy fails over to the other node.
    cluster.proxy.setRotation([holder.port, other.port]);
    await holder.kill();
    await ctx.page.evaluate(async () => {
      const socket = e2e.sockets.main;
      await e2e.waitFor(() => !socket.connected, 5000, "the disconnect", e2e.logs.main);
      socket.emit("note", "while-away");
    });
    const result = await finish(ctx, cluster);
    const { trace, log, report } = result;
    const otherConn = other.log.find((e) => e.event === "connection");
    const awayMs = away(trace);
    const onOther = otherConn ? joinsOf(other, otherConn.id).map((e) => (e.event === "join" ? `join ${e.room}` : `note ${e.args[0]}`)) : [];
    console.log(
      [
        `cluster crash: ${holder.name} SIGKILLed; the client came back through ${other.name} after ${awayMs} ms, ` +
          `recovered ${result.recovered}; proxy failovers ${cluster.proxy.stats.failovers}, routes ${JSON.stringify(cluster.proxy.routes.map((p) => (p === cluster.a.port ? "A" : "B")))}`,
        `  ${other.name} received from the new socket: ${onOther.join(" | ")}; publisher streamed ${result.lastSent}`,
        formatStreamReport("  server -> client", report).replace(/\n/g, "\n  "),
      ].join("\n"),
    );

    assert.deepEqual(
      trace.filter((e) => e.k === "connect").map((e) => e.recovered),
      [false, false],
      `connects: the second not recovered (the crashed node never saved the session):${formatLog(log)}`,
    );
    assert.equal(result.recovered, false, "socket.recovered after the crash");
    assert.notEqual(result.id, firstId, "a new session, a new id");
    assert.equal(otherConn?.recovered, false, `${other.name} could not restore the session`);
    assert.equal(otherConn?.id, result.id);
    assert.equal(cluster.proxy.routes.at(-1), other.port, "the reconnection went through the surviving node");
    // The rejoin came again, first thing, then what was queued offline.
    assert.deepEqual(onOther, ["join room-1", "note while-away"], `what ${other.name} received from the new socket`);
    // The app can tell it missed events: recovered false, and a gap in the numbers.
    assert.equal(report.gapsAtFresh.length, 1, `one gap, at the new session: ${JSON.stringify(report.gapsAtFresh)}`);
    assert.ok(report.gapAtFresh > 0, "events emitted while the client was away are missing");
    assert.equal(report.lostInRecovered, 0, `lost inside a session: ${JSON.stringify(report.lossesInRecovered)}`);
    assert.equal(report.dupInRecovered + report.dupAcrossFresh, 0, "no duplicate");
    assert.equal(report.tailLost, 0, "the stream flows to the new session (the rejoin worked)");
    assert.deepEqual(report.badArgs, []);
    ctx.assertNoErrors();
  });
});
