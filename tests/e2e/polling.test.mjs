// Engine.IO HTTP long-polling and the polling -> WebSocket upgrade, against the real
// socket.io 4.8 server (./support/server.mjs), with the same page code on both clients
// (socket.io-client 4.8.4 with RESOCKET_E2E_CLIENT=socket.io-client, see
// ./support/static.mjs):
//   - polling only (client and server): acks, events, binary both ways, no upgrade;
//   - default options: the session opens on polling and upgrades to WebSocket
//     (`socket.io.engine.transport.name`, the engine's "upgrade" event, the server's
//     upgrade), and numbered emits and a server stream crossing the upgrade all arrive,
//     in order, once;
//   - behind a proxy that refuses WebSocket: the session stays on polling and works,
//     and reconnects after the server drops it; `tryAllTransports` falls back to it;
//   - an upgrade cut at each step of its probe (./support/http-proxy.mjs): the session
//     goes on over polling, nothing lost or doubled;
//   - `extraHeaders` on every polling request (a server middleware checks it), a query
//     token refreshed in `reconnect_attempt`, Blob and File arguments (base64 in
//     polling payloads), `withCredentials` and a server cookie across origins,
//     `upgrade: false`, `rememberUpgrade`, `timestampRequests` / `timestampParam`, and
//     `requestTimeout` on a stalled request.
// The server's request log (--log-requests) shows what went over the wire.
import { test } from "node:test";
import assert from "node:assert/strict";

import { e2eSuite } from "./support/browser.mjs";
import { lifecycle } from "./support/events.mjs";
import { startHttpProxy } from "./support/http-proxy.mjs";
import { startSocketIoServer } from "./support/processes.mjs";
import { analyzeStream, formatStreamReport } from "./support/sequence.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;

// Answers a browser reports as console errors when a polling request fails: a poll
// still under way when its session closes (a disconnect, a drop) gets a 400, a refused
// WebSocket handshake a 403. Expected in these tests.
const HTTP_NOISE = [/the server responded with a status of (400|403)/, /net::ERR_(ABORTED|FAILED|TIMED_OUT)/];

const POLLING = { transports: ["polling"] };

/** The server's request lines (no CORS preflights), optionally those with `params`. */
function requests(server, params = {}) {
  return server.log.filter(
    (e) => e.event === "request" && e.method !== "OPTIONS" && Object.entries(params).every(([k, v]) => e.params[k] === v),
  );
}

const connections = (server) => server.log.filter((e) => e.event === "connection");
const upgrades = (server) => server.log.filter((e) => e.event === "upgrade");
const notes = (server, tag) => server.log.filter((e) => e.event === "note" && e.args[0] === tag).map((e) => e.args[1]);

/** Each of 1..count exactly once, in that order. */
function assertOnceInOrder(received, count, what) {
  const expected = Array.from({ length: count }, (_, i) => i + 1);
  if (received.length === count && received.every((n, i) => n === i + 1)) return;
  const seen = new Map();
  for (const n of received) seen.set(n, (seen.get(n) ?? 0) + 1);
  const missing = expected.filter((n) => !seen.has(n));
  const twice = [...seen].filter(([, c]) => c > 1).map(([n]) => n);
  const outOfOrder = received.filter((n, i) => i > 0 && n < received[i - 1]).length;
  assert.fail(
    `${what}: ${received.length} received for ${count} sent; missing ${JSON.stringify(missing.slice(0, 30))}, ` +
      `more than once ${JSON.stringify(twice.slice(0, 30))}, out of order ${outOfOrder}`,
  );
}

/** 1..count each received at least once, first receptions in that order. */
function assertFirstReceptionsInOrder(received, count, what) {
  const firsts = [...new Set(received)];
  const expected = Array.from({ length: count }, (_, i) => i + 1);
  assert.deepEqual(firsts, expected, `${what}: first receptions`);
}

/**
 * A trace with each event reduced to its first argument: socket.io-client hands the
 * recovery offset to listeners as an extra last argument (resocket does not; the
 * chaos test checks that), and these tests look at what was delivered, not at that.
 */
function firstArgs(trace) {
  return trace.map((e) => (e.k === "event" ? { ...e, args: e.args.slice(0, 1) } : e));
}

/**
 * Installs e2e.numbered(socket, tag, { perTick, max }) in the page: emits
 * "note"(tag, n) with an ack callback for n = 1, 2, …, `perTick` per macrotask, from
 * now until stop() or `max`, remembering the transport each went out on. Returns
 * { sent, acked: [n…], failed: [n…] (acks that failed), transports: { name: count },
 * stop() }.
 */
async function installNumbered(page) {
  await page.evaluate(() => {
    e2e.numbered = (socket, tag, { perTick = 2, max = 5000 } = {}) => {
      const state = { sent: 0, acked: [], failed: [], transports: {}, stopped: false };
      state.stop = () => {
        state.stopped = true;
      };
      const tick = () => {
        for (let k = 0; k < perTick && state.sent < max && !state.stopped; k += 1) {
          const n = ++state.sent;
          const on = socket.connected ? (socket.io.engine?.transport?.name ?? "none") : "offline";
          state.transports[on] = (state.transports[on] ?? 0) + 1;
          // With ackTimeout the callback is error-first; without, it gets "noted".
          socket.emit("note", tag, n, (first) => (first instanceof Error ? state.failed : state.acked).push(n));
        }
        if (!state.stopped && state.sent < max) setTimeout(tick, 0);
      };
      tick();
      return state;
    };
  });
}

test("polling only: acks, events and binary both ways, and no upgrade", { timeout: TEST_TIMEOUT }, async (t) => {
  const starting = startSocketIoServer({ transports: ["polling"], logRequests: true });
  await suite.withServer(t, starting, async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const transportAtConnect = socket.io.engine.transport.name;
        const echoed = await e2e.within(socket.emitWithAck("echo", "a", 1, { x: [true, null] }), 5000, "the echo");
        const described = await e2e.within(
          socket.emitWithAck("describe", { ab: Uint8Array.of(1, 2, 3, 255).buffer, u8: Uint8Array.of(0, 128, 255) }, Uint8Array.of(42)),
          5000,
          "the described binaries",
        );
        const binaryEvent = e2e.next(socket, "binary", 5000);
        const binaryAck = await e2e.within(socket.emitWithAck("send-binary"), 5000, "the server's binary ack");
        const [binaryEventPayload] = await binaryEvent;
        const pushed = e2e.next(socket, "pushed", 5000);
        await e2e.within(socket.emitWithAck("emit-to-me", "pushed", "p", 2), 5000, "emit-to-me");
        socket.on("question", (payload, answer) => answer({ got: payload }, Uint8Array.of(7, 7, 7)));
        const asked = await e2e.within(socket.emitWithAck("ask", "q?"), 5000, "the server's question answered");
        // A few more round trips, so that several polling cycles have passed.
        const later = [];
        for (let i = 0; i < 5; i += 1) later.push(await e2e.within(socket.emitWithAck("echo", i), 5000, "a later echo"));

        // A client with default options stays on polling too: the server offers no upgrade.
        const plain = e2e.lib.io(url, { forceNew: true });
        await e2e.waitFor(() => plain.connected, 5000, "the default client");
        const plainEcho = await e2e.within(plain.emitWithAck("echo", "plain"), 5000, "the default client's echo");
        await e2e.sleep(300);
        const plainTransport = plain.io.engine.transport.name;
        plain.disconnect();

        const transportAtEnd = socket.io.engine.transport.name;
        const log = [...e2e.logs.main];
        socket.disconnect();
        return {
          transportAtConnect,
          transportAtEnd,
          echoed,
          described,
          binaryAck: e2e.serialize(binaryAck),
          binaryEvent: e2e.serialize(binaryEventPayload),
          pushed: await pushed,
          asked,
          later,
          plainEcho,
          plainTransport,
          log,
        };
      },
      { url, opts: { ...POLLING, forceNew: true } },
    );

    assert.equal(result.transportAtConnect, "polling");
    assert.equal(result.transportAtEnd, "polling");
    assert.equal(result.plainTransport, "polling", "a default client on a polling-only server");
    assert.deepEqual(result.echoed, "a", "emitWithAck resolves with the first argument");
    const sent = (b) => ({ $bytes: b });
    assert.deepEqual(result.described, [{ ab: sent("010203ff"), u8: sent("0080ff") }, sent("2a")], "bytes the server received");
    const got = (b) => ({ $type: "ArrayBuffer", $bytes: b });
    const fromServer = {
      top: got("000102fdfeff"),
      nested: { deeper: [got(Buffer.from("héllo").toString("hex")), 42, got("")] },
      text: "not binary",
    };
    assert.deepEqual(result.binaryAck, fromServer, "binary in a server ack");
    assert.deepEqual(result.binaryEvent, fromServer, "binary in a server event");
    assert.deepEqual(result.pushed, ["p", 2]);
    assert.deepEqual(result.asked, { answer: [{ got: "q?" }, sent("070707")] }, "the client's ack to a server question");
    assert.deepEqual(result.later, [0, 1, 2, 3, 4]);
    assert.equal(result.plainEcho, "plain");
    assert.deepEqual(lifecycle(result.log), ["connect"], "one connect, no disconnect while in use");

    const conns = connections(server);
    assert.equal(conns.length, 2);
    assert.deepEqual(conns.map((c) => c.transport), ["polling", "polling"], "the server saw polling connections");
    assert.deepEqual(upgrades(server), [], "no upgrade");
    const ws = server.log.filter((e) => e.event === "request" && e.upgrade);
    assert.deepEqual(ws, [], "no WebSocket handshake was even tried");
    const polls = requests(server, { sid: conns[0].connId });
    assert.ok(polls.some((r) => r.method === "POST") && polls.some((r) => r.method === "GET"), "GETs and POSTs carried the session");
    assert.ok(polls.every((r) => r.params.transport === "polling"));
    ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
  });
});

test("default options: polling first, then an upgrade to WebSocket, nothing lost or doubled across it", { timeout: TEST_TIMEOUT }, async (t) => {
  const STREAM_COUNT = 300;
  await suite.withServer(t, startSocketIoServer({ logRequests: true }), async (ctx, { server, url }) => {
    await installNumbered(ctx.page);
    const result = await ctx.page.evaluate(
      async ({ url, streamCount }) => {
        const socket = e2e.lib.io(url, { forceNew: true });
        e2e.sockets.main = socket;
        const log = e2e.record(socket);
        const trace = e2e.trace(socket, "n");
        const seen = { atOpen: null, upgradeArg: null, afterUpgrade: null, sentAtUpgrade: null };
        // Numbered emits from the very start: queued before the connect, sent over
        // polling, during the probe, and over the WebSocket after it.
        const emits = e2e.numbered(socket, "u", { perTick: 2, max: 4000 });
        socket.io.on("open", () => {
          const engine = socket.io.engine;
          seen.atOpen = engine.transport.name;
          engine.on("upgrade", (transport) => {
            seen.upgradeArg = transport?.name ?? null;
            seen.afterUpgrade = engine.transport.name;
            seen.sentAtUpgrade = emits.sent;
          });
        });
        socket.once("connect", () => socket.emit("stream", { every: 5, batch: 2, count: streamCount }));
        await e2e.waitFor(() => seen.sentAtUpgrade !== null, 10_000, "the engine's upgrade event", log);
        await e2e.waitFor(() => emits.sent >= seen.sentAtUpgrade + 200, 10_000, "200 emits after the upgrade");
        emits.stop();
        await e2e.waitFor(() => emits.acked.length >= emits.sent, 10_000, "every ack").catch(() => {});
        await e2e.waitFor(() => e2e.traced("event") >= streamCount, 10_000, "the whole stream").catch(() => {});
        await e2e.sleep(200);
        const out = {
          seen,
          transportAtEnd: socket.io.engine.transport.name,
          sent: emits.sent,
          acked: emits.acked,
          transports: emits.transports,
          streamed: trace.filter((e) => e.k === "event").map((e) => e.args),
          log: [...log],
        };
        socket.disconnect();
        return out;
      },
      { url, streamCount: STREAM_COUNT },
    );

    assert.equal(result.seen.atOpen, "polling", "the session opens on polling");
    assert.equal(result.seen.upgradeArg, "websocket", "the upgrade event's transport");
    assert.equal(result.seen.afterUpgrade, "websocket", "socket.io.engine.transport.name once upgraded");
    assert.equal(result.transportAtEnd, "websocket");
    assert.ok(result.seen.sentAtUpgrade > 0, "emits made before the upgrade");
    assert.ok((result.transports.polling ?? 0) + (result.transports.offline ?? 0) > 0, `emits before the upgrade: ${JSON.stringify(result.transports)}`);
    assert.ok(result.transports.websocket > 0, `emits after the upgrade: ${JSON.stringify(result.transports)}`);
    assert.deepEqual(lifecycle(result.log), ["connect"], "the upgrade is no reconnection");

    assertOnceInOrder(notes(server, "u"), result.sent, "numbered emits at the server");
    assertOnceInOrder(result.acked, result.sent, "their acks in the page");
    assertOnceInOrder(
      result.streamed.map((args) => (args.length === 1 ? args[0] : NaN)),
      STREAM_COUNT,
      "the server's stream in the page",
    );

    const conns = connections(server);
    assert.equal(conns.length, 1);
    assert.equal(conns[0].transport, "polling", "the namespace was joined over polling");
    assert.deepEqual(upgrades(server), [{ event: "upgrade", connId: conns[0].connId, transport: "websocket" }]);
    const handshake = requests(server).find((r) => !r.params.sid);
    assert.equal(handshake?.params.transport, "polling", "the handshake request");
    ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
  });
});

test("behind a proxy that refuses WebSocket: the session stays on polling, works, and reconnects", { timeout: TEST_TIMEOUT }, async (t) => {
  const server = await startSocketIoServer({ logRequests: true });
  const proxy = await startHttpProxy({ target: server.port, upgrade: "refuse" });
  try {
    await suite.withPage(t, async (ctx) => {
      const url = `http://127.0.0.1:${proxy.port}`;
      const first = await ctx.page.evaluate(
        async ({ url, opts }) => {
          const socket = await e2e.open(url, opts);
          const echoed = await e2e.within(socket.emitWithAck("echo", "through"), 5000, "an echo");
          const pushed = e2e.next(socket, "pushed", 5000);
          await e2e.within(socket.emitWithAck("emit-to-me", "pushed", 1), 5000, "emit-to-me");
          return { echoed, pushed: await pushed };
        },
        { url, opts: { forceNew: true, reconnectionDelay: 200, randomizationFactor: 0 } },
      );
      assert.deepEqual(first, { echoed: "through", pushed: [1] });
      // The client did try to upgrade, and was refused.
      await waitUntil(() => proxy.stats.refused >= 1, 5000, "the refused WebSocket handshake");
      await server.waitForLog((log) => connections({ log }).length >= 1, 5000, "the connection");

      server.send({ cmd: "drop-transports" });
      const second = await ctx.page.evaluate(async () => {
        const socket = e2e.sockets.main;
        await e2e.waitForEvent("socket", "connect", 10_000, "the reconnection", { n: 2 });
        const acks = [];
        for (let i = 0; i < 5; i += 1) acks.push(await e2e.within(socket.emitWithAck("echo", i), 5000, "an echo after it"));
        const transport = socket.io.engine.transport.name;
        const log = [...e2e.logs.main];
        socket.disconnect();
        return { acks, transport, log };
      });
      assert.deepEqual(second.acks, [0, 1, 2, 3, 4]);
      assert.equal(second.transport, "polling");
      assert.deepEqual(lifecycle(second.log).slice(0, 3), ["connect", "disconnect(transport close)", "reconnect_attempt(1)"]);
      assert.equal(lifecycle(second.log).filter((e) => e === "connect").length, 2);
      assert.ok(proxy.stats.refused >= 2, `each session tried its upgrade: ${JSON.stringify(proxy.stats)}`);
      assert.equal(proxy.stats.forwarded, 0, "no WebSocket reached the server");
      assert.deepEqual(connections(server).map((c) => c.transport), ["polling", "polling"]);
      assert.deepEqual(upgrades(server), []);
      ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
    });
  } finally {
    await proxy.close();
    await server.stop();
  }
});

test("tryAllTransports: WebSocket first, refused, and the same attempt goes on over polling", { timeout: TEST_TIMEOUT }, async (t) => {
  const server = await startSocketIoServer({ logRequests: true });
  const proxy = await startHttpProxy({ target: server.port, upgrade: "refuse" });
  try {
    await suite.withPage(t, async (ctx) => {
      const url = `http://127.0.0.1:${proxy.port}`;
      const result = await ctx.page.evaluate(
        async ({ url }) => {
          const opts = { forceNew: true, transports: ["websocket", "polling"], reconnectionDelay: 200, randomizationFactor: 0 };
          // Without it, a refused WebSocket is a failed attempt.
          const strict = e2e.lib.io(url, opts);
          const [strictError] = await e2e.next(strict, "connect_error", 5000);
          strict.disconnect();

          const socket = await e2e.open(url, { ...opts, tryAllTransports: true });
          const echoed = await e2e.within(socket.emitWithAck("echo", "fallback"), 5000, "an echo");
          const transport = socket.io.engine.transport.name;
          const log = [...e2e.logs.main];
          socket.disconnect();
          return { strictError: e2e.serialize(strictError), echoed, transport, log };
        },
        { url },
      );
      assert.equal(result.strictError.$type, "Error", "connect_error without tryAllTransports");
      assert.equal(result.echoed, "fallback");
      assert.equal(result.transport, "polling");
      assert.deepEqual(lifecycle(result.log), ["connect"], "the fallback is part of the first attempt");
      assert.deepEqual(connections(server).map((c) => c.transport), ["polling"]);
      assert.ok(proxy.stats.refused >= 2, `both clients tried WebSocket first: ${JSON.stringify(proxy.stats)}`);
      ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
    });
  } finally {
    await proxy.close();
    await server.stop();
  }
});

// Each step of the probe: the WebSocket opens and dies before any frame, or the client's
// probe reaches the server and the answer never comes back. The probe is let through
// once the session is busy on polling, so that it breaks in the middle of the traffic.
const CUTS = [
  { name: "right after the 101 answer", cutAfter: { from: "server", frames: 0 } },
  { name: "after the client's probe reached the server", cutAfter: { from: "client", frames: 1 } },
];

for (const cut of CUTS) {
  test(`an upgrade cut ${cut.name}: the session goes on over polling, nothing lost or doubled`, { timeout: TEST_TIMEOUT }, async (t) => {
    const server = await startSocketIoServer({ logRequests: true });
    let release;
    const released = new Promise((resolve) => {
      release = resolve;
    });
    const proxy = await startHttpProxy({ target: server.port, upgrade: { after: released, cutAfter: cut.cutAfter } });
    try {
      await suite.withPage(t, async (ctx) => {
        await installNumbered(ctx.page);
        const url = `http://127.0.0.1:${proxy.port}`;
        await ctx.page.evaluate(
          async ({ url }) => {
            const socket = e2e.lib.io(url, { forceNew: true, reconnectionDelay: 200, randomizationFactor: 0 });
            e2e.sockets.main = socket;
            e2e.record(socket);
            e2e.emits = e2e.numbered(socket, "c", { perTick: 2, max: 4000 });
            await e2e.waitFor(() => e2e.emits.acked.length >= 50, 5000, "the first acks", e2e.logs.main);
          },
          { url },
        );
        release();
        await waitUntil(() => proxy.stats.cut >= 1, 10_000, "the cut probe");
        const result = await ctx.page.evaluate(async () => {
          const socket = e2e.sockets.main;
          const emits = e2e.emits;
          const atCut = emits.sent;
          await e2e.waitFor(() => emits.sent >= atCut + 300, 10_000, "300 emits after the cut");
          emits.stop();
          await e2e.waitFor(() => emits.acked.length >= emits.sent, 10_000, "every ack").catch(() => {});
          const echoed = await e2e.within(socket.emitWithAck("echo", "still here"), 5000, "an echo at the end").catch((err) => String(err));
          const out = {
            sent: emits.sent,
            acked: emits.acked,
            transports: emits.transports,
            transport: socket.io.engine.transport.name,
            echoed,
            log: [...e2e.logs.main],
          };
          socket.disconnect();
          return out;
        });
        console.log(`${cut.name}: ${result.sent} emits ${JSON.stringify(result.transports)}; proxy ${JSON.stringify(proxy.stats)}`);
        assert.deepEqual(lifecycle(result.log), ["connect"], "the broken upgrade cost no disconnect");
        assert.equal(result.echoed, "still here");
        assert.equal(result.transport, "polling");
        assertOnceInOrder(notes(server, "c"), result.sent, "numbered emits at the server");
        assertOnceInOrder(result.acked, result.sent, "their acks in the page");
        assert.deepEqual(upgrades(server), [], "the server completed no upgrade");
        assert.deepEqual(connections(server).map((c) => c.transport), ["polling"]);
        ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
      });
    } finally {
      release();
      await proxy.close();
      await server.stop();
    }
  });
}

// The probe answer reached the client, then the WebSocket died while polling was being
// paused for the switch. The server never got the upgrade packet: its session is still
// on polling. A client that resumes polling keeps its session: nothing lost, nothing
// doubled, no disconnect. socket.io-client leaves polling paused instead, and the
// session stalls until a ping timeout; it then reconnects, and almost always recovers
// the session (rarely not, and then says so: recovered === false). That is accepted
// too, with what it implies: client emits are at-least-once (retries), so one in flight
// at the stall may arrive twice, and streamed events may be missing only where the app
// was told that the session was lost. The server streams numbered events (which also
// gives the session an offset to recover from), and the pings are short.
test("an upgrade cut after the probe answer reached the client: the session survives, nothing lost or doubled", { timeout: TEST_TIMEOUT }, async (t) => {
  const COUNT = 150;
  const STREAM_COUNT = 200;
  const server = await startSocketIoServer({ logRequests: true, recovery: true, pingInterval: 1000, pingTimeout: 1500 });
  let release;
  const released = new Promise((resolve) => {
    release = resolve;
  });
  // Only the first probe is cut, once the session has received events: a stalled
  // session comes back recovered, and may upgrade then.
  const upgrade = (n) => (n === 1 ? { after: released, cutAfter: { from: "server", frames: 1 } } : "forward");
  const proxy = await startHttpProxy({ target: server.port, upgrade });
  try {
    await suite.withPage(t, async (ctx) => {
      await installNumbered(ctx.page);
      const url = `http://127.0.0.1:${proxy.port}`;
      await ctx.page.evaluate(
        async ({ url, count }) => {
          const opts = { forceNew: true, reconnectionDelay: 1000, randomizationFactor: 0, retries: 5, ackTimeout: 4000 };
          const socket = e2e.lib.io(url, opts);
          e2e.sockets.main = socket;
          e2e.record(socket);
          e2e.trace(socket, "n");
          e2e.emits = e2e.numbered(socket, "c", { perTick: 1, max: count });
          await e2e.waitFor(() => socket.connected, 5000, "the connect", e2e.logs.main);
        },
        { url, count: COUNT },
      );
      // The stream starts once the server has the socket, so that it gets every number.
      await server.waitForLog((log) => connections({ log }).length >= 1, 5000, "the connection");
      server.send({ cmd: "stream", every: 20, batch: 1, count: STREAM_COUNT });
      await ctx.page.evaluate(() => e2e.waitFor(() => e2e.traced("event") >= 5, 10_000, "the first streamed events", e2e.logs.main));
      release();
      await waitUntil(() => proxy.stats.cut >= 1, 10_000, "the cut probe");
      const result = await ctx.page.evaluate(
        async ({ count, streamCount }) => {
          const socket = e2e.sockets.main;
          const emits = e2e.emits;
          const trace = e2e.traces.main;
          await e2e.waitFor(() => emits.acked.length + emits.failed.length >= count, 30_000, "every ack", e2e.logs.main).catch(() => {});
          await e2e.waitFor(() => e2e.traced("event") >= streamCount, 15_000, "the whole stream").catch(() => {});
          const echoed = await e2e.within(socket.emitWithAck("echo", "still here"), 10_000, "an echo at the end").catch((err) => String(err));
          await e2e.sleep(100);
          const out = { acked: emits.acked, failed: emits.failed, echoed, trace: [...trace], log: [...e2e.logs.main] };
          socket.disconnect();
          return out;
        },
        { count: COUNT, streamCount: STREAM_COUNT },
      );
      const stream = analyzeStream(firstArgs(result.trace), { lastSent: STREAM_COUNT });
      const steps = lifecycle(result.log);
      const noted = notes(server, "c");
      console.log(`probe answer cut: ${steps.join(" ")}; ${noted.length} notes; proxy ${JSON.stringify(proxy.stats)}`);
      console.log(formatStreamReport("  server -> client", stream));
      const sessions = server.log.filter((e) => e.event === "connection" || e.event === "disconnect");
      if (sessions.length > 2) console.log(`  server: ${JSON.stringify(sessions)}`);
      assert.equal(result.echoed, "still here");
      assert.deepEqual(result.failed, [], "emits given up");
      assertOnceInOrder(result.acked, COUNT, "their acks in the page");
      assert.equal(stream.first, 1);
      assert.deepEqual(stream.badArgs, []);
      assert.equal(stream.lostInRecovered, 0, `streamed events lost: ${JSON.stringify(stream.lossesInRecovered)}`);
      assert.equal(stream.dupInRecovered, 0, `streamed events doubled: ${JSON.stringify(stream.dupsInRecovered)}`);
      assert.equal(stream.dupAcrossFresh, 0, "streamed events doubled across sessions");
      assert.equal(stream.tailLost, 0, "the end of the stream arrived");
      if (steps.some((step) => step.startsWith("disconnect"))) {
        // The stalled session: an emit in flight when it was given up is sent again.
        assertFirstReceptionsInOrder(noted, COUNT, "numbered emits at the server");
        assert.ok(steps.filter((step) => step.startsWith("disconnect")).length <= 1, "one stall, one reconnection");
      } else {
        assertOnceInOrder(noted, COUNT, "numbered emits at the server");
        assert.equal(stream.connects, 1);
        assert.equal(stream.gapAtFresh, 0);
        assert.equal(connections(server).length, 1, "the server saw one session");
      }
      ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
    });
  } finally {
    release();
    await proxy.close();
    await server.stop();
  }
});

test("extraHeaders go with every polling request; a middleware that requires one lets in only the client sending it", { timeout: TEST_TIMEOUT }, async (t) => {
  const starting = startSocketIoServer({ requireHeader: "authorization:Bearer t0k", logRequests: true });
  await suite.withServer(t, starting, async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, { ...opts, query: { who: "with" }, extraHeaders: { authorization: "Bearer t0k" } });
        const acks = [];
        for (let i = 0; i < 5; i += 1) acks.push(await e2e.within(socket.emitWithAck("echo", i), 5000, "an echo"));
        const log = [...e2e.logs.main];
        socket.disconnect();

        const refused = e2e.lib.io(url, { ...opts, query: { who: "without" } });
        const [error] = await e2e.next(refused, "connect_error", 5000);
        await e2e.sleep(300);
        const refusedConnected = refused.connected;
        refused.disconnect();
        return { acks, log, error: e2e.serialize(error), refusedConnected };
      },
      { url, opts: { ...POLLING, forceNew: true } },
    );
    assert.deepEqual(result.acks, [0, 1, 2, 3, 4]);
    assert.deepEqual(lifecycle(result.log), ["connect"]);
    assert.equal(result.error.message, "missing header");
    assert.deepEqual(result.error.data, { code: 401 });
    assert.equal(result.refusedConnected, false);
    assert.deepEqual(server.log.filter((e) => e.event === "refused-header").map((e) => e.header), ["authorization"]);
    assert.equal(connections(server).length, 1);

    const sent = requests(server, { who: "with" });
    assert.ok(sent.length >= 4, `a handshake and several polling requests: ${sent.length}`);
    assert.ok(sent.some((r) => r.method === "POST") && sent.some((r) => r.method === "GET" && r.params.sid));
    assert.deepEqual(
      sent.filter((r) => r.authorization !== "Bearer t0k").map((r) => `${r.method} ${JSON.stringify(r.params)}`),
      [],
      "requests without the header",
    );
    assert.ok(sent.every((r) => r.params.transport === "polling"));
    assert.deepEqual(requests(server, { who: "without" }).filter((r) => r.authorization !== null), []);
    ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
  });
});

test("polling: a query token changed in reconnect_attempt is sent with that attempt's requests", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer({ logRequests: true }), async (ctx, { server, url }) => {
    await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, { ...opts, query: { token: "stale" } });
        socket.io.on("reconnect_attempt", () => {
          socket.io.opts.query.token = "fresh";
        });
        await e2e.within(socket.emitWithAck("echo", 1), 5000, "an echo");
        const again = e2e.next(socket, "connect", 5000);
        socket.io.engine.close();
        await again;
        await e2e.within(socket.emitWithAck("echo", 2), 5000, "an echo after the reconnection");
        socket.disconnect();
      },
      { url, opts: { ...POLLING, forceNew: true, reconnectionDelay: 100, randomizationFactor: 0 } },
    );
    await server.waitForLog((log) => connections({ log }).length >= 2, 5000, "the second connection");
    assert.deepEqual(connections(server).map((c) => c.queryToken), ["stale", "fresh"]);
    const second = connections(server)[1].connId;
    const ofSecond = requests(server, { sid: second });
    assert.ok(ofSecond.length >= 2, "the second session made requests");
    assert.deepEqual(ofSecond.filter((r) => r.params.token !== "fresh"), [], "each request of the new session carries the fresh token");
    const handshakes = requests(server).filter((r) => !r.params.sid);
    assert.deepEqual(handshakes.map((r) => r.params.token), ["stale", "fresh"]);
    ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
  });
});

test("polling: Blob and File arguments arrive with their exact bytes, in order with the emits around them", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer({ transports: ["polling"] }), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        // Every byte value, several times over: base64 in a polling payload must carry
        // them all, whatever their position in a 3-byte group.
        const big = new Uint8Array(40_001);
        for (let i = 0; i < big.length; i += 1) big[i] = (i * 7 + (i >> 8)) & 0xff;
        const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
        socket.emit("note", "before");
        socket.emit("note", new Blob([new Uint8Array([1, 2, 3])]));
        socket.emit("note", "between");
        socket.emit("note", { file: new File(["hé"], "a.txt"), n: 1 });
        socket.emit("note", "after");
        const described = await e2e.within(
          socket.emitWithAck("describe", new Blob(["xyz"]), { f: new File([big], "big.bin") }, new Blob([])),
          10_000,
          "the described Blob and File",
        );
        const transport = socket.io.engine.transport.name;
        socket.disconnect();
        return { described, bigHex: hex(big), transport };
      },
      { url, opts: { ...POLLING, forceNew: true } },
    );
    assert.equal(result.transport, "polling");
    assert.deepEqual(result.described, [{ $bytes: "78797a" }, { f: { $bytes: result.bigHex } }, { $bytes: "" }]);
    const noted = server.log.filter((e) => e.event === "note").map((e) => e.args[0]);
    assert.deepEqual(noted, [
      "before",
      { type: "Buffer", data: [1, 2, 3] },
      "between",
      { file: { type: "Buffer", data: [104, 195, 169] }, n: 1 },
      "after",
    ]);
    ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
  });
});

test("withCredentials: across origins, the server's cookie goes back on polling requests only when it is true", { timeout: TEST_TIMEOUT }, async (t) => {
  // The page's origin (the static server) is not the Socket.IO server's: another port.
  const starting = startSocketIoServer({ cookie: "e2e_sid", corsOrigin: suite.url, corsCredentials: true, logRequests: true });
  await suite.withServer(t, starting, async (ctx, { server, url }) => {
    try {
      const result = await ctx.page.evaluate(
        async ({ url, opts }) => {
          const run = async (who, withCredentials) => {
            const socket = e2e.lib.io(url, { ...opts, query: { who }, withCredentials });
            await e2e.waitFor(() => socket.connected, 5000, `${who}: the connection`);
            const acks = [];
            for (let i = 0; i < 3; i += 1) acks.push(await e2e.within(socket.emitWithAck("echo", i), 5000, `${who}: an echo`));
            socket.disconnect();
            return acks;
          };
          // Without credentials first (nothing stored yet), then with them (the cookie is
          // stored and sent), then without them again (stored, but still not sent).
          return { before: await run("before", false), cred: await run("cred", true), after: await run("after", false) };
        },
        { url, opts: { ...POLLING, forceNew: true } },
      );
      assert.deepEqual(result, { before: [0, 1, 2], cred: [0, 1, 2], after: [0, 1, 2] });
      assert.notEqual(new URL(suite.url).origin, new URL(url).origin, "the page and the server are on different origins");

      const cred = requests(server, { who: "cred" });
      const sid = connections(server)[1].connId;
      const later = cred.filter((r) => r.params.sid === sid);
      assert.ok(later.length >= 3, `the credentialed session's polling requests: ${later.length}`);
      assert.deepEqual(
        later.filter((r) => !(r.cookie ?? "").split(/;\s*/).includes(`e2e_sid=${sid}`)).map((r) => `${r.method} ${r.cookie}`),
        [],
        "credentialed requests without the session's cookie",
      );
      assert.ok(cred.every((r) => r.origin === suite.url), "the page's origin on each request");
      for (const who of ["before", "after"]) {
        const plain = requests(server, { who });
        assert.ok(plain.length >= 3, `${who}: requests seen`);
        assert.deepEqual(plain.filter((r) => r.cookie !== null).map((r) => r.cookie), [], `${who}: no cookie without withCredentials`);
      }
      ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
    } finally {
      // The browser is shared by this file's tests: leave no cookie behind.
      await ctx.page.context().clearCookies();
    }
  });
});

test("upgrade: false keeps a session on polling, even when the server offers WebSocket", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer({ logRequests: true }), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url }) => {
        const socket = await e2e.open(url, { forceNew: true, upgrade: false });
        const acks = [];
        for (let i = 0; i < 10; i += 1) acks.push(await e2e.within(socket.emitWithAck("echo", i), 5000, "an echo"));
        const transport = socket.io.engine.transport.name;
        socket.disconnect();
        return { acks, transport };
      },
      { url },
    );
    assert.equal(result.acks.length, 10);
    assert.equal(result.transport, "polling");
    assert.deepEqual(server.log.filter((e) => e.event === "request" && e.upgrade), [], "no WebSocket handshake");
    assert.deepEqual(upgrades(server), []);
    ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
  });
});

test("rememberUpgrade: after an upgrade, the next connection opens on WebSocket; without it, on polling again", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer({ logRequests: true }), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url }) => {
        const run = async (who, rememberUpgrade) => {
          const socket = e2e.lib.io(url, { forceNew: true, rememberUpgrade, query: { who }, reconnectionDelay: 100, randomizationFactor: 0 });
          await e2e.waitFor(() => socket.connected, 5000, `${who}: the connection`);
          await e2e.waitFor(() => socket.io.engine.transport.name === "websocket", 5000, `${who}: the upgrade`);
          const again = e2e.next(socket, "connect", 5000);
          socket.io.engine.close();
          await again;
          const reopenedOn = socket.io.engine.transport.name;
          const echoed = await e2e.within(socket.emitWithAck("echo", who), 5000, `${who}: an echo`);
          socket.disconnect();
          return { reopenedOn, echoed };
        };
        // The remembering client first: whether a client that does not remember sees
        // another one's success is no part of this test.
        return { remember: await run("remember", true), plain: await run("plain", false) };
      },
      { url },
    );
    assert.equal(result.remember.echoed, "remember");
    assert.equal(result.plain.echoed, "plain");
    assert.equal(result.remember.reopenedOn, "websocket");
    const connectedOn = (who) => {
      const handshakes = server.log.filter((e) => e.event === "request" && e.method !== "OPTIONS" && e.params.who === who && !e.params.sid);
      return handshakes.map((r) => r.params.transport);
    };
    assert.deepEqual(connectedOn("remember"), ["polling", "websocket"], "the remembering client's handshakes");
    assert.deepEqual(connectedOn("plain"), ["polling", "polling"], "the other client's handshakes");
    assert.deepEqual(connections(server).map((c) => c.transport), ["polling", "websocket", "polling", "polling"]);
    ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
  });
});

test("timestampParam names the cache-busting parameter, different on every request; timestampRequests: false drops it", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer({ logRequests: true }), async (ctx, { server, url }) => {
    await ctx.page.evaluate(
      async ({ url, opts }) => {
        const run = async (who, extra) => {
          const socket = e2e.lib.io(url, { ...opts, ...extra, query: { who } });
          await e2e.waitFor(() => socket.connected, 5000, `${who}: the connection`);
          for (let i = 0; i < 3; i += 1) await e2e.within(socket.emitWithAck("echo", i), 5000, `${who}: an echo`);
          socket.disconnect();
        };
        await run("named", { timestampParam: "ts" });
        await run("none", { timestampRequests: false });
      },
      { url, opts: { ...POLLING, forceNew: true } },
    );
    const named = requests(server, { who: "named" });
    assert.ok(named.length >= 4, `requests: ${named.length}`);
    assert.deepEqual(named.filter((r) => typeof r.params.ts !== "string" || r.params.ts === "" || "t" in r.params), [], "each request has ts, none has t");
    assert.equal(new Set(named.map((r) => r.params.ts)).size, named.length, "a new value on each request");
    const none = requests(server, { who: "none" });
    assert.ok(none.length >= 4, `requests: ${none.length}`);
    assert.deepEqual(none.filter((r) => "t" in r.params || "ts" in r.params), [], "no timestamp parameter");
    ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
  });
});

test("requestTimeout: a polling request that gets no answer fails the transport, and the client reconnects", { timeout: TEST_TIMEOUT }, async (t) => {
  // Pings every second keep the long-polls short; the ping timeout is far beyond the
  // request timeout, so only the latter can end the stalled session.
  const server = await startSocketIoServer({ logRequests: true, pingInterval: 1000, pingTimeout: 8000 });
  const proxy = await startHttpProxy({ target: server.port, upgrade: "refuse" });
  try {
    await suite.withPage(t, async (ctx) => {
      const url = `http://127.0.0.1:${proxy.port}`;
      await ctx.page.evaluate(
        async ({ url, opts }) => {
          const socket = await e2e.open(url, opts);
          await e2e.within(socket.emitWithAck("echo", "before"), 5000, "an echo");
        },
        { url, opts: { ...POLLING, forceNew: true, requestTimeout: 2500, reconnectionDelay: 200, randomizationFactor: 0 } },
      );
      proxy.setHold(({ method }) => method === "POST");
      const reason = await ctx.page.evaluate(async () => {
        const socket = e2e.sockets.main;
        const gone = e2e.next(socket, "disconnect", 15_000);
        socket.emit("note", "stalled");
        return (await gone)[0];
      });
      proxy.setHold(null);
      const after = await ctx.page.evaluate(async () => {
        const socket = e2e.sockets.main;
        await e2e.waitForEvent("socket", "connect", 10_000, "the reconnection", { n: 2 });
        const echoed = await e2e.within(socket.emitWithAck("echo", "after"), 5000, "an echo after it");
        socket.disconnect();
        return echoed;
      });
      assert.equal(reason, "transport error", "the request timed out (the server's ping timeout is much later)");
      assert.ok(proxy.stats.held >= 1, "a POST was held");
      assert.equal(after, "after");
      assert.equal(connections(server).length, 2);
      ctx.assertNoErrors({ allowConsole: HTTP_NOISE });
    });
  } finally {
    await proxy.close();
    await server.stop();
  }
});

/** Polls `pred()` in Node until true; rejects after `ms`. */
async function waitUntil(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
