// Exactly-once emits: the client's `exactlyOnce` with resocket/server's helper
// (src/server) on real socket.io servers.
//   a. Chaos (./support/chaos-run.mjs: every connection cut at random for seconds while
//      the client emits numbered notes), three seeds: no note lost, none handled twice.
//   b. A cluster (two nodes, Redis Streams adapter, the helper's Redis store) whose node
//      holding the client is SIGKILLed while a note is in its handler (the handler
//      answers after a pause): the client comes back through the other node (a new
//      session) and sends that note again; across both nodes every note was handled
//      exactly once. (Without the helper this note would be handled twice.)
//   c. No helper on the server: connect_error (ExactlyOnceError), no reconnection, no
//      handler saw anything, the emits still queued.
//   d. The helper is transparent to a client without the option.
//   e. Recovered connections cut after the session's replay but before the helper's
//      hello (twice in a row): the replayed events the app had not been handed yet come
//      with the next recovered connection, none lost, none twice.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { runChaos } from "./support/chaos-run.mjs";
import { startCluster, stopCluster } from "./support/cluster.mjs";
import { formatLog } from "./support/events.mjs";
import { analyzeStream, formatStreamReport } from "./support/sequence.mjs";
import { startSocketIoServer } from "./support/processes.mjs";
import { startProxy } from "./support/proxy.mjs";
import { redisAvailable, REDIS_SERVER } from "./support/redis.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 90_000;
const skipCluster = redisAvailable() ? false : `no redis-server at ${REDIS_SERVER}`;
// The cuts of each run come from a seed of their own (E2E_CHAOS_SEED shifts them all).
const BASE_SEED = Number(process.env.E2E_CHAOS_SEED) || Math.floor(Math.random() * 2 ** 31);

for (const run of [1, 2, 3]) {
  test(`exactly once under chaos, run ${run}: no note lost, none handled twice`, { timeout: TEST_TIMEOUT }, async (t) => {
    await runChaos(suite, t, {
      label: `exactly-once chaos ${run}`,
      chaosMs: 8000,
      opts: clientOptions({ transports: ["websocket"] }),
      minCutMoments: 10,
      minRecovered: 3,
      exactlyOnce: true,
      seed: (BASE_SEED + run) % 2 ** 31,
    });
  });
}

test("exactly once across a cluster whose node is SIGKILLed mid-flight (Redis store)", { timeout: TEST_TIMEOUT, skip: skipCluster }, async (t) => {
  // A note whose handler ran on the killed node, unanswered, is answered (empty) by the
  // other node after pendingTimeout: short here, so that the run ends soon.
  const cluster = await startCluster(startProxy, { exactlyOnce: true, pendingTimeout: 1500, holdMs: 150 });
  try {
    await suite.withPage(t, async (ctx) => {
      const TOTAL = 60;
      const url = `http://127.0.0.1:${cluster.proxy.port}`;
      const opts = clientOptions({ transports: ["websocket"], exactlyOnce: true, reconnectionDelay: 200, reconnectionDelayMax: 500, ackTimeout: 1000 });
      await ctx.page.evaluate(
        async ({ url, opts, total }) => {
          const socket = await e2e.open(url, opts, "main", { wait: 5000 });
          e2e.eo = { sent: 0, settled: 0, errors: [] };
          e2e.eo.timer = setInterval(() => {
            if (e2e.eo.sent >= total) return clearInterval(e2e.eo.timer);
            const n = ++e2e.eo.sent;
            // "hold": the node reports the note, then answers 150 ms later.
            socket.emit("hold", "c", n, (err) => {
              if (err) e2e.eo.errors.push([n, err.type ?? String(err)]);
              e2e.eo.settled += 1;
            });
          }, 10);
        },
        { url, opts, total: TOTAL },
      );
      const holderOf = () => [cluster.a, cluster.b].find((n) => n.log.some((e) => e.event === "hold"));
      // Killed while the 20th note is in its handler: handled, not answered.
      await Promise.any([cluster.a, cluster.b].map((n) => n.waitForLog((log) => log.filter((e) => e.event === "hold").length >= 20, 20_000, "20 notes")));
      const holder = holderOf();
      const other = holder === cluster.a ? cluster.b : cluster.a;
      cluster.proxy.setRotation([holder.port, other.port]);
      await holder.kill();
      const result = await ctx.page.evaluate(async (total) => {
        const socket = e2e.sockets.main;
        await e2e.waitFor(() => e2e.eo.settled >= total, 30_000, "every note settled", e2e.logs.main);
        const out = { ...e2e.eo, log: [...e2e.logs.main], recovered: socket.recovered };
        socket.disconnect();
        return out;
      }, TOTAL);
      const notes = [holder, other].flatMap((node) => node.log.filter((e) => e.event === "hold" && e.args[0] === "c").map((e) => e.args[1]));
      const counts = new Map();
      for (const n of notes) counts.set(n, (counts.get(n) ?? 0) + 1);
      const lost = [];
      for (let n = 1; n <= TOTAL; n += 1) if (!counts.has(n)) lost.push(n);
      const doubled = [...counts].filter(([, c]) => c > 1).map(([n]) => n);
      const onHolder = holder.log.filter((e) => e.event === "hold").length;
      console.log(
        `exactly-once cluster: ${holder.name} SIGKILLed after ${onHolder} notes; ${notes.length} handled in all, ` +
          `lost ${lost.length}, handled twice ${doubled.length}; ack errors ${result.errors.length}; recovered ${result.recovered}`,
      );
      assert.ok(onHolder >= 20 && onHolder < TOTAL, `the kill came mid-flight (${onHolder} notes on ${holder.name})`);
      assert.ok(other.log.some((e) => e.event === "connection"), `the client came back through ${other.name}:${formatLog(result.log)}`);
      assert.deepEqual(lost, [], "notes never handled");
      assert.deepEqual(doubled, [], "notes handled twice");
      assert.deepEqual(result.errors, [], "notes whose acknowledgement failed");
      ctx.assertNoErrors();
    });
  } finally {
    await stopCluster(cluster);
  }
});

test("exactlyOnce without the server's helper: connect_error (ExactlyOnceError), nothing handled, emits kept", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const opts = clientOptions({ exactlyOnce: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts, "main", { wait: 0 });
        socket.emit("note", "before", 1);
        await e2e.waitForEvent("socket", "connect_error", 10_000, "the connect_error");
        await e2e.sleep(500); // no reconnection may follow
        const err = e2e.logs.main.find((e) => e.name === "connect_error")?.args[0];
        // An exactly-once emit is an at-least-once one: it waits among those (socket.io-client's
        // `_queue`), not in the offline queue.
        return { log: [...e2e.logs.main], err, active: socket.active, connected: socket.connected, waiting: socket._queue.length };
      },
      { url, opts },
    );
    const events = result.log.filter((e) => e.src === "socket").map((e) => e.name);
    assert.deepEqual(events, ["connect_error"], `the app heard only the connect_error:${formatLog(result.log)}`);
    assert.match(JSON.stringify(result.err), /ExactlyOnceError/);
    assert.deepEqual({ active: result.active, connected: result.connected }, { active: false, connected: false });
    assert.equal(result.waiting, 1, "the emit waits to be sent again");
    assert.deepEqual(server.log.filter((e) => e.event === "note"), [], "no handler saw the emit");
    ctx.assertNoErrors();
  });
});

test("the helper is transparent to a client without exactlyOnce", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer({ exactlyOnce: true }), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts, "main");
        const echo = await e2e.within(socket.emitWithAck("echo", "plain", { n: 1 }), 5000, "the echo");
        socket.emit("note", "plain", 2);
        await e2e.sleep(200);
        return { echo };
      },
      { url, opts: clientOptions({}) },
    );
    assert.deepEqual(result.echo, "plain");
    assert.deepEqual(server.log.filter((e) => e.event === "note").map((e) => e.args), [["plain", 2]]);
    ctx.assertNoErrors();
  });
});

test("a replay held for the helper's hello survives the connection's cut: the next recovered connection hands it on", { timeout: TEST_TIMEOUT }, async (t) => {
  const CUTS = 2;
  await suite.withServer(t, startSocketIoServer({ recovery: true, exactlyOnce: true, cutBeforeHello: CUTS }), async (ctx, { server, url }) => {
    const opts = clientOptions({ transports: ["websocket"], exactlyOnce: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    await ctx.page.evaluate(({ url, opts }) => e2e.open(url, opts, "main", { trace: "n" }), { url, opts });
    server.send({ cmd: "stream", every: 5, rate: 200 });
    await ctx.page.evaluate(() => e2e.waitFor(() => e2e.traced("event") >= 20, 5000, "the first events"));
    // The server closes the connection: every reconnection recovers the session and
    // gets what it missed meanwhile, then the first CUTS of them are closed in turn.
    server.send({ cmd: "drop-transports" });
    await server.waitForLog((log) => log.filter((e) => e.event === "connection").length >= 2, 10_000, "the reconnection the helper greets");
    await ctx.page.evaluate(() => e2e.sleep(300));
    server.send({ cmd: "stream-stop" });
    await server.waitForLog((log) => log.some((e) => e.event === "stream-stopped"), 5000, "the stream to stop");
    const lastSent = server.log.find((e) => e.event === "stream-stopped").last;
    const trace = await ctx.page.evaluate(async (lastSent) => {
      const events = () => e2e.traces.main.filter((e) => e.k === "event");
      await e2e.waitFor(() => events().at(-1)?.args[0] >= lastSent, 5000, "the last streamed event").catch(() => {});
      return e2e.traces.main;
    }, lastSent);
    const report = analyzeStream(trace, { lastSent });
    const cuts = server.log.filter((e) => e.event === "cut-before-hello");
    console.log(`cut before the hello: ${cuts.length} recovered connections; ${formatStreamReport("server -> client", report)}`);
    assert.equal(cuts.length, CUTS, "recovered connections cut before the hello");
    assert.ok(cuts.every((e) => e.recovered));
    // With recovery the server stores its hello among the session's events: the hello
    // of a cut connection, replayed, may greet the next one before its own does.
    const connects = trace.filter((e) => e.k === "connect").map((e) => e.recovered);
    assert.ok(connects.length >= 2 && connects[0] === false && connects.slice(1).every(Boolean), `the connects the app heard, recovered or not: ${connects}`);
    assert.equal(report.first, 1);
    assert.equal(report.lostInRecovered, 0, `events lost inside the recovered session: ${JSON.stringify(report.lossesInRecovered)}`);
    assert.equal(report.dupInRecovered, 0, `events handed on twice: ${JSON.stringify(report.dupsInRecovered)}`);
    assert.equal(report.tailLost, 0);
    ctx.assertNoErrors();
  });
});
