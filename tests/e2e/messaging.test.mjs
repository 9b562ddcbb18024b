// Scenario 1: emit / receive / ack round trips in both directions, binary payloads
// both ways, two namespaces multiplexed on one Engine.IO connection, and ack timeouts
// (`socket.timeout(ms).emit(…, cb)` and `emitWithAck`), against the real socket.io
// server (./support/server.mjs) from a real Chromium page.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { startSocketIoServer } from "./support/processes.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;

function hex(text) {
  return Buffer.from(text, "utf8").toString("hex");
}

test("emit, receive and acks round-trip in both directions", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        // Client -> server, ack through a callback (several arguments come back as sent).
        const viaCallback = await e2e.within(
          new Promise((resolve) => socket.emit("echo", 1, "two", { three: [3] }, null, (...args) => resolve(args))),
          5000,
          "the ack callback of emit('echo')",
        );
        // Client -> server, ack through the promise (resolves with the first argument).
        const viaPromise = await e2e.within(
          socket.emitWithAck("echo", { x: 1, text: "ünïcødé ✓" }, "ignored"),
          5000,
          "emitWithAck('echo')",
        );
        // Server -> client, no ack: the server emits "echo" back.
        const event = e2e.next(socket, "echo", 5000);
        socket.emit("echo", "no-ack", 7);
        const eventArgs = await event;
        // Server -> client with an ack the client answers (the server acks what it got).
        socket.on("question", (payload, answer) => answer({ doubled: payload.n * 2 }, "second"));
        const asked = await e2e.within(socket.emitWithAck("ask", { n: 21 }), 5000, "emitWithAck('ask')");
        const answer = { id: socket.id, connected: socket.connected };
        socket.disconnect();
        return {
          viaCallback,
          viaPromise,
          eventArgs,
          asked,
          ...answer,
          log: e2e.logs.main,
        };
      },
      { url, opts: clientOptions() },
    );
    assert.deepEqual(result.viaCallback, [1, "two", { three: [3] }, null], "emit(…, ackCallback) arguments");
    assert.deepEqual(result.viaPromise, { x: 1, text: "ünïcødé ✓" }, "emitWithAck resolves with the first argument");
    assert.deepEqual(result.eventArgs, ["no-ack", 7], "server-emitted event arguments");
    assert.deepEqual(result.asked, { answer: [{ doubled: 42 }, "second"] }, "the server got the client's ack answer");
    assert.equal(typeof result.id, "string", "socket.id while connected");
    assert.ok(result.id.length > 0, "socket.id while connected");
    assert.equal(result.connected, true);
    const connects = result.log.filter((e) => e.src === "socket" && e.name === "connect");
    assert.equal(connects.length, 1, `exactly one connect: ${JSON.stringify(result.log)}`);
    ctx.assertNoErrors();
  });
});

test("binary payloads both ways (ArrayBuffer, Uint8Array, nested), bytes exact", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const backing = Uint8Array.of(9, 8, 7, 6, 5, 4).buffer;
        const payload = () => ({
          ab: Uint8Array.of(1, 2, 3, 255).buffer,
          nested: {
            u8: Uint8Array.of(0, 128, 255),
            // a view into a larger buffer: only its 3 bytes must travel
            list: ["text", new Uint8Array(backing, 2, 3)],
            empty: new ArrayBuffer(0),
          },
          n: 5,
        });
        // What the server received, as it saw it (binaries as hex).
        const described = await e2e.within(
          socket.emitWithAck("describe", payload(), Uint8Array.of(42)),
          5000,
          "emitWithAck('describe')",
        );
        // The same payload echoed back: the client's view of the server's binaries.
        const echoed = await e2e.within(socket.emitWithAck("echo", payload()), 5000, "emitWithAck('echo')");
        // Server -> client binary, as an event and in an ack.
        const binaryEvent = e2e.next(socket, "binary", 5000);
        const binaryAck = await e2e.within(socket.emitWithAck("send-binary"), 5000, "emitWithAck('send-binary')");
        const [binaryEventPayload] = await binaryEvent;
        // The client acks the server's question with binaries.
        socket.on("question", (_payload, answer) => answer(Uint8Array.of(7, 7, 7), { deep: [Uint8Array.of(1).buffer] }));
        const asked = await e2e.within(socket.emitWithAck("ask", {}), 5000, "emitWithAck('ask')");
        socket.disconnect();
        return {
          described,
          echoed: e2e.serialize(echoed),
          binaryAck: e2e.serialize(binaryAck),
          binaryEvent: e2e.serialize(binaryEventPayload),
          asked,
        };
      },
      { url, opts: clientOptions() },
    );

    const sent = (b) => ({ $bytes: b });
    assert.deepEqual(
      result.described,
      [
        { ab: sent("010203ff"), nested: { u8: sent("0080ff"), list: ["text", sent("070605")], empty: sent("") }, n: 5 },
        sent("2a"),
      ],
      "the bytes the server received from the client",
    );
    const got = (b) => ({ $type: "ArrayBuffer", $bytes: b });
    assert.deepEqual(
      result.echoed,
      { ab: got("010203ff"), nested: { u8: got("0080ff"), list: ["text", got("070605")], empty: got("") }, n: 5 },
      "binaries echoed back arrive as ArrayBuffer with the same bytes (as socket.io-client in a browser)",
    );
    const fromServer = {
      top: got("000102fdfeff"),
      nested: { deeper: [got(hex("héllo")), 42, got("")] },
      text: "not binary",
    };
    assert.deepEqual(result.binaryAck, fromServer, "binary in a server ack");
    assert.deepEqual(result.binaryEvent, fromServer, "binary in a server event");
    assert.deepEqual(result.asked, { answer: [sent("070707"), { deep: [sent("01")] }] }, "binary in the client's ack");
    ctx.assertNoErrors();
  });
});

test('namespaces "/" and "/admin" share one Engine.IO connection', { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer({ namespaces: ["/", "/admin"] }), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const main = await e2e.open(url, opts, "main");
        const admin = await e2e.open(`${url}/admin`, opts, "admin", { manager: false });
        const sameManager = main.io === admin.io;
        const whoMain = await e2e.within(main.emitWithAck("whoami"), 5000, "whoami on /");
        const whoAdmin = await e2e.within(admin.emitWithAck("whoami"), 5000, "whoami on /admin");
        // Events stay in their namespace.
        const onMain = [];
        const onAdmin = [];
        main.on("echo", (...args) => onMain.push(args));
        admin.on("echo", (...args) => onAdmin.push(args));
        admin.emit("echo", "for admin");
        await e2e.waitFor(() => onAdmin.length === 1, 5000, "the echo on /admin");
        main.emit("echo", "for main");
        await e2e.waitFor(() => onMain.length === 1, 5000, "the echo on /");
        const ids = { main: main.id, admin: admin.id };
        admin.disconnect();
        main.disconnect();
        return { sameManager, whoMain, whoAdmin, onMain, onAdmin, ids };
      },
      { url, opts: clientOptions() },
    );
    assert.equal(result.whoMain.nsp, "/");
    assert.equal(result.whoAdmin.nsp, "/admin");
    assert.equal(
      result.whoMain.connId,
      result.whoAdmin.connId,
      `both namespaces must ride one Engine.IO connection: ${JSON.stringify([result.whoMain, result.whoAdmin])}`,
    );
    assert.equal(result.whoAdmin.clientsCount, 1, "the server holds exactly one Engine.IO connection");
    assert.equal(result.sameManager, true, "io(url) and io(url + '/admin') share one Manager (socket.io)");
    assert.notEqual(result.ids.main, result.ids.admin, "each namespace socket has its own id");
    assert.equal(result.ids.main, result.whoMain.id);
    assert.equal(result.ids.admin, result.whoAdmin.id);
    assert.deepEqual(result.onMain, [["for main"]]);
    assert.deepEqual(result.onAdmin, [["for admin"]]);
    const connIds = new Set(server.log.filter((e) => e.event === "connection").map((e) => e.connId));
    assert.equal(connIds.size, 1, `server-side connections: ${JSON.stringify(server.log)}`);
    ctx.assertNoErrors();
  });
});

// An event's payload reaches the app as a slice of the frame's own string, found by
// counting UTF-16 units of the header: a namespace outside ASCII, an ack id, and text
// with astral characters (two UTF-16 units, four UTF-8 bytes) must all come out exact.
test("payloads sliced from the frame: a non-ASCII namespace, ack ids, astral characters", { timeout: TEST_TIMEOUT }, async (t) => {
  const nsp = "/ünï😀";
  await suite.withServer(t, startSocketIoServer({ namespaces: ["/", nsp] }), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts, nsp }) => {
        const main = await e2e.open(url, opts, "main");
        const socket = main.io.socket(nsp);
        await e2e.waitFor(() => socket.connected, 5000, `the connect of ${nsp}`);
        const text = "héllo 😀 — ✓";
        const echoed = e2e.next(socket, "echo", 5000);
        socket.emit("echo", text, { deep: [text, 1.5] });
        // The server asks: an EVENT with an ack id, answered from the listener.
        socket.on("question", (payload, answer) => answer(payload.q + text));
        const asked = await e2e.within(socket.emitWithAck("ask", { q: "¿" }), 5000, "emitWithAck('ask')");
        const result = { echoed: await echoed, asked };
        socket.disconnect();
        main.disconnect();
        return result;
      },
      { url, opts: clientOptions(), nsp },
    );
    const text = "héllo 😀 — ✓";
    assert.deepEqual(result.echoed, [text, { deep: [text, 1.5] }]);
    assert.deepEqual(result.asked, { answer: [`¿${text}`] });
    ctx.assertNoErrors();
  });
});

test("ack timeouts: timeout(200).emit callback gets an error, emitWithAck rejects", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        const started = performance.now();
        const viaCallback = await e2e.within(
          new Promise((resolve) => {
            const calls = [];
            socket.timeout(200).emit("noack", 1, (err, ...rest) => {
              calls.push({ err: e2e.serialize(err), isError: err instanceof Error, rest: e2e.serialize(rest) });
              // Give a second (wrong) call a chance to show up before resolving.
              setTimeout(() => resolve(calls), 300);
            });
          }),
          5000,
          "the timeout(200).emit callback",
        );
        const callbackMs = performance.now() - started;
        const started2 = performance.now();
        let viaPromise;
        try {
          const value = await e2e.within(socket.timeout(200).emitWithAck("noack", 2), 5000, "emitWithAck to settle");
          viaPromise = { resolved: e2e.serialize(value) };
        } catch (err) {
          viaPromise = { rejected: e2e.serialize(err), isError: err instanceof Error };
        }
        const promiseMs = performance.now() - started2;
        // The server did receive both emits (it just never acks them) and the socket
        // still works.
        const counters = await e2e.within(socket.emitWithAck("counters"), 5000, "emitWithAck('counters')");
        const connected = socket.connected;
        socket.disconnect();
        return { viaCallback, callbackMs, viaPromise, promiseMs, counters, connected };
      },
      { url, opts: clientOptions() },
    );
    assert.equal(result.viaCallback.length, 1, `the callback must run exactly once: ${JSON.stringify(result.viaCallback)}`);
    const [call] = result.viaCallback;
    assert.equal(call.isError, true, `the callback's first argument must be an Error: ${JSON.stringify(call)}`);
    assert.ok(call.err.message, "the timeout error has a message");
    assert.ok(result.callbackMs < 3000, `the timeout callback came after ${result.callbackMs} ms (200 ms timeout)`);
    assert.ok(result.viaPromise.rejected, `emitWithAck must reject on timeout: ${JSON.stringify(result.viaPromise)}`);
    assert.equal(result.viaPromise.isError, true, "emitWithAck rejects with an Error");
    assert.ok(result.promiseMs < 3000, `emitWithAck rejected after ${result.promiseMs} ms (200 ms timeout)`);
    assert.equal(result.counters.noack, 2, "the server received both un-acked emits");
    assert.equal(result.connected, true, "an ack timeout does not disconnect");
    ctx.assertNoErrors();
  });
});
