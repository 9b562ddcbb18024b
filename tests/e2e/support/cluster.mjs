// The cluster of ../cluster.test.mjs (over WebSocket) and ../cluster-polling.test.mjs
// (over long-polling): redis-server (./redis.mjs: private port, nothing saved), socket.io
// nodes A and B with @socket.io/redis-streams-adapter and connection state recovery,
// behind a proxy that each test file brings, and a publisher node P (no clients) that
// streams numbered events to room "room-1" through the adapter. Only the page side of
// opening the client differs between the files (how it joins room-1): the rest, from
// the join to the analysis of what arrived, is here, with the checks of a recovered
// handover that ../failover.test.mjs makes too (its own two nodes, no proxy).
import assert from "node:assert/strict";

import { formatLog } from "./events.mjs";
import { startServer } from "./processes.mjs";
import { startRedis } from "./redis.mjs";
import { analyzeStream } from "./sequence.mjs";

/**
 * redis-server, nodes A, B and P (the publisher), and the proxy to A and B that
 * `startProxy({ targets })` starts; `nodeOptions`: more startServer() options of the
 * nodes. Resolves to { redis, nodes, a, b, p, proxy }.
 */
export async function startCluster(startProxy, nodeOptions = {}) {
  const cluster = { redis: null, nodes: [], proxy: null };
  try {
    cluster.redis = await startRedis();
    const node = (name) => startServer({ ...nodeOptions, recovery: true, redis: cluster.redis.url, name, namespaces: ["/"], logWrites: true });
    const [a, b, p] = await Promise.all([node("node A"), node("node B"), node("publisher P")]);
    cluster.nodes = [a, b, p];
    Object.assign(cluster, { a, b, p });
    cluster.proxy = await startProxy({ targets: [a.port, b.port] });
    return cluster;
  } catch (err) {
    await stopCluster(cluster);
    throw err;
  }
}

export async function stopCluster(cluster) {
  await cluster.proxy?.close();
  await Promise.all(cluster.nodes.map((n) => n.stop()));
  await cluster.redis?.stop();
}

/**
 * Opens the client through the proxy with `open(ctx, url)` (page side: resolves once the
 * client is connected and has asked to join room-1), waits until a node has its join,
 * starts the stream and waits for 30 events. Resolves to { holder, other }: the node the
 * client is on, and the other one.
 */
async function openClient(ctx, cluster, open) {
  await open(ctx, `http://127.0.0.1:${cluster.proxy.port}`);
  const joined = (node) => node.log.some((e) => e.event === "join");
  await Promise.any([cluster.a, cluster.b].map((n) => n.waitForLog(() => joined(n), 5000, "the client's join")));
  const holder = joined(cluster.a) ? cluster.a : cluster.b;
  const other = holder === cluster.a ? cluster.b : cluster.a;
  cluster.p.send({ cmd: "stream", every: 20, room: "room-1" });
  await ctx.page.evaluate(() =>
    e2e.waitFor(() => e2e.traced("event") >= 30, 5000, "30 events through the adapter", e2e.traces.main.slice(-5)),
  );
  return { holder, other };
}

/**
 * Runs `fn(ctx, cluster, { holder, other, firstId, firstConnId })` in a fresh page of
 * `suite` with the cluster started (`startProxy`, as for startCluster()) and the client
 * opened by `open` (as for openClient() above) connected through `holder` as socket
 * `firstId` on Engine.IO session `firstConnId`, the stream flowing; stops the cluster
 * afterwards.
 */
export async function withCluster(t, { suite, startProxy, open }, fn) {
  const cluster = await startCluster(startProxy);
  try {
    await suite.withPage(t, async (ctx) => {
      const { holder, other } = await openClient(ctx, cluster, open);
      const conn = holder.log.find((e) => e.event === "connection");
      await fn(ctx, cluster, { holder, other, firstId: conn.id, firstConnId: conn.connId });
    });
  } finally {
    await stopCluster(cluster);
  }
}

/**
 * Waits for 30 more events after the reconnection, stops the stream, collects and
 * analyzes. `numbers(trace)`, if given, is the trace the analysis reads (and the result
 * carries).
 */
export async function finish(ctx, cluster, { numbers = (trace) => trace } = {}) {
  await ctx.page.evaluate(async () => {
    await e2e.waitFor(() => e2e.traced("connect") >= 2, 8000, "the reconnection", e2e.logs.main);
    const at = e2e.traced("event");
    await e2e.waitFor(() => e2e.traced("event") >= at + 30, 5000, "30 events after the reconnection", e2e.traces.main.slice(-5));
  });
  cluster.p.send({ cmd: "stream-stop" });
  await cluster.p.waitForLog((log) => log.some((e) => e.event === "stream-stopped"), 5000, "the stream to stop");
  const lastSent = cluster.p.log.find((e) => e.event === "stream-stopped").last;
  const result = await ctx.page.evaluate(async (lastSent) => {
    const socket = e2e.sockets.main;
    const trace = e2e.traces.main;
    const last = () => trace.filter((e) => e.k === "event").at(-1)?.args[0] ?? 0;
    await e2e.waitFor(() => last() >= lastSent, 3000, "the last event").catch(() => {});
    await e2e.sleep(300);
    const out = {
      trace: [...trace],
      log: [...e2e.logs.main],
      id: socket.id,
      recovered: socket.recovered,
      transport: socket.io.engine.transport.name,
    };
    socket.disconnect();
    return out;
  }, lastSent);
  const trace = numbers(result.trace);
  return { ...result, trace, lastSent, report: analyzeStream(trace, { lastSent }) };
}

/** How long the client was away (ms): from its disconnect to its second connect. */
export function away(trace) {
  const disconnect = trace.find((e) => e.k === "disconnect");
  const reconnect = trace.filter((e) => e.k === "connect")[1];
  return disconnect && reconnect ? Math.round(reconnect.t - disconnect.t) : NaN;
}

/** What node `node` received from socket `id`: its joins and notes, in order. */
export const joinsOf = (node, id) => node.log.filter((e) => e.id === id && (e.event === "join" || e.event === "note"));

/**
 * The checks of a handover that recovered, on a `result` of finish(): node `from` closed
 * the client's Engine.IO connection ("forced close": the session saved to Redis); the
 * client connected twice as socket `firstId`, the second time recovered, which node `to`
 * did from Redis; the stream from its first event to its last, none lost inside the
 * session, each carrying its number alone. `exactlyOnce: false` leaves out the checks
 * that no event came twice, for a client that may be handed a replayed event twice.
 */
export function assertRecoveredHandover(result, { from, to, firstId, exactlyOnce = true }) {
  const { trace, log, report } = result;
  const fromDisconnect = from.log.find((e) => e.event === "disconnect");
  const toConn = to.log.find((e) => e.event === "connection");
  assert.equal(fromDisconnect?.reason, "forced close", `${from.name} closed the client's connection: ${JSON.stringify(from.log)}`);
  assert.deepEqual(
    trace.filter((e) => e.k === "connect").map((e) => ({ recovered: e.recovered, id: e.id })),
    [
      { recovered: false, id: firstId },
      { recovered: true, id: firstId },
    ],
    `connects: the second recovered, with the same id:${formatLog(log)}`,
  );
  assert.deepEqual({ id: result.id, recovered: result.recovered }, { id: firstId, recovered: true });
  assert.equal(toConn?.id, firstId, `${to.name} restored the same socket id`);
  assert.equal(toConn?.recovered, true, `${to.name} restored the session from Redis`);
  assert.equal(report.first, 1);
  assert.deepEqual(report.badArgs, [], "every event carries its number, and no offset leaks into the arguments");
  const lost = serverSideLosses(report, to, toConn);
  assert.deepEqual(lost.client, [], `lost: ${JSON.stringify(report.lossesInRecovered)}`);
  assert.equal(report.tailLost, 0, "the last events arrived");
  assert.equal(report.distinct + lost.serverCount, result.lastSent, "every event arrived");
  if (exactlyOnce) {
    assert.equal(report.dupInRecovered, 0, `duplicated: ${JSON.stringify(report.dupsInRecovered)}`);
    assert.equal(report.received + lost.serverCount, result.lastSent, "every event exactly once");
  }
}

/**
 * The losses inside the recovered session split by whose they are. One whose events
 * node `to` never wrote to the client's connection `toConn` (its log has them when the
 * node runs with `logWrites`, as the cluster's do) is the server's: the client cannot
 * have had them. @socket.io/redis-streams-adapter restores a session by reading the
 * stream from the client's offset, and only then joins the socket to its rooms, so an
 * entry the node's stream reader hands out in between reaches no one; that is reported,
 * not failed on. Without the node's writes every loss is the client's.
 * Returns { client: [losses], serverCount: the events of the others }.
 */
function serverSideLosses(report, to, toConn) {
  const written = new Set(to.log.filter((e) => e.event === "wrote" && e.connId === toConn?.connId).map((e) => e.n));
  const unwritten = (loss) => written.size > 0 && Array.from({ length: loss.gap }, (_, i) => loss.prev + 1 + i).every((n) => !written.has(n));
  const server = report.lossesInRecovered.filter(unwritten);
  if (server.length) console.log(`  never written by ${to.name} to the client (the adapter's restore race, not the client's): ${JSON.stringify(server)}`);
  return { client: report.lossesInRecovered.filter((loss) => !unwritten(loss)), serverCount: server.reduce((sum, loss) => sum + loss.gap, 0) };
}
