// socket.io-client code that must run unchanged (the same code runs on socket.io-client
// 4.8.4 with RESOCKET_E2E_CLIENT=socket.io-client, see ./support/static.mjs):
//   - a volatile emit with an ack callback asks for the ack, and the callback runs;
//   - `socket.sendBuffer = []` drops what waits for a connection;
//   - `extraHeaders` is accepted (on a WebSocket, ignored by both clients);
//   - a Manager opens its connection without a socket (autoConnect, or open(cb)), and
//     disconnect() closes it for good;
//   - Blob and File arguments are sent, in order;
//   - the query is read again for every connection (a token refreshed in
//     `reconnect_attempt` is sent with that attempt);
//   - events of a call made by a listener are delivered before the call returns
//     (disconnect() in a connect listener), so the reopen of a cached socket stops.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { startSocketIoServer } from "./support/processes.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;

test("socket.volatile.emit with an ack callback gets its answer", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const answer = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const answer = await e2e.within(new Promise((resolve) => socket.volatile.emit("echo", "v", resolve)), 5000, "the volatile emit's ack");
        socket.disconnect();
        return answer;
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    assert.equal(answer, "v");
    ctx.assertNoErrors();
  });
});

test("socket.sendBuffer = [] drops the emits waiting for a connection", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = e2e.lib.io(url, { ...opts, autoConnect: false });
        socket.emit("note", "dropped-1");
        socket.emit("note", "dropped-2");
        const before = socket.sendBuffer.length;
        socket.sendBuffer = [];
        const after = socket.sendBuffer.length;
        socket.connect();
        await e2e.waitFor(() => socket.connected, 5000, "the connection");
        const noted = await e2e.within(socket.emitWithAck("note", "kept"), 5000, "an ack");
        socket.disconnect();
        return { before, after, noted };
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    assert.deepEqual(result, { before: 2, after: 0, noted: "noted" });
    const notes = server.log.filter((e) => e.event === "note").map((e) => e.args[0]);
    assert.deepEqual(notes, ["kept"]);
    ctx.assertNoErrors();
  });
});

test("extraHeaders is accepted on a WebSocket connection", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const echo = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, { ...opts, extraHeaders: { authorization: "Bearer x" } });
        const echo = await e2e.within(socket.emitWithAck("echo", "ok"), 5000, "an ack");
        socket.disconnect();
        return echo;
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    assert.equal(echo, "ok");
    ctx.assertNoErrors();
  });
});

test("a Manager opens its connection without any socket: at once with autoConnect, or on open(cb)", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const auto = new e2e.lib.Manager(url, opts);
        await e2e.within(new Promise((resolve) => auto.once("open", resolve)), 5000, "the auto-connected Manager's open");
        auto.disconnect();
        const closedAfter = await e2e.orPending(new Promise((resolve) => auto.once("open", resolve)), 500, "no new open");

        const later = new e2e.lib.Manager(url, { ...opts, autoConnect: false });
        const opened = await e2e.within(new Promise((resolve) => later.open((err) => resolve(err ?? "opened"))), 5000, "open(cb)");
        const socket = later.socket("/").connect();
        await e2e.waitFor(() => socket.connected, 5000, "a socket on the opened Manager");
        socket.disconnect();
        return { closedAfter, opened };
      },
      { url, opts: clientOptions({ reconnectionDelay: 100, randomizationFactor: 0 }) },
    );
    assert.deepEqual(result.closedAfter, { pending: true }, "disconnect() closed it for good");
    assert.equal(result.opened, "opened");
    ctx.assertNoErrors();
  });
});

test("Blob and File arguments are sent, in order with the emits around them", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const described = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        socket.emit("note", "before");
        socket.emit("note", new Blob([new Uint8Array([1, 2, 3])]));
        socket.emit("note", "between");
        socket.emit("note", { file: new File(["hé"], "a.txt"), n: 1 });
        const described = await e2e.within(socket.emitWithAck("describe", new Blob(["xyz"])), 5000, "the described Blob");
        socket.disconnect();
        return described;
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    assert.deepEqual(described, [{ $bytes: "78797a" }]);
    const notes = server.log.filter((e) => e.event === "note").map((e) => e.args[0]);
    assert.deepEqual(notes, ["before", { type: "Buffer", data: [1, 2, 3] }, "between", { file: { type: "Buffer", data: [104, 195, 169] }, n: 1 }]);
    ctx.assertNoErrors();
  });
});

test("a query token changed in reconnect_attempt is sent with that attempt", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, { ...opts, query: { token: "first" } });
        socket.io.on("reconnect_attempt", () => {
          socket.io.opts.query.token = "refreshed";
        });
        const again = e2e.next(socket, "connect", 5000);
        socket.io.engine.close();
        await again;
        socket.disconnect();
      },
      { url, opts: clientOptions({ forceNew: true, reconnectionDelay: 100, randomizationFactor: 0 }) },
    );
    // The server reports a connection after its CONNECT reply: wait for the second.
    await server.waitForLog((log) => log.filter((e) => e.event === "connection").length >= 2, 5000, "the second connection");
    const tokens = server.log.filter((e) => e.event === "connection").map((e) => e.queryToken);
    assert.deepEqual(tokens, ["first", "refreshed"]);
    ctx.assertNoErrors();
  });
});

test("disconnect() in a connect listener fires disconnect before it returns; a cached socket reopened then stops", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const order = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const order = [];
        const manager = new e2e.lib.Manager(url, opts);
        const socket = manager.socket("/");
        socket.on("connect", () => {
          order.push("connect");
          socket.disconnect();
          order.push("disconnect() returned");
        });
        const second = new Promise((resolve) => {
          socket.once("disconnect", () => {
            order.push("disconnect");
            // socket.io-client's own suite ("should reopen a cached socket"): the cached
            // socket, reopened, connects once more; its listener then disconnects it.
            const again = manager.socket("/");
            order.push(again === socket && again.active ? "reopened" : "not reopened");
            again.on("connect", () => {
              again.disconnect();
              resolve();
            });
          });
        });
        await e2e.within(second, 5000, "the second connect");
        // Long enough for a loop of reconnections to show.
        await e2e.sleep(1000);
        return order;
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    assert.deepEqual(order.slice(0, 4), ["connect", "disconnect", "reopened", "disconnect() returned"]);
    const connections = server.log.filter((e) => e.event === "connection").length;
    assert.equal(connections, 2, "two connections, then it stops");
    ctx.assertNoErrors();
  });
});

test("packets: the engine's packet, packetCreate and drain events, and the Manager's packet event", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const seen = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const seen = { created: [], received: [], managed: [], drains: 0 };
        const engine = socket.io.engine;
        engine.on("packetCreate", ({ type, data, options }) => seen.created.push({ type, data, compress: options?.compress }));
        engine.on("packet", ({ type, data }) => seen.received.push({ type, data }));
        engine.on("drain", () => (seen.drains += 1));
        socket.io.on("packet", (p) => seen.managed.push(p));
        // A plain callback: socket.io-client's emitWithAck puts an error slot into the
        // packet it has already handed to "packet" listeners.
        const answer = await e2e.within(new Promise((resolve) => socket.emit("echo", "p", resolve)), 5000, "an echo");
        socket.disconnect();
        return { ...seen, answer };
      },
      { url, opts: clientOptions({ forceNew: true }) },
    );
    assert.equal(seen.answer, "p");
    assert.deepEqual(seen.created, [
      { type: "message", data: '20["echo","p"]', compress: true },
      { type: "message", data: "1", compress: true },
    ]);
    assert.deepEqual(seen.received, [{ type: "message", data: '30["p"]' }]);
    assert.deepEqual(seen.managed, [{ type: 3, nsp: "/", id: 0, data: ["p"] }]);
    assert.ok(seen.drains >= 1, "drain fired");
    ctx.assertNoErrors();
  });
});

test("long-polling: the heartbeat is answered, the connection stays up across many pings", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer({ pingInterval: 300, pingTimeout: 400 }), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url }) => {
        const socket = await e2e.open(url, { forceNew: true, transports: ["polling"] });
        let pings = 0;
        socket.io.on("ping", () => (pings += 1));
        await e2e.sleep(3000);
        const answer = await e2e.within(socket.emitWithAck("echo", "still"), 5000, "an echo");
        const out = { pings, answer, connected: socket.connected, log: e2e.logs.main };
        socket.disconnect();
        return out;
      },
      { url },
    );
    assert.ok(result.pings >= 5, `pings answered: ${result.pings}`);
    assert.equal(result.answer, "still");
    assert.equal(result.connected, true);
    assert.equal(server.log.filter((e) => e.event === "connection").length, 1, "never reconnected");
    ctx.assertNoErrors();
  });
});
