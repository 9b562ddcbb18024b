// The cluster of ./cluster.test.mjs, from ./support/cluster.mjs (redis-server on a
// private port, nodes A and B with @socket.io/redis-streams-adapter and connection state
// recovery, publisher P streaming numbered events to room "room-1" through the adapter)
// over HTTP long-polling (`transports: ["polling"]`), behind the sticky proxy of
// ./support/sticky-proxy.mjs: every request of an Engine.IO session goes to the node
// that made it, new sessions round-robin. The client joins room-1 on every connect that
// did not recover its session (the server restores rooms with a recovered session).
//   a. Handover (rolling deploy): the client's node leaves the rotation and closes the
//      client's Engine.IO session; the client reconnects through the other node and
//      recovers: same id, the room restored, no event lost or doubled (doubles are
//      checked on resocket only: see the test).
//   b. Crash: the client's node is SIGKILLed; the client reconnects through the proxy
//      (which fails over from the dead node) to the other one, not recovered, joins
//      again, sends what it queued offline, and the gap in the stream is visible.
//   c. The default transports through the same proxy: the WebSocket upgrade goes to the
//      node that holds the session, and the stream reaches it there.
//   d. Without stickiness (plain round-robin), polling fails: a node that did not make
//      the session answers 400 "Session ID unknown". That is why the proxy is sticky.
// The same page code runs on socket.io-client (RESOCKET_E2E_CLIENT=socket.io-client).
import { test } from "node:test";
import assert from "node:assert/strict";

import { e2eSuite, referenceMode } from "./support/browser.mjs";
import { assertRecoveredHandover, away, finish, joinsOf, withCluster } from "./support/cluster.mjs";
import { formatLog } from "./support/events.mjs";
import { startServer } from "./support/processes.mjs";
import { redisAvailable, REDIS_SERVER } from "./support/redis.mjs";
import { formatStreamReport } from "./support/sequence.mjs";
import { startStickyProxy } from "./support/sticky-proxy.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;
const skip = redisAvailable() ? false : `no redis-server at ${REDIS_SERVER}`;
const POLLING = { transports: ["polling"], reconnectionDelay: 300, reconnectionDelayMax: 1000 };

/** Page side: opens the client at `url` with `opts`; it joins room-1 as said above. */
async function openClient(ctx, url, opts) {
  await ctx.page.evaluate(
    async ({ url, opts }) => {
      const socket = await e2e.open(url, opts, "main", { wait: 0, trace: "n" });
      // Rooms come back with a recovered session only: join again on any other connect.
      socket.on("connect", () => {
        if (!socket.recovered) socket.emit("join", "room-1");
      });
      await e2e.waitFor(() => socket.connected, 5000, "the first connect", e2e.logs.main);
    },
    { url, opts },
  );
}

/** withCluster()'s setup: the sticky proxy, the client opened with `opts`. */
const clusterWith = (opts) => ({ suite, startProxy: startStickyProxy, open: (ctx, url) => openClient(ctx, url, opts) });

/**
 * The page's trace with each streamed event cut to its number: socket.io-client hands
 * the recovery offset to listeners as a last argument (./cluster.test.mjs checks that
 * resocket does not), and what is checked here is which numbers arrived.
 */
function numbersOnly(trace) {
  return trace.map((e) => (e.k === "event" && Array.isArray(e.args) && e.args.length > 0 ? { ...e, args: [e.args[0]] } : e));
}

const portName = (cluster, port) => (port === cluster.a.port ? "A" : port === cluster.b.port ? "B" : String(port));

/** The nodes that got the requests naming Engine.IO session `sid`, once each. */
const nodesOfSession = (proxy, sid) => [...new Set(proxy.requests.filter((r) => r.sid === sid).map((r) => r.target))];

test("polling cluster handover: the client's node closes its session and leaves the rotation; recovered on the other node", { timeout: TEST_TIMEOUT, skip }, async (t) => {
  await withCluster(t, clusterWith(POLLING), async (ctx, cluster, { holder, other, firstId, firstConnId }) => {
    cluster.proxy.setRotation([other.port]);
    holder.send({ cmd: "drop-transports" });
    await holder.waitForLog((log) => log.some((e) => e.event === "transports-dropped"), 5000, "the transports to be dropped");
    const result = await finish(ctx, cluster, { numbers: numbersOnly });
    const { trace, report } = result;
    const holderDisconnect = holder.log.find((e) => e.event === "disconnect");
    const otherConn = other.log.find((e) => e.event === "connection");
    const awayMs = away(trace);
    const { proxy } = cluster;
    console.log(
      [
        `polling cluster handover: ${holder.name} -> ${other.name}; server-side reason on ${holder.name}: "${holderDisconnect?.reason}"; ` +
          `${other.name} connection recovered ${otherConn?.recovered}`,
        `  the client was away ${awayMs} ms (~${Math.floor(awayMs / 20)} events emitted meanwhile); publisher streamed ${result.lastSent}; ` +
          `proxy: ${proxy.stats.requests} requests, sessions made on ${JSON.stringify(proxy.routes.map((p) => portName(cluster, p)))}`,
        formatStreamReport("  server -> client", report).replace(/\n/g, "\n  "),
      ].join("\n"),
    );

    // socket.io-client hands each decoded packet on a tick later: events that came in the
    // same poll response as the CLOSE packet reach the socket after it closed, are
    // buffered, and delivered after the reconnection, while the server, which the
    // client told an offset taken before them, replays them too. resocket cuts such an
    // overlap: only there is "exactly once" checked.
    assertRecoveredHandover(result, { from: holder, to: other, firstId, exactlyOnce: !referenceMode });
    // Sticky: each Engine.IO session's requests all went to the node that made it.
    assert.deepEqual(nodesOfSession(proxy, firstConnId), [holder.port], "the first session's requests");
    assert.deepEqual(nodesOfSession(proxy, otherConn.connId), [other.port], "the second session's requests");
    assert.deepEqual(proxy.routes, [holder.port, other.port], "the sessions were made on the holder, then on the other node");
    assert.equal(result.transport, "polling");
    assert.deepEqual(proxy.upgrades, [], "no WebSocket");
    // Recovered: the room came back with the session, no join again.
    assert.deepEqual(joinsOf(holder, firstId).map((e) => e.room), ["room-1"], "one join, on the first connection");
    assert.deepEqual(joinsOf(other, firstId), [], "no join after a recovered reconnection");
    assert.ok(awayMs >= 60, `the client was away only ${awayMs} ms: too short for events to be missed, the test proves little`);
    ctx.assertNoErrors();
  });
});

test("polling cluster crash: the client's node is SIGKILLed; not recovered on the other node, joined again, gap visible", { timeout: TEST_TIMEOUT, skip }, async (t) => {
  await withCluster(t, clusterWith(POLLING), async (ctx, cluster, { holder, other, firstId, firstConnId }) => {
    // The crashed node stays first in the rotation: the new session's handshake is
    // refused there, and the proxy fails over to the other node.
    cluster.proxy.setRotation([holder.port, other.port]);
    await holder.kill();
    await ctx.page.evaluate(async () => {
      const socket = e2e.sockets.main;
      await e2e.waitFor(() => !socket.connected, 5000, "the disconnect", e2e.logs.main);
      socket.emit("note", "while-away");
    });
    const result = await finish(ctx, cluster, { numbers: numbersOnly });
    const { trace, log, report } = result;
    const { proxy } = cluster;
    const otherConn = other.log.find((e) => e.event === "connection");
    const awayMs = away(trace);
    const onOther = otherConn ? joinsOf(other, otherConn.id).map((e) => (e.event === "join" ? `join ${e.room}` : `note ${e.args[0]}`)) : [];
    console.log(
      [
        `polling cluster crash: ${holder.name} SIGKILLed; the client came back through ${other.name} after ${awayMs} ms, ` +
          `recovered ${result.recovered}; proxy failovers ${proxy.stats.failovers}, 502s ${proxy.stats.badGateway}, ` +
          `sessions made on ${JSON.stringify(proxy.routes.map((p) => portName(cluster, p)))}`,
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
    assert.deepEqual(proxy.routes, [holder.port, other.port], "the new session was made on the surviving node");
    assert.ok(proxy.stats.failovers >= 1, "the proxy tried the dead node first");
    assert.deepEqual(nodesOfSession(proxy, firstConnId), [holder.port], "the first session's requests");
    assert.deepEqual(nodesOfSession(proxy, otherConn.connId), [other.port], "the second session's requests");
    assert.equal(result.transport, "polling");
    // The join came again, and so did what was queued offline. (Their order is not
    // checked: socket.io-client sends its offline queue before running the `connect`
    // listeners, where the app joins.)
    assert.deepEqual([...onOther].sort(), ["join room-1", "note while-away"], `what ${other.name} received from the new socket`);
    // The app can tell it missed events: recovered false, and a gap in the numbers.
    assert.equal(report.gapsAtFresh.length, 1, `one gap, at the new session: ${JSON.stringify(report.gapsAtFresh)}`);
    assert.ok(report.gapAtFresh > 0, "events emitted while the client was away are missing");
    assert.deepEqual(report.badArgs, [], "every event carries its number");
    assert.equal(report.lostInRecovered, 0, `lost inside a session: ${JSON.stringify(report.lossesInRecovered)}`);
    assert.equal(report.dupInRecovered + report.dupAcrossFresh, 0, "no duplicate");
    assert.equal(report.tailLost, 0, "the stream flows to the new session (the join worked)");
    // A poll of the dead node's session got the proxy's 502, which Chromium logs.
    ctx.assertNoErrors({ allowConsole: [/the server responded with a status of 502/] });
  });
});

test("default transports through the sticky proxy: the upgrade goes to the session's node, the stream reaches it", { timeout: TEST_TIMEOUT, skip }, async (t) => {
  await withCluster(t, clusterWith({ reconnectionDelay: 300, reconnectionDelayMax: 1000 }), async (ctx, cluster, { holder, firstId, firstConnId }) => {
    const result = await ctx.page.evaluate(async () => {
      const socket = e2e.sockets.main;
      await e2e.waitFor(() => socket.io.engine.transport.name === "websocket", 5000, "the upgrade", e2e.logs.main);
      const at = e2e.traced("event");
      await e2e.waitFor(() => e2e.traced("event") >= at + 20, 5000, "20 events over the WebSocket", e2e.traces.main.slice(-5));
      const echoed = await e2e.within(socket.emitWithAck("echo", "through the proxy"), 5000, "an ack over the WebSocket");
      const out = { id: socket.id, transport: socket.io.engine.transport.name, echoed, connects: e2e.traced("connect"), log: e2e.logs.main };
      socket.disconnect();
      return out;
    });
    cluster.p.send({ cmd: "stream-stop" });
    const { proxy } = cluster;
    assert.equal(result.id, firstId);
    assert.equal(result.transport, "websocket");
    assert.equal(result.echoed, "through the proxy");
    assert.equal(result.connects, 1, `one connection, never dropped:${formatLog(result.log)}`);
    assert.deepEqual(proxy.routes, [holder.port], "one session, made on the holder");
    assert.deepEqual(proxy.upgrades, [{ sid: firstConnId, target: holder.port }], "the upgrade named the session and went to its node");
    assert.deepEqual(nodesOfSession(proxy, firstConnId), [holder.port], "every polling request of the session too");
    ctx.assertNoErrors();
  });
});

test("without sticky routing, polling fails: a node that did not make the session answers 400", { timeout: TEST_TIMEOUT }, async (t) => {
  // Plain nodes: no adapter is needed to show the failure.
  const nodes = await Promise.all([startServer({ name: "node A", namespaces: ["/"] }), startServer({ name: "node B", namespaces: ["/"] })]);
  const proxy = await startStickyProxy({ targets: nodes.map((n) => n.port), sticky: false });
  try {
    await suite.withPage(t, async (ctx) => {
      const url = `http://127.0.0.1:${proxy.port}`;
      const result = await ctx.page.evaluate(
        async ({ url, opts }) => {
          const socket = await e2e.open(url, opts, "main", { wait: 0 });
          const failed = () => e2e.logs.main.some((e) => e.src === "socket" && (e.name === "connect_error" || e.name === "disconnect"));
          await e2e.waitFor(failed, 5000, "the connection to fail", e2e.logs.main);
          const out = { connected: socket.connected, log: e2e.logs.main };
          socket.disconnect();
          return out;
        },
        { url, opts: { transports: ["polling"], reconnection: false } },
      );
      const name = (port) => (port === nodes[0].port ? "A" : "B");
      const [made] = proxy.routes;
      const refused = proxy.errors.filter((e) => e.status === 400);
      console.log(
        `round-robin polling: the session was made on ${name(made)}; answers, in the order given: ` +
          proxy.requests.map((r) => `${r.method} ${name(r.target)} ${r.status}`).join(", "),
      );
      assert.equal(result.connected, false, `the connection failed:${formatLog(result.log)}`);
      assert.ok(refused.length >= 1, `a request was refused: ${JSON.stringify(proxy.requests)}`);
      for (const error of refused) {
        assert.match(error.body, /Session ID unknown/);
        assert.equal(proxy.sessions.get(error.sid), made, "a request of the session made on one node…");
        assert.notEqual(error.target, made, "…went to the other one");
      }
      ctx.assertNoErrors({ allowConsole: [/the server responded with a status of 400/] });
    });
  } finally {
    await proxy.close();
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
