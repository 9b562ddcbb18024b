// Failover across URLs: `io([urlA, urlB], opts)` against real socket.io servers. Each
// failed attempt sends the next one to the next URL of the list, within the normal
// backoff; a working connection stays where it is; `socket.io.uri` is the URL the
// connection is on or tries next; "failover"(uri, previous) when it opens somewhere else
// than the last time.
//   1. first URL a port nobody listens on, second a live server: connected on the first
//      reconnection attempt, on the second URL, no "failover" (a first open); then a
//      server comes up on the first URL and the second is SIGKILLed: the first attempt
//      goes back to the lost URL, the next to the other, "failover"(first, second), not
//      recovered (two unrelated servers), acks work.
//   2. a cluster behind two URLs (redis-server, two nodes with the Redis Streams adapter
//      and recovery, and a publisher node streaming through it): the node in use stops
//      accepting connections and hands its client
//      over (the session saved to Redis): the client fails over to the other node and
//      recovers there, same id, the stream neither lost nor doubled.
//   3. both URLs down, reconnectionAttempts 3: the attempts alternate URLs, then
//      reconnect_failed once, as with one URL.
//   4. new Manager(list) starts on the first URL; an empty list, or URLs naming
//      different namespaces: TypeError.
// Times are reported, never asserted: the structure (which attempt, which URL) is the check.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite, referenceMode } from "./support/browser.mjs";
import { assertRecoveredHandover, finish } from "./support/cluster.mjs";
import { formatLog, pick } from "./support/events.mjs";
import { startServer, startSocketIoServer } from "./support/processes.mjs";
import { redisAvailable, REDIS_SERVER, startRedis } from "./support/redis.mjs";
import { formatStreamReport } from "./support/sequence.mjs";
import { freePort } from "../../scripts/children.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;
// socket.io-client takes one URL: nothing to compare in the reference mode.
const SKIP = referenceMode ? "a failover list of URLs is resocket's own" : false;

const urlOf = (port) => `http://127.0.0.1:${port}`;
/** What `socket.io.uri` shows for the URL of `port` (a URL's href). */
const hrefOf = (port) => new URL(urlOf(port)).href;

/**
 * The Manager's connection events (failover included), as compact strings; "open" and
 * "close" left out (the engine's, not the reconnection's).
 */
function managerLifecycle(log) {
  return log
    .filter((e) => e.src === "manager" && (e.name === "error" || e.name === "failover" || e.name.startsWith("reconnect")))
    .map((e) => (["reconnect_attempt", "reconnect"].includes(e.name) ? `${e.name}(${e.args[0]})` : e.name));
}

test("failover: a dead first URL, then back to it when the second dies", { timeout: TEST_TIMEOUT, skip: SKIP }, async (t) => {
  const portA = await freePort(); // nobody listens there, yet
  const serverB = await startSocketIoServer({ recovery: true, name: "server B" });
  let serverA = null;
  try {
    await suite.withPage(t, async (ctx) => {
      const urls = [urlOf(portA), urlOf(serverB.port)];
      const opts = clientOptions({ reconnectionDelay: 200, reconnectionDelayMax: 200, randomizationFactor: 0, timeout: 2000 });
      const first = await ctx.page.evaluate(
        async ({ urls, opts }) => {
          const t0 = performance.now();
          const socket = await e2e.open(urls, opts, "main", { wait: 0 });
          const initialUri = socket.io.uri;
          e2e.uris = []; // socket.io.uri as each reconnect_attempt listener sees it
          socket.io.on("reconnect_attempt", (n) => e2e.uris.push([n, socket.io.uri]));
          await e2e.waitForEvent("socket", "connect", 5000, "connect via the second URL");
          const connectedAfter = e2e.logs.main.find((e) => e.src === "socket" && e.name === "connect").t - t0;
          // A message the server broadcasts carries a recovery offset: the client then has
          // a session to ask the next server for.
          const heard = e2e.next(socket, "hello", 3000);
          await e2e.within(socket.emitWithAck("broadcast-later", 0, "hello", "B"), 3000, "broadcast-later's ack");
          const hello = await heard;
          return { initialUri, uri: socket.io.uri, uris: [...e2e.uris], log: [...e2e.logs.main], connectedAfter, hello, id: socket.id };
        },
        { urls, opts },
      );
      const A = hrefOf(portA);
      const B = hrefOf(serverB.port);
      t.diagnostic(`io([dead A, live B]) -> connected via B in ${Math.round(first.connectedAfter)} ms (reconnectionDelay 200 ms)`);
      assert.equal(first.initialUri, A, "the Manager starts with the first URL");
      assert.deepEqual(
        managerLifecycle(first.log),
        ["error", "reconnect_attempt(1)", "reconnect(1)"],
        `connected on the first reconnection attempt:${formatLog(first.log)}`,
      );
      assert.deepEqual(first.uris, [[1, B]], "attempt 1 goes to the second URL");
      assert.equal(first.uri, B, "socket.io.uri: the URL the connection is on");
      assert.deepEqual(pick(first.log, "manager", "failover"), [], "no failover event on a first open");
      assert.deepEqual(first.hello, ["B"]);
      assert.equal(serverB.count((e) => e.event === "connection"), 1, "one connection on B");

      // A comes up, B crashes: the lost connection's first attempt goes to B again
      // (refused), the next one to A.
      serverA = await startSocketIoServer({ port: portA, recovery: true, name: "server A" });
      await serverB.kill();
      const back = await ctx.page.evaluate(async () => {
        const socket = e2e.sockets.main;
        await e2e.waitForEvent("socket", "connect", 10_000, "connect via the first URL", { n: 2 });
        const log = e2e.logs.main;
        const disconnect = log.find((e) => e.src === "socket" && e.name === "disconnect");
        const connect = log.filter((e) => e.src === "socket" && e.name === "connect")[1];
        const echo = await e2e.within(socket.emitWithAck("echo", "on A"), 5000, "an ack on A");
        await e2e.sleep(200); // a stray late event would show up
        const out = { uri: socket.io.uri, uris: [...e2e.uris], log: [...log], echo, recovered: socket.recovered, id: socket.id, movedIn: connect.t - disconnect.t };
        socket.disconnect();
        return out;
      });
      t.diagnostic(`B killed -> reconnected via A ${Math.round(back.movedIn)} ms after the disconnect`);
      assert.deepEqual(
        managerLifecycle(back.log),
        ["error", "reconnect_attempt(1)", "reconnect(1)", "reconnect_attempt(1)", "error", "reconnect_error", "reconnect_attempt(2)", "failover", "reconnect(2)"],
        `the lost connection retries B once, then moves to A:${formatLog(back.log)}`,
      );
      assert.deepEqual(back.uris, [[1, B], [1, B], [2, A]], "socket.io.uri at each attempt");
      assert.deepEqual(pick(back.log, "manager", "failover").map((e) => e.args), [[A, B]], "failover(new, previous)");
      assert.equal(back.uri, A);
      assert.equal(back.echo, "on A", "ack round trip on A");
      assert.equal(back.recovered, false, "two unrelated servers: no session to recover");
      assert.notEqual(back.id, first.id, "a new session, a new id");
      const onA = serverA.log.filter((e) => e.event === "connection");
      assert.deepEqual(onA.map((e) => [e.recovered, e.id]), [[false, back.id]], "A: one connection, not recovered");
      ctx.assertNoErrors();
    });
  } finally {
    await serverB.stop();
    await serverA?.stop();
  }
});

test(
  "failover to the other node of a cluster: recovered there, same id, nothing lost or doubled",
  { timeout: TEST_TIMEOUT, skip: SKIP || (!redisAvailable() && `no redis-server at ${REDIS_SERVER}`) },
  async (t) => {
    const redis = await startRedis();
    const nodes = [];
    try {
      const node = (name) => startServer({ recovery: true, redis: redis.url, name, namespaces: ["/"] });
      // P, a node with no client, streams: an event emitted by the node that is restoring
      // the session can slip between its read of the Redis stream and the socket's
      // joining its rooms (the adapter's race, not the client's), as in cluster.test.mjs.
      nodes.push(...(await Promise.all([node("node A"), node("node B"), node("publisher P")])));
      const [a, b, p] = nodes;
      await suite.withPage(t, async (ctx) => {
        const urls = [urlOf(a.port), urlOf(b.port)];
        const opts = clientOptions({ reconnectionDelay: 300, reconnectionDelayMax: 1000, randomizationFactor: 0 });
        await ctx.page.evaluate(
          async ({ urls, opts }) => {
            const socket = await e2e.open(urls, opts, "main", { trace: "n" });
            e2e.uris = []; // socket.io.uri as each reconnect_attempt listener sees it
          socket.io.on("reconnect_attempt", (n) => e2e.uris.push([n, socket.io.uri]));
            return socket.id;
          },
          { urls, opts },
        );
        await a.waitForLog((log) => log.some((e) => e.event === "connection"), 5000, "the client on A");
        const firstId = a.log.find((e) => e.event === "connection").id;
        // P streams through the adapter: A delivers to its client, with the offsets.
        p.send({ cmd: "stream", every: 20 });
        await ctx.page.evaluate(() =>
          e2e.waitFor(() => e2e.traced("event") >= 30, 5000, "30 events through the adapter", e2e.traces.main.slice(-5)),
        );
        // A leaves: unreachable first, then it closes its client's connection (the
        // session goes to Redis). The client's first attempt goes to A, refused.
        a.send({ cmd: "stop-listening" });
        await a.waitForLog((log) => log.some((e) => e.event === "not-listening"), 5000, "A to stop listening");
        a.send({ cmd: "drop-transports" });
        await a.waitForLog((log) => log.some((e) => e.event === "transports-dropped"), 5000, "the transports to be dropped");
        const result = await finish(ctx, { p });
        const { trace, log, report } = result;
        const { uri, uris } = await ctx.page.evaluate(() => ({ uri: e2e.sockets.main.io.uri, uris: e2e.uris }));
        const disconnect = trace.find((e) => e.k === "disconnect");
        const reconnect = trace.filter((e) => e.k === "connect")[1];
        t.diagnostic(`cluster failover A -> B: reconnected ${Math.round(reconnect.t - disconnect.t)} ms after the disconnect; P streamed ${result.lastSent}`);
        for (const line of formatStreamReport("server -> client", report).split("\n")) t.diagnostic(`  ${line}`);

        const A = hrefOf(a.port);
        const B = hrefOf(b.port);
        assertRecoveredHandover(result, { from: a, to: b, firstId });
        assert.deepEqual(uris, [[1, A], [2, B]], `the first attempt on A, the next on B:${formatLog(log)}`);
        assert.deepEqual(pick(log, "manager", "reconnect").map((e) => e.args[0]), [2], "reconnected on attempt 2");
        assert.deepEqual(pick(log, "manager", "failover").map((e) => e.args), [[B, A]], `failover(B, A):${formatLog(log)}`);
        assert.equal(uri, B);
        ctx.assertNoErrors();
      });
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
    }
  },
);

test("failover: both URLs down, reconnectionAttempts 3: the attempts alternate URLs, then reconnect_failed", { timeout: TEST_TIMEOUT, skip: SKIP }, async (t) => {
  const ports = [await freePort(), await freePort()]; // nobody listens there
  await suite.withPage(t, async (ctx) => {
    const urls = ports.map(urlOf);
    const opts = clientOptions({ reconnectionAttempts: 3, reconnectionDelay: 100, reconnectionDelayMax: 100, randomizationFactor: 0 });
    const result = await ctx.page.evaluate(
      async ({ urls, opts }) => {
        const socket = await e2e.open(urls, opts, "main", { wait: 0 });
        e2e.uris = [];
        socket.io.on("reconnect_attempt", (n) => e2e.uris.push([n, socket.io.uri]));
        await e2e.waitForEvent("manager", "reconnect_failed", 10_000, "reconnect_failed");
        await e2e.sleep(1000); // nothing may follow
        return { log: [...e2e.logs.main], uris: [...e2e.uris], uri: socket.io.uri, connected: socket.connected, active: socket.active };
      },
      { urls, opts },
    );
    const [A, B] = ports.map(hrefOf);
    const { log } = result;
    // The initial attempt was on A: attempts 1, 2, 3 go to B, A, B.
    assert.deepEqual(result.uris, [[1, B], [2, A], [3, B]], `socket.io.uri at each attempt:${formatLog(log)}`);
    assert.equal(pick(log, "manager", "reconnect_failed").length, 1, `reconnect_failed once:${formatLog(log)}`);
    assert.equal(pick(log, "manager", "reconnect_error").length, 3, `reconnect_error once per attempt:${formatLog(log)}`);
    assert.equal(pick(log, "manager", "error").length, 4, `error once per attempt, the initial one included:${formatLog(log)}`);
    const failed = pick(log, "manager", "reconnect_failed")[0];
    const later = log.filter((e) => e.seq > failed.seq && e.src === "manager" && ["reconnect_attempt", "open", "failover"].includes(e.name));
    assert.deepEqual(later, [], "no attempt after reconnect_failed");
    assert.deepEqual(pick(log, "manager", "failover"), [], "never opened: no failover");
    assert.equal(result.uri, A, "the next try (a connect() by the app) would go to the next URL");
    assert.deepEqual({ connected: result.connected, active: result.active }, { connected: false, active: false });
    ctx.assertNoErrors();
  });
});

test("failover: new Manager(list) starts on the first URL; an empty list, or URLs naming different namespaces, throw a TypeError", { timeout: TEST_TIMEOUT, skip: SKIP }, async (t) => {
  await suite.withPage(t, async (ctx) => {
    const manager = await ctx.page.evaluate(() => {
      const m = new e2e.lib.Manager(["http://127.0.0.1:1/", new URL("http://127.0.0.1:2/")], { autoConnect: false });
      const socket = m.socket("/");
      const out = { uri: m.uri, connected: socket.connected };
      socket.disconnect();
      return out;
    });
    assert.deepEqual(manager, { uri: "http://127.0.0.1:1/", connected: false });
    const result = await ctx.page.evaluate(() => {
      const attempt = (fn) => {
        try {
          const socket = fn();
          socket.disconnect();
          return { returned: true };
        } catch (err) {
          return { name: err?.constructor?.name, isTypeError: err instanceof TypeError, message: String(err?.message) };
        }
      };
      const { io, Manager } = e2e.lib;
      return {
        empty: attempt(() => io([], { autoConnect: false })),
        namespaces: attempt(() => io(["http://127.0.0.1:1/a", "http://127.0.0.1:2/b"], { autoConnect: false })),
        managerEmpty: attempt(() => new Manager([], { autoConnect: false }).socket("/")),
      };
    });
    for (const [what, outcome] of Object.entries(result)) {
      assert.equal(outcome.isTypeError, true, `${what}: ${JSON.stringify(outcome)}`);
    }
    ctx.assertNoErrors();
  });
});
