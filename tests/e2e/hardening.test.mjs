// Hardening against the server, the clock and one failing namespace, end to end
// against the real socket.io server (./support/server.mjs):
//   a. recovery on: a volatile event sent twice reaches the app twice; declared in
//      `volatileEvents`, whole;
//   b. a server event named like one of the library's own socket events is refused as
//      a protocol error and never runs the app's listener for the library event;
//   c. one namespace's failure (its auth function throws, or its CONNECT reply never
//      comes) is that namespace's: the connection and the other namespaces stay;
//   d. the wall clock set back an hour freezes nothing (a dead server is still noticed
//      by the heartbeat), set forward fires nothing (acks, queue ages);
//   e. a frame larger than the `limits` option allows is a protocol error.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite, referenceMode } from "./support/browser.mjs";
import { formatLog } from "./support/events.mjs";
import { startServer, startSocketIoServer } from "./support/processes.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;

test("recovery on: a volatile event sent twice arrives twice; declared volatile, whole", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("resocket's recovery offsets and volatileEvents option");
  await suite.withServer(t, startServer({ recovery: true }), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const run = async (name, extra) => {
          const socket = await e2e.open(url, { ...opts, ...extra }, name);
          const got = [];
          socket.on("status", (...args) => got.push(args));
          // A first stored event gives the session an offset.
          await e2e.within(socket.emitWithAck("emit-to-me", "tick", 1), 5000, "a stored event");
          for (let i = 0; i < 2; i += 1) {
            await e2e.within(socket.emitWithAck("emit-volatile-to-me", "status", "online"), 5000, "a volatile event");
          }
          await e2e.waitFor(() => got.length >= 2, 5000, `${name}: both volatile events`);
          socket.disconnect();
          return got;
        };
        return {
          undeclared: await run("undeclared", {}),
          declared: await run("declared", { volatileEvents: ["status"] }),
        };
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    // Undeclared, the trailing string cannot be told from an offset (see the README).
    assert.equal(result.undeclared.length, 2, "never dropped as a duplicate");
    assert.deepEqual(result.declared, [["online"], ["online"]]);
    ctx.assertNoErrors();
  });
});

test("a server event named like a library event is refused, never run as the library's", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("socket.io-client delivers such events as the app's");
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const fired = [];
        for (const name of ["reconnect_failed", "emit_dropped", "reconnect"]) socket.on(name, (...args) => fired.push([name, args]));
        const errors = [];
        socket.io.on("error", (err) => errors.push({ message: err.message, type: err.type }));
        const gone = e2e.next(socket, "disconnect", 5000);
        socket.emit("emit-to-me", "reconnect_failed", "forged");
        const [reason] = await gone;
        await e2e.waitFor(() => socket.connected, 5000, "the reconnection", e2e.logs.main);
        const firedBeforeReconnect = fired.filter(([, args]) => args.includes("forged"));
        socket.disconnect();
        return { reason, errors, forged: firedBeforeReconnect };
      },
      { url, opts: clientOptions({ forceNew: true, reconnectionDelay: 100, randomizationFactor: 0 }) },
    );
    assert.equal(result.reason, "parse error");
    assert.deepEqual(result.forged, [], "no listener heard the forged event");
    assert.deepEqual(result.errors, [{ message: "reserved event name", type: "ParseError" }]);
    ctx.assertNoErrors();
  });
});

test("one namespace's failing auth or missing CONNECT reply leaves the others connected", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("resocket's per-namespace retry");
  const starting = startServer({ namespaces: ["/", "/admin", "/slow"], stall: ["/slow"] });
  await suite.withServer(t, starting, async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url }) => {
        const manager = new e2e.lib.Manager(url, { timeout: 800, reconnectionDelay: 300, randomizationFactor: 0 });
        const main = manager.socket("/");
        const mainLog = e2e.record(main, { name: "main" });
        await e2e.waitFor(() => main.connected, 5000, "/ to connect", mainLog);
        let tries = 0;
        const admin = manager.socket("/admin", {
          auth: () => {
            tries += 1;
            if (tries < 3) throw new Error(`no token yet (${tries})`);
            return { token: "third" };
          },
        });
        const adminErrors = [];
        admin.on("connect_error", (err) => adminErrors.push({ message: err.message, type: err.type }));
        await e2e.waitFor(() => admin.connected, 5000, "/admin to connect on its third try", adminErrors);
        const slow = manager.socket("/slow");
        const slowErrors = [];
        slow.on("connect_error", (err) => slowErrors.push({ message: err.message, type: err.type }));
        await e2e.waitFor(() => slowErrors.length >= 2, 5000, "/slow to fail twice", slowErrors);
        const echo = await e2e.within(main.emitWithAck("echo", "still here"), 5000, "an ack on /");
        const state = { main: main.connected, admin: admin.connected, slow: slow.connected, echo, tries, adminErrors, slowErrors, log: [...mainLog] };
        manager.disconnect();
        return state;
      },
      { url },
    );
    assert.equal(result.main, true, `/ stays connected:${formatLog(result.log)}`);
    assert.equal(result.admin, true);
    assert.equal(result.slow, false);
    assert.equal(result.echo, "still here");
    assert.deepEqual(
      result.log.filter((e) => ["disconnect", "close", "reconnect_attempt"].includes(e.name)),
      [],
      `no disconnect of / and no reconnection:${formatLog(result.log)}`,
    );
    // The first failure fires inside `manager.socket()`, before the listener is attached.
    assert.equal(result.tries, 3);
    assert.deepEqual(result.adminErrors.map((e) => e.type), ["AuthError"]);
    assert.ok(result.slowErrors.every((e) => e.type === "TimeoutError"), JSON.stringify(result.slowErrors));
    const engines = new Set(server.log.filter((e) => e.event === "connection").map((e) => e.connId));
    assert.equal(engines.size, 1, "one Engine.IO connection served every namespace");
    ctx.assertNoErrors();
  });
});

test("the wall clock set back an hour: a silent server is still noticed by the heartbeat", { timeout: TEST_TIMEOUT }, async (t) => {
  const starting = startSocketIoServer({ pingInterval: 400, pingTimeout: 400 });
  await suite.withServer(t, starting, async (ctx, { server, url }) => {
    await ctx.page.evaluate(
      async ({ url, opts }) => {
        await e2e.open(url, opts);
        const real = Date.now;
        Date.now = () => real() - 3_600_000;
      },
      { url, opts: clientOptions({ forceNew: true, reconnection: false }) },
    );
    process.kill(server.pid, "SIGSTOP");
    try {
      const result = await ctx.page.evaluate(async () => {
        const started = performance.now();
        const [reason] = await e2e.next(e2e.sockets.main, "disconnect", 5000);
        return { reason, afterMs: performance.now() - started };
      });
      assert.equal(result.reason, "ping timeout");
      assert.ok(result.afterMs < 2000, `noticed after ${result.afterMs} ms`);
    } finally {
      process.kill(server.pid, "SIGCONT");
    }
  });
});

test("the wall clock set forward: no ack times out, no queued emit expires, no false heartbeat", { timeout: TEST_TIMEOUT }, async (t) => {
  const starting = startSocketIoServer({ pingInterval: 60_000, pingTimeout: 60_000 });
  await suite.withServer(t, starting, async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const drops = e2e.drops(socket);
        const unanswered = e2e.settle(socket.timeout(30_000).emitWithAck("noack"));
        const offline = e2e.lib.io(url, { ...opts, autoConnect: false, maxQueueAge: 20_000 });
        const offlineDrops = e2e.drops(offline);
        offline.emit("note", "queued before the jump");
        const real = Date.now;
        Date.now = () => real() + 40_000;
        // After the jump, each client's timer fires (a short ack timeout): every deadline
        // due by then is handled, and only the short one may be.
        const echo = await e2e.within(socket.emitWithAck("echo", "after"), 5000, "an ack after the jump");
        const short = await e2e.settle(socket.timeout(300).emitWithAck("noack"));
        const shortOffline = await e2e.settle(offline.timeout(300).emitWithAck("note", "short-lived"));
        offline.connect();
        await e2e.waitFor(() => offline.connected, 5000, "the queued socket to connect");
        const noted = await e2e.within(offline.emitWithAck("note", "after connect"), 5000, "a note");
        const pending = await e2e.orPending(unanswered, 200, "the unanswered ack");
        const timedOut = [short.err?.type, shortOffline.err?.type];
        const state = { echo, noted, pending, timedOut, connected: socket.connected, drops, offlineDrops, log: e2e.logs.main };
        Date.now = real;
        socket.disconnect();
        offline.disconnect();
        return state;
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    assert.equal(result.echo, "after");
    assert.deepEqual(result.timedOut, ["TimeoutError", "TimeoutError"], "the short timeouts fired");
    assert.deepEqual(result.pending, { pending: true }, "the 30 s ack is still waiting");
    assert.equal(result.connected, true, `no false ping timeout:${formatLog(result.log)}`);
    assert.deepEqual(result.offlineDrops, [], "the queued emit did not expire");
    const notes = server.log.filter((e) => e.event === "note").map((e) => e.args[0]);
    assert.deepEqual(notes, ["queued before the jump", "after connect"]);
    ctx.assertNoErrors();
  });
});

test("a frame larger than the limits option is a protocol error, and the client goes on", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("resocket's limits option");
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, { ...opts, limits: { frameBytes: 4096 } });
        const errors = [];
        socket.io.on("error", (err) => errors.push({ message: err.message, type: err.type }));
        const gone = e2e.next(socket, "disconnect", 5000);
        socket.emit("emit-to-me", "big", "x".repeat(10_000));
        const [reason] = await gone;
        await e2e.waitFor(() => socket.connected, 5000, "the reconnection", e2e.logs.main);
        const echo = await e2e.within(socket.emitWithAck("echo", "small"), 5000, "a small ack");
        socket.disconnect();
        return { reason, errors, echo };
      },
      { url, opts: clientOptions({ forceNew: true, reconnectionDelay: 100, randomizationFactor: 0 }) },
    );
    assert.equal(result.reason, "parse error");
    assert.deepEqual(result.errors, [{ message: "frame larger than the client accepts", type: "ParseError" }]);
    assert.equal(result.echo, "small");
    ctx.assertNoErrors();
  });
});

test("onAnyOutgoing hears what goes on the wire: queued emits when sent, dropped ones never", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("resocket's bounded queue (maxQueue)");
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = e2e.lib.io(url, { ...opts, autoConnect: false, maxQueue: 2 });
        const outgoing = [];
        socket.onAnyOutgoing((...args) => outgoing.push(args));
        const drops = e2e.drops(socket);
        for (let n = 1; n <= 5; n += 1) socket.emit("note", n);
        const beforeConnect = outgoing.length;
        socket.connect();
        await e2e.waitFor(() => socket.connected, 5000, "the connection");
        await e2e.within(socket.emitWithAck("note", 6), 5000, "an ack");
        socket.disconnect();
        return { beforeConnect, outgoing, drops };
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    assert.equal(result.beforeConnect, 0, "nothing is reported before it is sent");
    assert.deepEqual(result.drops.map(([reason, data]) => [reason, data]), [
      ["overflow", ["note", 1]],
      ["overflow", ["note", 2]],
      ["overflow", ["note", 3]],
    ]);
    // socket.io-client passes the ack callback along; only the arguments are compared.
    assert.deepEqual(result.outgoing.map((args) => args.slice(0, 2)), [["note", 4], ["note", 5], ["note", 6]]);
    const notes = server.log.filter((e) => e.event === "note").map((e) => e.args[0]);
    assert.deepEqual(notes, [4, 5, 6]);
    ctx.assertNoErrors();
  });
});

test("an emit larger than the server's maxHttpBufferSize is dropped and reported, the connection stays", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("socket.io-client sends it and the server closes the connection");
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const drops = e2e.drops(socket);
        // socket.io's default maxHttpBufferSize is 1e6 bytes.
        const big = await e2e.settle(socket.emitWithAck("note", "x".repeat(1_500_000)));
        const small = await e2e.within(socket.emitWithAck("note", "small"), 5000, "a small ack");
        const state = { big, small, drops: drops.map(([reason, data]) => [reason, data[0], data[1].length]), connected: socket.connected, log: [...e2e.logs.main] };
        socket.disconnect();
        return state;
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    assert.equal(result.big.err?.type, "DroppedError");
    assert.deepEqual(result.drops, [["too-large", "note", 1_500_000]]);
    assert.equal(result.small, "noted");
    assert.equal(result.connected, true, `no disconnect:${formatLog(result.log)}`);
    const notes = server.log.filter((e) => e.event === "note").map((e) => e.args[0]);
    assert.deepEqual(notes, ["small"]);
    ctx.assertNoErrors();
  });
});

test("time the monotonic clock missed (a sleep) counts toward the heartbeat: noticed within seconds", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("resocket's monotonic clock");
  const starting = startSocketIoServer({ pingInterval: 1000, pingTimeout: 1000 });
  await suite.withServer(t, starting, async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        // What a machine waking from a 10 s sleep looks like to the page: the wall clock
        // went 10 s further than performance.now().
        const real = Date.now;
        const started = performance.now();
        Date.now = () => real() + 10_000;
        const [reason] = await e2e.next(socket, "disconnect", 10_000);
        const afterMs = performance.now() - started;
        await e2e.waitFor(() => socket.connected, 5000, "the reconnection", e2e.logs.main);
        Date.now = real;
        socket.disconnect();
        return { reason, afterMs };
      },
      { url, opts: clientOptions({ forceNew: true, reconnectionDelay: 100, randomizationFactor: 0 }) },
    );
    assert.equal(result.reason, "ping timeout");
    // The driver compares the clocks at least every 5 s while connected.
    assert.ok(result.afterMs < 7000, `noticed after ${Math.round(result.afterMs)} ms`);
    ctx.assertNoErrors();
  });
});
