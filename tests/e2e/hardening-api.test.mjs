// Hardening of the JS API:
//   - an emit made by a listener (emit_dropped, an ack callback) while another emit is
//     being made must not lose the outer emit's outcome: every ack settles, once;
//   - credentials live in one place: `socket.auth = null` leaves no copy behind;
//   - a trap of the WebAssembly module (here: out of memory, its memory grown to the
//     limit first) is reported once to every socket and Manager, with type "WasmTrap",
//     whether it happens in a call of the app or in a WebSocket callback; the dead
//     client fails cleanly afterwards, a new io() gets a fresh instance that works, and
//     the dead instance's memory (4 GiB) is released: its WebAssembly.Memory and buffer
//     are collected by a forced garbage collection (CDP HeapProfiler.collectGarbage),
//     watched through WeakRefs, while the page still holds the dead client and an error
//     it delivered.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { freePort } from "../../scripts/children.mjs";
import { clientOptions, e2eSuite, referenceMode } from "./support/browser.mjs";
import { startSocketIoServer } from "./support/processes.mjs";
import { startRawEngineServer } from "./support/raw-engine.mjs";
import { exhaustMemory } from "./support/apps/exhaust-memory.js";

const suite = e2eSuite(import.meta.url);
const NOTE_WASM_MEMORIES = fileURLToPath(new URL("./support/apps/note-wasm-memories.js", import.meta.url));
const TEST_TIMEOUT = 60_000;

test("emits made by listeners during an emit: every ack settles exactly once", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("socket.io-client has no bounded offline queue");
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    // Offline until connect() (autoConnect false), one emit kept at most.
    const base = { forceNew: true, autoConnect: false, maxQueue: 1 };
    const newest = clientOptions({ ...base, queueOverflow: "drop-newest" });
    const oldest = clientOptions({ ...base, queueOverflow: "drop-oldest" });
    const result = await ctx.page.evaluate(
      async ({ url, newest, oldest }) => {
        // Every outcome, by name, as the list of the calls it got: exactly one expected.
        const outcomes = {};
        const track = (name, promise) => {
          outcomes[name] = [];
          promise.then(
            (v) => outcomes[name].push({ ok: v }),
            (err) => outcomes[name].push({ err: err?.type ?? String(err) }),
          );
        };
        const callback = (name) => {
          outcomes[name] = [];
          return (err, v) => outcomes[name].push(err ? { err: err.type ?? String(err) } : { ok: v });
        };

        // drop-newest: the full queue refuses "refused" inside its emit call; the
        // emit_dropped listener emits (also refused) before the outer ack is settled.
        const a = e2e.lib.io(url, newest);
        let nested = 0;
        a.on("emit_dropped", () => {
          if (nested++) return;
          track("a-nested", a.emitWithAck("note", "a-nested"));
          a.timeout(60_000).emit("note", "a-nested-cb", callback("a-nested-cb"));
        });
        track("a-kept", a.emitWithAck("note", "a-kept"));
        track("a-refused", a.emitWithAck("note", "a-refused"));
        a.timeout(60_000).emit("note", "a-refused-cb", callback("a-refused-cb"));

        // drop-oldest: an ack callback run inside an emit call (the emit pushed the
        // queued one out) emits, and that emit pushes out the outer emit in turn.
        const b = e2e.lib.io(url, oldest);
        const first = callback("b-first");
        b.timeout(60_000).emit("note", "b-first", (...args) => {
          first(...args);
          track("b-nested", b.emitWithAck("note", "b-nested"));
        });
        track("b-outer", b.emitWithAck("note", "b-outer"));

        // What is still queued is sent once connected, and answered.
        a.connect();
        b.connect();
        const names = () => Object.keys(outcomes);
        await e2e
          .waitFor(() => names().every((n) => outcomes[n].length), 5000, "every ack to settle")
          .catch(() => {});
        await e2e.sleep(200); // a second settlement would show up by now
        const queued = { a: a.sendBuffer, b: b.sendBuffer };
        a.disconnect();
        b.disconnect();
        return { outcomes, queued };
      },
      { url, newest, oldest },
    );
    console.log(`acks of nested emits: ${JSON.stringify(result.outcomes)}`);
    const dropped = [{ err: "DroppedError" }];
    assert.deepEqual(
      result.outcomes,
      {
        "a-kept": [{ ok: "noted" }],
        "a-refused": dropped,
        "a-nested": dropped,
        "a-nested-cb": dropped,
        "a-refused-cb": dropped,
        "b-first": dropped,
        "b-nested": [{ ok: "noted" }],
        "b-outer": dropped,
      },
      "each ack settled exactly once ([]: never settled, the outcome was lost)",
    );
    assert.deepEqual(result.queued, { a: [], b: [] });
    ctx.assertNoErrors();
  });
});

test("credentials live in one place: after socket.auth = null no copy is left, and no token is sent", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("socket.io-client keeps copies of its options");
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const token = `secret-${process.pid}-${Date.now()}`;
    const opts = clientOptions({ reconnectionDelay: 200, randomizationFactor: 0 });
    const result = await ctx.page.evaluate(
      async ({ url, opts, token }) => {
        // Through io()'s cache of Managers (no forceNew): the cache is part of the walk.
        const socket = await e2e.open(url, { ...opts, auth: { token } });
        socket.auth = null;
        const admin = e2e.lib.io(`${url}/admin`, opts);
        // Every own property (enumerable or not) and Map/Set entry reachable from the
        // socket and its Manager, functions left out, to a bounded depth.
        const found = [];
        const seen = new Set();
        const walk = (value, path, depth) => {
          if (typeof value == "string") {
            if (value.includes(token)) found.push(path);
            return;
          }
          if (!value || typeof value != "object" || seen.has(value) || depth > 12) return;
          seen.add(value);
          if (value instanceof Map || value instanceof Set) {
            let i = 0;
            for (const entry of value) walk(entry, `${path}[entry ${i++}]`, depth + 1);
          }
          for (const key of Reflect.ownKeys(value)) {
            const d = Object.getOwnPropertyDescriptor(value, key);
            if (d && "value" in d && typeof d.value != "function") walk(d.value, `${path}.${String(key)}`, depth + 1);
          }
        };
        walk(socket, "socket", 0);
        walk(socket.io, "socket.io", 0);
        const walked = seen.size;
        const sameManager = admin.io === socket.io;
        const readable = { reconnectionDelay: socket.io.opts.reconnectionDelay, hasAuth: "auth" in socket.io.opts };
        // The next connection asks for `auth` again, and finds none.
        const again = e2e.next(socket, "connect", 5000);
        socket.io.engine.close();
        await again;
        socket.disconnect();
        admin.disconnect();
        return { found, walked, sameManager, readable };
      },
      { url, opts, token },
    );
    assert.ok(result.sameManager, "the second io() reused the cached Manager, walked as socket.io");
    assert.ok(result.walked > 20, `the walk reached the socket's and the Manager's objects (${result.walked})`);
    assert.deepEqual(result.found, [], "no object reachable from the socket or its Manager still holds the token");
    assert.deepEqual(result.readable, { reconnectionDelay: 200, hasAuth: false }, "socket.io.opts keeps the options apps read, not auth");
    const connections = (log) => log.filter((e) => e.event === "connection" && e.nsp === "/");
    // The server's log line may trail the client's connect by a moment.
    await server.waitForLog((log) => connections(log).length >= 2, 5000, "the reconnection");
    const tokens = connections(server.log).map((e) => e.token ?? null);
    assert.deepEqual(tokens, [token, null], "the token went with the first CONNECT only");
    ctx.assertNoErrors();
  });
});


// In the page: a log's "WasmTrap" reports (e2e.record() entries of source `src` with an
// argument of that type), as event names ("disconnect:<reason>" for a disconnect).
function traps(name, src) {
  return (e2e.logs[name] ?? [])
    .filter((e) => e.src === src && e.args.some((a) => a?.type === "WasmTrap"))
    .map((e) => (e.name === "disconnect" ? `disconnect:${e.args[0]}` : e.name));
}

/**
 * Reloads the page with ./support/apps/note-wasm-memories.js run before its scripts
 * (window.wasmMemories), and defines exhaustMemory() and traps() in it.
 */
async function pageHelpers(page) {
  await page.addInitScript({ path: NOTE_WASM_MEMORIES });
  await page.reload({ timeout: 15_000 });
  await page.waitForFunction(() => window.e2e && (window.e2e.ready || window.e2e.loadError), null, { timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.e2e.loadError), null, "the package loaded");
  await page.evaluate(`window.exhaustMemory = ${exhaustMemory}; window.traps = ${traps};`);
}

/**
 * Whether the memory exhaustMemory() grew and its buffer are collected, after garbage
 * collections forced through CDP (a WeakRef is cleared only once its target is gone).
 */
async function exhaustedReleased(ctx) {
  const cdp = await ctx.cdp();
  let released = [];
  for (let i = 0; i < 10; i += 1) {
    await cdp.send("HeapProfiler.collectGarbage");
    released = await ctx.page.evaluate(() => window.exhausted.map((ref) => ref.deref() === undefined));
    if (released.every(Boolean)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return released;
}

test("a trap in a call of the app: reported once everywhere, the dead client fails cleanly, a new io() works", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("resocket's WebAssembly module only");
  const closed = await freePort(); // nobody listens there
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const opts = clientOptions({ reconnectionDelay: 200, randomizationFactor: 0 });
    await pageHelpers(ctx.page);
    const result = await ctx.page.evaluate(
      async ({ url, closedUrl, opts }) => {
        // Connected, with an ack pending (the server never answers "noack").
        const connected = await e2e.open(url, opts, "connected");
        const pending = e2e.settle(connected.emitWithAck("noack", 1));
        // Reconnecting to a port nobody listens on.
        const reconnecting = e2e.lib.io(closedUrl, { ...opts, forceNew: true, reconnectionDelay: 60_000, reconnectionDelayMax: 60_000 });
        e2e.record(reconnecting, { name: "reconnecting" });
        // The app keeps the error of the first failed attempt (made in a callback of the
        // instance, its stack trace through the instance's frames).
        window.keptError = (await e2e.next(reconnecting, "connect_error", 5000))[0];
        // Never connected: told only once it tries to connect.
        const idle = e2e.lib.io(url, { ...opts, forceNew: true, autoConnect: false });
        e2e.record(idle, { name: "idle" });

        const memory = exhaustMemory();
        let thrown = null;
        try {
          connected.emit("echo", "x".repeat(64 << 20));
        } catch (err) {
          thrown = String(err);
        }
        const stateAtOnce = { connected: connected.connected, active: connected.active };
        await e2e.waitFor(() => traps("connected", "manager").length && traps("reconnecting", "manager").length, 5000, "the trap's reports", e2e.logs);
        const ack = await e2e.orPending(pending, 2000, "the pending ack");

        // The dead client: no exception, acks fail with the trap, state reads dead.
        let deadThrown = null;
        let deadAck;
        try {
          connected.emit("echo", "after");
          deadAck = await e2e.within(e2e.settle(connected.emitWithAck("echo", "after")), 2000, "an ack of the dead client");
        } catch (err) {
          deadThrown = String(err);
        }
        const dead = { connected: connected.connected, active: connected.active, id: connected.id ?? null, sendBuffer: connected.sendBuffer, reconnectingActive: reconnecting.active };
        const idleError = e2e.next(idle, "connect_error", 2000).then(([err]) => err.type, (err) => String(err));
        idle.connect();
        const idleConnect = await idleError;
        await e2e.sleep(300); // a second report would show up by now

        // A new client: a fresh instance, connected, receiving events.
        const fresh = await e2e.open(url, opts, "fresh");
        const news = e2e.next(fresh, "news", 5000);
        fresh.emit("emit-to-me", "news", 42);
        const [n] = await news;
        const stats = e2e.lib.stats();
        const sameManager = fresh.io === connected.io;
        fresh.disconnect();
        return {
          memory,
          thrown,
          stateAtOnce,
          ack,
          deadThrown,
          deadAck,
          dead,
          idleConnect,
          reports: {
            connected: [...traps("connected", "socket"), ...traps("connected", "manager")],
            reconnecting: [...traps("reconnecting", "socket"), ...traps("reconnecting", "manager")],
            idle: [...traps("idle", "socket"), ...traps("idle", "manager")],
          },
          error: e2e.logs.connected.find((e) => e.src === "manager" && e.name === "error")?.args[0],
          fresh: { n, sameManager, memoryBytes: stats.wasmMemoryBytes },
          reported: e2e.reported,
        };
      },
      { url, closedUrl: `http://127.0.0.1:${closed}`, opts },
    );
    console.log(`trap in a call: ${JSON.stringify({ ...result, reported: undefined })}`);
    assert.ok(result.memory >= 2 ** 31, `the memory was grown to its limit (${result.memory} bytes)`);
    assert.equal(result.thrown, null, "the emit that trapped did not throw");
    assert.deepEqual(result.stateAtOnce, { connected: false, active: false }, "dead at once");
    assert.deepEqual(
      result.reports,
      { connected: ["disconnect:transport error", "error"], reconnecting: ["connect_error", "error"], idle: ["connect_error", "error"] },
      "each socket that wanted a connection and each Manager heard of it once; the idle ones when the socket tried to connect",
    );
    assert.equal(result.error?.type, "WasmTrap");
    assert.match(result.error?.message ?? "", /create a new/, "the message says what to do");
    assert.deepEqual(result.ack, { err: { ...result.ack.err, type: "WasmTrap" } }, "the pending ack failed with the trap");
    assert.equal(result.deadThrown, null, "calls on the dead client throw nothing");
    assert.equal(result.deadAck?.err?.type, "WasmTrap", "an ack asked of the dead client fails with the trap");
    assert.deepEqual(result.dead, { connected: false, active: false, id: null, sendBuffer: [], reconnectingActive: false });
    assert.equal(result.idleConnect, "WasmTrap");
    assert.deepEqual(result.fresh, { n: 42, sameManager: false, memoryBytes: result.fresh.memoryBytes });
    assert.ok(result.fresh.memoryBytes < 64 * 2 ** 20, `the new client runs on a fresh instance (${result.fresh.memoryBytes} bytes of memory)`);
    assert.deepEqual(result.reported, [], "nothing uncaught");
    // The page still holds the dead clients (`connected`, `reconnecting`, `idle`) and an
    // error of the dead instance.
    assert.deepEqual(await exhaustedReleased(ctx), [true, true], "the dead instance's memory and its buffer were collected");
    assert.equal(await ctx.page.evaluate(() => e2e.lib.stats().wasmMemoryBytes), result.fresh.memoryBytes, "stats() reads the fresh instance");
    ctx.assertNoErrors();
  });
});

test("a trap in a WebSocket callback (a frame too big for the memory left): reported, and a new io() works", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("resocket's WebAssembly module only");
  // A 4 MiB event right after the CONNECT reply: more than the allocator holds.
  const big = `42["big","${"x".repeat(4 << 20)}"]`;
  const raw = await startRawEngineServer({ afterConnect: (index) => (index === 1 ? [big] : []) });
  try {
    await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
      const opts = clientOptions({ reconnectionDelay: 200, randomizationFactor: 0 });
      await pageHelpers(ctx.page);
      const result = await ctx.page.evaluate(
        async ({ url, rawUrl, opts }) => {
          // The client is made first: what a new client allocates may itself not fit
          // once the memory is exhausted, and this test is about a trap in a callback.
          const socket = e2e.lib.io(rawUrl, { ...opts, forceNew: true });
          e2e.record(socket, { name: "victim", app: true });
          const memory = exhaustMemory();
          await e2e.waitFor(() => traps("victim", "manager").length, 5000, "the trap's report", e2e.logs.victim);
          await e2e.sleep(300);
          const state = { connected: socket.connected, active: socket.active };
          const fresh = await e2e.open(url, opts, "fresh");
          const news = e2e.next(fresh, "news", 5000);
          fresh.emit("emit-to-me", "news", "after");
          const [n] = await news;
          fresh.disconnect();
          return {
            memory,
            reports: [...traps("victim", "socket"), ...traps("victim", "manager")],
            big: e2e.logs.victim.filter((e) => e.name === "big").length,
            state,
            n,
            reported: e2e.reported.map((r) => r.message),
          };
        },
        { url, rawUrl: `http://127.0.0.1:${raw.port}`, opts },
      );
      console.log(`trap in a callback: ${JSON.stringify(result)}`);
      assert.ok(result.memory >= 2 ** 31, `the memory was grown to its limit (${result.memory} bytes)`);
      assert.equal(result.big, 0, "the event too big was never delivered");
      assert.deepEqual(result.reports, ["disconnect:transport error", "error"], "the socket and its Manager heard of the trap once");
      assert.deepEqual(result.state, { connected: false, active: false });
      assert.equal(result.n, "after", "a new client works");
      // The browser reports the trap it saw as uncaught; the client reported it as events.
      assert.ok(result.reported.every((m) => /unreachable/.test(m)), JSON.stringify(result.reported));
      assert.deepEqual(await exhaustedReleased(ctx), [true, true], "the dead instance's memory and its buffer were collected");
      ctx.assertNoErrors({ allowPage: [/unreachable/], allowConsole: [/unreachable/] });
    });
  } finally {
    await raw.close();
  }
});
