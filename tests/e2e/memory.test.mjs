// Scenario 9: 1 000 forced reconnect cycles (`socket.io.engine.close()`, then wait for
// `connect`) against a real socket.io server must not grow memory: the wasm linear
// memory (`stats().wasmMemoryBytes`; it never shrinks, so growth = pages added) and the
// JS heap after a forced GC (CDP), measured after 100 warm-up cycles and after 1 000.
// The figures are printed so that they can be reported. `E2E_RECONNECT_CYCLES=10000`
// runs the long campaign (about 50 ms a cycle) instead of the 1 000 of `npm test`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite, referenceMode } from "./support/browser.mjs";
import { startSocketIoServer } from "./support/processes.mjs";

const suite = e2eSuite(import.meta.url);

const WARM_UP = 100;
const TOTAL = Math.max(WARM_UP + 1, Number(process.env.E2E_RECONNECT_CYCLES) || 1000);
const MAX_WASM_GROWTH = 1024 * 1024; // 1 MiB
const MAX_HEAP_GROWTH = 2 * 1024 * 1024; // 2 MiB
const MAX_LISTENER_GROWTH = 50; // one leaked listener per cycle would be 900

const MiB = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

test(`${TOTAL} forced reconnect cycles do not grow wasm memory or the JS heap`, { timeout: 60_000 + TOTAL * 60 }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const opts = clientOptions({ reconnectionDelay: 1, reconnectionDelayMax: 1, randomizationFactor: 0 });
    // No event log here: it would grow the heap itself. Plain counters only.
    await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = e2e.lib.io(url, opts);
        e2e.sockets.main = socket;
        e2e.counts = { connect: 0, disconnect: 0, connectError: 0, reasons: {} };
        socket.on("connect", () => {
          e2e.counts.connect += 1;
        });
        socket.on("disconnect", (reason) => {
          e2e.counts.disconnect += 1;
          e2e.counts.reasons[reason] = (e2e.counts.reasons[reason] ?? 0) + 1;
        });
        socket.on("connect_error", () => {
          e2e.counts.connectError += 1;
        });
        await e2e.waitFor(() => socket.connected, 5000, "the first connect");
        e2e.cycles = async (n, budgetMs) => {
          const started = performance.now();
          for (let i = 0; i < n; i += 1) {
            if (performance.now() - started > budgetMs) {
              throw new Error(`only ${i} of ${n} reconnect cycles done in ${budgetMs} ms`);
            }
            const connected = e2e.next(socket, "connect", 5000);
            socket.io.engine.close();
            await connected;
          }
          return performance.now() - started;
        };
      },
      { url, opts },
    );
    const cdp = await ctx.cdp();
    const measure = async () => {
      for (let i = 0; i < 3; i += 1) await cdp.send("HeapProfiler.collectGarbage");
      const heap = await cdp.send("Runtime.getHeapUsage");
      const dom = await cdp.send("Memory.getDOMCounters");
      const wasm = await ctx.page.evaluate(() => e2e.lib.stats().wasmMemoryBytes);
      return { wasm, heap: heap.usedSize, listeners: dom.jsEventListeners };
    };

    const warmMs = await ctx.page.evaluate((n) => e2e.cycles(n, 20_000), WARM_UP);
    const warm = await measure();
    const mainMs = await ctx.page.evaluate(({ n, budget }) => e2e.cycles(n, budget), { n: TOTAL - WARM_UP, budget: TOTAL * 50 });
    const end = await measure();
    const counts = await ctx.page.evaluate(async () => {
      const socket = e2e.sockets.main;
      const echo = await e2e.within(socket.emitWithAck("echo", "alive"), 5000, "an ack after the cycles");
      const snapshot = { ...e2e.counts, reasons: { ...e2e.counts.reasons }, echo, connected: socket.connected };
      socket.disconnect();
      return snapshot;
    });

    const growth = { wasm: end.wasm - warm.wasm, heap: end.heap - warm.heap, listeners: end.listeners - warm.listeners };
    console.log(
      `memory after ${WARM_UP} cycles: wasm ${MiB(warm.wasm)}, JS heap ${MiB(warm.heap)}, listeners ${warm.listeners}\n` +
        `memory after ${TOTAL} cycles: wasm ${MiB(end.wasm)}, JS heap ${MiB(end.heap)}, listeners ${end.listeners}\n` +
        `growth over ${TOTAL - WARM_UP} cycles: wasm ${growth.wasm} bytes, JS heap ${growth.heap} bytes (${MiB(growth.heap)}), listeners ${growth.listeners}\n` +
        `time: ${Math.round(warmMs)} ms for ${WARM_UP} cycles, ${Math.round(mainMs)} ms for ${TOTAL - WARM_UP}` +
        ` (${(mainMs / (TOTAL - WARM_UP)).toFixed(1)} ms/cycle); disconnect reasons ${JSON.stringify(counts.reasons)}`,
    );

    assert.equal(counts.connect, TOTAL + 1, "one connect per cycle (plus the first)");
    assert.equal(counts.disconnect, TOTAL, "one disconnect per cycle");
    assert.equal(counts.echo, "alive");
    assert.equal(server.count((e) => e.event === "connection"), TOTAL + 1, "connections seen by the server");
    if (referenceMode) {
      t.diagnostic("reference mode: no wasm memory to measure");
    } else {
      assert.ok(Number.isFinite(warm.wasm) && warm.wasm > 0, `stats().wasmMemoryBytes: ${warm.wasm}`);
      assert.ok(growth.wasm <= MAX_WASM_GROWTH, `wasm memory grew by ${growth.wasm} bytes over ${TOTAL - WARM_UP} cycles`);
    }
    assert.ok(growth.heap <= MAX_HEAP_GROWTH, `JS heap grew by ${MiB(growth.heap)} over ${TOTAL - WARM_UP} cycles`);
    assert.ok(growth.listeners <= MAX_LISTENER_GROWTH, `event listeners grew by ${growth.listeners}`);
    ctx.assertNoErrors();
  });
});

// Abandoned connections are released: Managers the app disconnected and let go are
// collected with their wasm Connection (`stats().connections` falls back), while a
// socket the app holds only through its listeners keeps working, as with
// socket.io-client (an open connection keeps its socket alive).
test("abandoned managers are freed, a connected socket held only by listeners lives on", { timeout: 60_000 }, async (t) => {
  if (referenceMode) return t.skip("reference mode: socket.io-client has no stats()");
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const ABANDONED = 20;
    const opts = clientOptions({ forceNew: true });
    const before = await ctx.page.evaluate(
      async ({ url, opts, count }) => {
        const helper = e2e.lib.io(url, opts);
        e2e.sockets.helper = helper;
        await e2e.waitFor(() => helper.connected, 5000, "the helper socket");
        const base = e2e.lib.stats().connections;
        let abandoned = Array.from({ length: count }, () => e2e.lib.io(url, opts));
        await e2e.waitFor(() => abandoned.every((s) => s.connected), 10_000, `${count} connections`);
        const opened = e2e.lib.stats().connections;
        // No reference kept: only its listeners.
        window.orphan = { connected: false, pings: 0 };
        e2e.lib
          .io(url, opts)
          .on("connect", () => (window.orphan.connected = true))
          .on("ping-all", () => (window.orphan.pings += 1));
        await e2e.waitFor(() => window.orphan.connected, 5000, "the socket held by listeners");
        for (const socket of abandoned) socket.disconnect();
        abandoned = null;
        return { base, opened };
      },
      { url, opts, count: ABANDONED },
    );
    assert.equal(before.opened, before.base + ABANDONED, "one wasm Connection per forceNew manager");

    const cdp = await ctx.cdp();
    let connections = Infinity;
    for (let i = 0; i < 30 && connections > before.base + 1; i += 1) {
      await cdp.send("HeapProfiler.collectGarbage");
      await new Promise((resolve) => setTimeout(resolve, 100));
      connections = await ctx.page.evaluate(() => e2e.lib.stats().connections);
    }
    console.log(`wasm connections: ${before.base} at start, ${before.opened} with ${ABANDONED} more, ${connections} after GC`);
    assert.equal(connections, before.base + 1, "abandoned connections freed; the one held by listeners kept");

    const pings = await ctx.page.evaluate(async () => {
      await e2e.within(e2e.sockets.helper.emitWithAck("broadcast-later", 0, "ping-all"), 5000, "broadcast ack");
      await e2e.waitFor(() => window.orphan.pings === 1, 5000, "the broadcast to the socket held by listeners");
      e2e.sockets.helper.disconnect();
      return window.orphan.pings;
    });
    assert.equal(pings, 1);
    ctx.assertNoErrors();
  });
});
