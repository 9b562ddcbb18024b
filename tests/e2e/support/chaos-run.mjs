// One chaos run, shared by ../chaos.test.mjs (WebSocket) and ../chaos-polling.test.mjs
// (long-polling, and the default polling -> WebSocket upgrade): a loopback TCP proxy
// (./proxy.mjs) between the browser and one socket.io server with connection state
// recovery cuts EVERY connection (both sockets destroyed) at random intervals of
// 100-600 ms, while
//   - the server streams numbered events to everyone (io.emit("n", i), 400 events/s,
//     a tick every 5 ms), and
//   - the client emits numbered messages at 50/s as at-least-once emits
//     (retries: 10, ackTimeout: 1000).
// Afterwards, once the stream has stopped and the client's queue has drained:
//   server -> client (see ./sequence.mjs for the exact definition): inside recovered
//   sessions nothing lost and nothing duplicated; at the connects that did not recover,
//   the gap is counted (the app is told: recovered === false);
//   client -> server: every number received at least once; duplicates (an ack lost
//   with its connection, then the resend) are counted and reported.
// The random intervals come from a seeded PRNG: the seed is printed, and E2E_CHAOS_SEED
// replays a run.
import assert from "node:assert/strict";

import { startServer } from "./processes.mjs";
import { seededRandom, startProxy } from "./proxy.mjs";
import { analyzeStream, formatStreamReport } from "./sequence.mjs";

const CLIENT_EVERY_MS = 20; // 50 emits/s
const STREAM = { every: 5, rate: 400 }; // 400 events/s, 2 a tick

/**
 * Runs the chaos in a page of `suite` (./browser.mjs) for test `t`. Options:
 * `label` (in the printed report), `chaosMs`, `opts` (the client's `io()` options:
 * the retries and reconnection delays above are added), `firstArgOnly` (look at each
 * streamed event's first argument only, for a client that hands listeners the
 * recovery offset as an extra argument), `minCutMoments`, `minRecovered` (how chaotic
 * the run must have been to count), `serverOptions` (more options for startServer()),
 * `allowConsole` (more console errors that a cut may make the browser print),
 * `exactlyOnce` (the client's exactlyOnce with the server's helper: then no client emit
 * may reach the server's handler twice), `seed` (of the cuts; else E2E_CHAOS_SEED or a
 * random one).
 * Resolves to { report, serverLog }.
 */
export async function runChaos(
  suite,
  t,
  { label, chaosMs, opts, firstArgOnly = false, minCutMoments, minRecovered, serverOptions = {}, allowConsole = [], exactlyOnce = false, seed: given },
) {
  const totalEmits = chaosMs / CLIENT_EVERY_MS;
  const seed = given ?? (Number(process.env.E2E_CHAOS_SEED) || Math.floor(Math.random() * 2 ** 31));
  const server = await startServer({ ...serverOptions, exactlyOnce, recovery: true, name: "chaos server" });
  let proxy = null;
  try {
    proxy = await startProxy({ targets: [server.port] });
    let report = null;
    await suite.withPage(t, async (ctx) => {
      const url = `http://127.0.0.1:${proxy.port}`;
      const clientOpts = { ...opts, reconnectionDelay: 300, reconnectionDelayMax: 1000, retries: 10, ackTimeout: 1000, ...(exactlyOnce ? { exactlyOnce } : {}) };
      await ctx.page.evaluate(
        async ({ url, opts }) => {
          const socket = await e2e.open(url, opts, "main", { wait: 0, manager: false, trace: "n" });
          e2e.chaos = { sent: 0, acked: 0, ackErrors: [], dropped: e2e.drops(socket), timer: null };
          await e2e.waitFor(() => socket.connected, 5000, "the first connect", e2e.logs.main);
        },
        { url, opts: clientOpts },
      );
      server.send({ cmd: "stream", ...STREAM });
      await server.waitForLog((log) => log.some((e) => e.event === "stream-started"), 5000, "the stream to start");

      // The client's emits, for as long as the chaos lasts.
      await ctx.page.evaluate(
        ({ every, total }) => {
          const socket = e2e.sockets.main;
          const c = e2e.chaos;
          c.timer = setInterval(() => {
            if (c.sent >= total) return clearInterval(c.timer);
            c.sent += 1;
            const n = c.sent;
            socket.emit("note", "c", n, (err) => {
              if (err) c.ackErrors.push([n, err.type ?? String(err)]);
              else c.acked += 1;
            });
          }, every);
        },
        { every: CLIENT_EVERY_MS, total: totalEmits },
      );
      const started = Date.now();
      const cutMoments = await proxy.startChaos({ minMs: 100, maxMs: 600, durationMs: chaosMs, random: seededRandom(seed) });
      const ranMs = Date.now() - started;

      // Calm again: let the client reconnect and receive live events for a while, then
      // stop the stream and wait until everything is delivered both ways.
      await ctx.page.evaluate(async (total) => {
        const socket = e2e.sockets.main;
        const c = e2e.chaos;
        await e2e.waitFor(() => c.sent >= total, 5000, `the client's ${total} emits`);
        await e2e.waitFor(() => socket.connected, 10_000, "the reconnection after the chaos", e2e.logs.main);
        await e2e.sleep(1000);
      }, totalEmits);
      server.send({ cmd: "stream-stop" });
      await server.waitForLog((log) => log.some((e) => e.event === "stream-stopped"), 5000, "the stream to stop");
      const lastSent = server.log.find((e) => e.event === "stream-stopped").last;
      const result = await ctx.page.evaluate(
        async ({ lastSent }) => {
          const socket = e2e.sockets.main;
          const c = e2e.chaos;
          const trace = e2e.traces.main;
          const lastReceived = () => {
            for (let i = trace.length - 1; i >= 0; i -= 1) if (trace[i].k === "event") return trace[i].args[0];
            return 0;
          };
          // Bounded waits; what is missing after them is reported, not hidden.
          await e2e.waitFor(() => lastReceived() >= lastSent, 5000, "the last streamed event").catch(() => {});
          await e2e.waitFor(() => c.acked + c.ackErrors.length >= c.sent, 20_000, "every client emit to be settled").catch(() => {});
          await e2e.sleep(300);
          const out = {
            trace: trace.map((e) => (e.k === "event" ? { k: "event", args: e.args } : e)),
            sent: c.sent,
            acked: c.acked,
            ackErrors: c.ackErrors,
            dropped: c.dropped,
            connected: socket.connected,
          };
          socket.disconnect();
          return out;
        },
        { lastSent },
      );

      // Server -> client.
      const trace = firstArgOnly ? result.trace.map((e) => (e.k === "event" ? { ...e, args: e.args.slice(0, 1) } : e)) : result.trace;
      report = analyzeStream(trace, { lastSent });
      // Client -> server.
      const receptions = server.log.filter((e) => e.event === "note" && e.args[0] === "c").map((e) => e.args[1]);
      const counts = new Map();
      for (const n of receptions) counts.set(n, (counts.get(n) ?? 0) + 1);
      const lostUp = [];
      for (let n = 1; n <= result.sent; n += 1) if (!counts.has(n)) lostUp.push(n);
      const dupUp = receptions.length - counts.size;
      // FIFO: the first reception of each number comes in emit order.
      const firsts = [...counts.keys()];
      const outOfOrder = firsts.filter((n, i) => i > 0 && n < firsts[i - 1]).length;
      const serverConns = server.log.filter((e) => e.event === "connection");
      const transports = {};
      for (const c of serverConns) transports[c.transport] = (transports[c.transport] ?? 0) + 1;
      const upgraded = server.log.filter((e) => e.event === "upgrade").length;

      console.log(
        [
          `${label} (seed ${seed}): ${ranMs} ms, ${cutMoments} cut moments, ${proxy.stats.cutConnections} connections cut, ` +
            `${proxy.stats.proxied} connections proxied`,
          `  server streamed ${lastSent} events; server saw ${serverConns.length} connections ` +
            `(${serverConns.filter((e) => e.recovered).length} recovered; joined on ${JSON.stringify(transports)}), ${upgraded} upgrades`,
          formatStreamReport("  server -> client", report).replace(/\n/g, "\n  "),
          `  client -> server: ${result.sent} emitted, ${receptions.length} receptions, ${counts.size} distinct, ` +
            `lost ${lostUp.length}, duplicated ${dupUp}, out of order ${outOfOrder}; acks ok ${result.acked}, ` +
            `ack errors ${result.ackErrors.length}, emit_dropped ${result.dropped.length}`,
        ].join("\n"),
      );
      if (report.lossesInRecovered.length) console.log(`  losses inside recovered sessions: ${JSON.stringify(report.lossesInRecovered)}`);
      if (report.dupsInRecovered.length) console.log(`  duplicates inside recovered sessions: ${JSON.stringify(report.dupsInRecovered)}`);
      if (report.gapsAtFresh.length) console.log(`  gaps at not-recovered connects: ${JSON.stringify(report.gapsAtFresh)}`);
      if (lostUp.length) console.log(`  client numbers never received: ${JSON.stringify(lostUp.slice(0, 50))}; ack errors ${JSON.stringify(result.ackErrors.slice(0, 20))}; dropped ${JSON.stringify(result.dropped.slice(0, 20))}`);

      // The run really was chaotic, and recovery really was exercised.
      assert.ok(cutMoments >= minCutMoments, `only ${cutMoments} cut moments in ${chaosMs} ms`);
      assert.ok(report.recoveredConnects >= minRecovered, `only ${report.recoveredConnects} recovered connects: recovery was hardly exercised`);
      assert.ok(lastSent >= 300 * (chaosMs / 1000), `only ${lastSent} events streamed`);
      // Server -> client.
      assert.equal(report.first, 1, "the first session starts at the first event");
      assert.deepEqual(report.badArgs, [], "every event carries exactly its one number (no offset leaking)");
      assert.equal(report.lostInRecovered, 0, `events lost inside recovered sessions: ${JSON.stringify(report.lossesInRecovered)}`);
      assert.equal(report.dupInRecovered, 0, `events duplicated inside recovered sessions: ${JSON.stringify(report.dupsInRecovered)}`);
      assert.equal(report.dupAcrossFresh, 0, "no event delivered twice across a new session");
      assert.equal(report.tailLost, 0, `the last ${report.tailLost} streamed events never arrived`);
      // Client -> server.
      assert.equal(result.sent, totalEmits, "the client emitted all its numbers");
      assert.deepEqual(lostUp, [], "client numbers the server never received");
      assert.deepEqual(result.dropped, [], "client emits given up (emit_dropped)");
      assert.deepEqual(result.ackErrors, [], "client emits whose ack failed");
      assert.equal(result.acked, result.sent, "every client emit acknowledged");
      assert.equal(outOfOrder, 0, "client emits first received in emit order (one in flight)");
      if (exactlyOnce) assert.equal(dupUp, 0, "client emits handled twice by the server, with exactlyOnce");
      ctx.assertNoErrors({ allowConsole });
    });
    return { report, serverLog: server.log };
  } finally {
    await proxy?.close();
    await server.stop();
  }
}
