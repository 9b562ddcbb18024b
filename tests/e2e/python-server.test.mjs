// Against python-socketio (python-engineio under uvicorn, ./support/python/server.py), a
// Socket.IO server written apart from socket.io's, so that the client is held to the
// protocol rather than to one implementation of it, over the client's transport choices:
// polling only (`transports: ["polling"]`), the default (HTTP long-polling, then the
// upgrade to WebSocket), `upgrade: false` (polling, never upgraded) and WebSocket only.
// The server reports the transport each session opened on and whether it was upgraded.
//   - acks and events both ways, binaries included, on the transport the session ends
//     on (every choice);
//   - the server closes the Engine.IO session: the client reconnects, on the same
//     transports again, and the new session works (every choice);
//   - a server-side disconnect ("io server disconnect"): no reconnection (polling only,
//     default);
//   - the server is SIGKILLed and started again on its port: the client reconnects
//     (polling only, default).
// The same page code runs on socket.io-client (RESOCKET_E2E_CLIENT=socket.io-client).
// Skipped when the virtualenv of scripts/setup.sh is missing.
import { test } from "node:test";
import assert from "node:assert/strict";

import { e2eSuite } from "./support/browser.mjs";
import { formatLog, lifecycle } from "./support/events.mjs";
import { PYTHON, pythonAvailable, startPythonServer } from "./support/python-server.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 30_000;
const skip = pythonAvailable() ? false : `no python-socketio virtualenv at ${PYTHON} (run scripts/setup.sh)`;

// `initial`: the transport the server sees the session open on; `final`: the one it ends
// on; `all`: every scenario (the others would add run time more than coverage).
const MODES = [
  { name: "polling only", opts: { transports: ["polling"] }, initial: "polling", final: "polling", all: true },
  { name: "default transports (polling, then upgrade)", opts: {}, initial: "polling", final: "websocket", all: true },
  { name: "upgrade: false", opts: { upgrade: false }, initial: "polling", final: "polling", all: false },
  { name: "WebSocket only", opts: { transports: ["websocket"] }, initial: "websocket", final: "websocket", all: false },
];

const upgraded = (mode) => mode.initial !== mode.final;

const connections = (server) => server.log.filter((e) => e.event === "connection");
const upgrades = (server) => server.log.filter((e) => e.event === "upgrade");

const sent = (b) => ({ $bytes: b });
const got = (b) => ({ $type: "ArrayBuffer", $bytes: b });
const hex = (text) => Buffer.from(text, "utf8").toString("hex");

for (const mode of MODES) {
  test(`python-socketio, ${mode.name}: acks and events both ways, binaries included`, { timeout: TEST_TIMEOUT, skip }, async (t) => {
    await suite.withServer(t, startPythonServer(), async (ctx, { server, url }) => {
      const result = await ctx.page.evaluate(
        async ({ url, opts, final }) => {
          const socket = await e2e.open(url, { forceNew: true, ...opts });
          // The upgrade, when there is one, comes right after the open: everything below
          // then goes over the transport the session ends on.
          await e2e.waitFor(() => socket.io.engine.transport.name === final, 5000, `the ${final} transport`, e2e.logs.main);
          const payload = () => ({
            ab: Uint8Array.of(1, 2, 3, 255).buffer,
            nested: { u8: Uint8Array.of(0, 128, 255), list: ["text", new Uint8Array(Uint8Array.of(9, 8, 7, 6, 5).buffer, 1, 3)] },
            n: 5,
          });
          const viaCallback = await e2e.within(
            new Promise((resolve) => socket.emit("echo", 1, "two", { three: [3] }, null, "ünïcødé ✓", (...args) => resolve(args))),
            5000,
            "the ack callback of emit('echo')",
          );
          const described = await e2e.within(socket.emitWithAck("describe", payload(), Uint8Array.of(42)), 5000, "emitWithAck('describe')");
          const echoed = await e2e.within(socket.emitWithAck("echo", payload()), 5000, "emitWithAck('echo') of binaries");
          const echoEvent = e2e.next(socket, "echo", 5000);
          socket.emit("echo-back", "no-ack", 7, Uint8Array.of(1, 2).buffer);
          const echoEventArgs = await echoEvent;
          const custom = e2e.next(socket, "custom", 5000);
          await e2e.within(socket.emitWithAck("emit-to-me", "custom", { a: [1, 2] }, "x"), 5000, "emitWithAck('emit-to-me')");
          const customArgs = await custom;
          const binaryEvent = e2e.next(socket, "binary", 5000);
          const binaryAck = await e2e.within(socket.emitWithAck("send-binary"), 5000, "emitWithAck('send-binary')");
          const [binaryEventPayload] = await binaryEvent;
          // Server -> client with an ack: the client answers the server's question.
          socket.on("question", (question, answer) => answer({ doubled: question.n * 2 }, Uint8Array.of(7, 7, 7)));
          const asked = await e2e.within(socket.emitWithAck("ask", { n: 21 }), 5000, "emitWithAck('ask')");
          const whoami = await e2e.within(socket.emitWithAck("whoami"), 5000, "emitWithAck('whoami')");
          const transport = socket.io.engine.transport.name;
          const id = socket.id;
          socket.disconnect();
          return {
            viaCallback,
            described,
            echoed: e2e.serialize(echoed),
            echoEventArgs: e2e.serialize(echoEventArgs),
            customArgs,
            binaryAck: e2e.serialize(binaryAck),
            binaryEvent: e2e.serialize(binaryEventPayload),
            asked,
            whoami,
            transport,
            id,
            log: e2e.logs.main,
          };
        },
        { url, opts: mode.opts, final: mode.final },
      );
      await server.waitForLog((log) => log.some((e) => e.event === "disconnect"), 5000, "the server-side disconnect");

      assert.deepEqual(result.viaCallback, [1, "two", { three: [3] }, null, "ünïcødé ✓"], "emit(…, ackCallback) arguments");
      assert.deepEqual(
        result.described,
        [{ ab: sent("010203ff"), nested: { u8: sent("0080ff"), list: ["text", sent("080706")] }, n: 5 }, sent("2a")],
        "the bytes the server received",
      );
      assert.deepEqual(
        result.echoed,
        { ab: got("010203ff"), nested: { u8: got("0080ff"), list: ["text", got("080706")] }, n: 5 },
        "binaries echoed back, as ArrayBuffers",
      );
      assert.deepEqual(result.echoEventArgs, ["no-ack", 7, got("0102")], "an event from the server");
      assert.deepEqual(result.customArgs, [{ a: [1, 2] }, "x"], "an event emitted on request");
      const fromServer = { top: got("000102fdfeff"), nested: { deeper: [got(hex("héllo")), 42, got("")] }, text: "not binary" };
      assert.deepEqual(result.binaryAck, fromServer, "binaries in a server ack");
      assert.deepEqual(result.binaryEvent, fromServer, "binaries in a server event");
      assert.deepEqual(result.asked, { answer: [{ doubled: 42 }, sent("070707")] }, "the client's ack of the server's question");

      // The session opened, and ended, on the transports the options call for.
      const [conn, ...more] = connections(server);
      assert.deepEqual(more, [], `one connection: ${JSON.stringify(server.log)}`);
      assert.equal(conn.sid, result.id, "the server's sid is socket.id");
      assert.equal(conn.transport, mode.initial, "the transport the session opened on");
      assert.equal(result.transport, mode.final, "socket.io.engine.transport.name at the end");
      assert.deepEqual(
        result.whoami,
        { sid: result.id, eioSid: conn.eioSid, transport: mode.final },
        "the server's view of the Engine.IO session",
      );
      assert.deepEqual(
        upgrades(server).map((e) => e.eioSid),
        upgraded(mode) ? [conn.eioSid] : [],
        `upgrades the server saw: ${JSON.stringify(server.log)}`,
      );
      const disconnect = server.log.find((e) => e.event === "disconnect");
      assert.equal(disconnect.reason, "client disconnect", "the server saw the client's disconnect()");
      assert.deepEqual(lifecycle(result.log), ["connect", "disconnect(io client disconnect)"], formatLog(result.log));
      ctx.assertNoErrors();
    });
  });

  if (mode.all) test(`python-socketio, ${mode.name}: a server-side disconnect is final`, { timeout: TEST_TIMEOUT, skip }, async (t) => {
    await suite.withServer(t, startPythonServer(), async (ctx, { server, url }) => {
      const result = await ctx.page.evaluate(
        async ({ url, opts, final }) => {
          const socket = await e2e.open(url, { forceNew: true, ...opts, reconnectionDelay: 100, randomizationFactor: 0 });
          await e2e.waitFor(() => socket.io.engine.transport.name === final, 5000, `the ${final} transport`, e2e.logs.main);
          const gone = e2e.next(socket, "disconnect", 5000);
          socket.emit("kick");
          const [reason] = await gone;
          // Six reconnection delays: time enough for an attempt, were one to be made.
          await e2e.sleep(600);
          const out = { reason, connected: socket.connected, active: socket.active, log: e2e.logs.main };
          socket.disconnect();
          return out;
        },
        { url, opts: mode.opts, final: mode.final },
      );
      await server.waitForLog((log) => log.some((e) => e.event === "disconnect"), 5000, "the server-side disconnect");
      assert.equal(result.reason, "io server disconnect");
      assert.deepEqual({ connected: result.connected, active: result.active }, { connected: false, active: false });
      assert.deepEqual(lifecycle(result.log), ["connect", "disconnect(io server disconnect)"], formatLog(result.log));
      assert.equal(connections(server).length, 1, "no second connection");
      assert.equal(server.log.find((e) => e.event === "disconnect").reason, "server disconnect");
      // python-socketio ends the Engine.IO session right after its DISCONNECT packet: a
      // poll or the client's closing request that comes after is refused with a 400,
      // which Chromium logs.
      ctx.assertNoErrors({ allowConsole: [/the server responded with a status of 400/] });
    });
  });

  test(`python-socketio, ${mode.name}: the server closes the Engine.IO session; the client reconnects`, { timeout: TEST_TIMEOUT, skip }, async (t) => {
    await suite.withServer(t, startPythonServer(), async (ctx, { server, url }) => {
      const result = await ctx.page.evaluate(
        async ({ url, opts, final }) => {
          const socket = await e2e.open(url, { forceNew: true, ...opts, reconnectionDelay: 200, randomizationFactor: 0 });
          await e2e.waitFor(() => socket.io.engine.transport.name === final, 5000, `the ${final} transport`, e2e.logs.main);
          const firstId = socket.id;
          const gone = e2e.next(socket, "disconnect", 5000);
          socket.emit("drop-transport");
          const [reason] = await gone;
          await e2e.waitForEvent("socket", "connect", 8000, "the reconnection", { n: 2 });
          await e2e.waitFor(() => socket.io.engine.transport.name === final, 5000, `the ${final} transport again`, e2e.logs.main);
          const echoed = await e2e.within(
            new Promise((resolve) => socket.emit("echo", "after", Uint8Array.of(9).buffer, (...args) => resolve(args))),
            5000,
            "an ack after the reconnection",
          );
          const whoami = await e2e.within(socket.emitWithAck("whoami"), 5000, "emitWithAck('whoami')");
          const out = { firstId, reason, id: socket.id, recovered: socket.recovered, echoed: e2e.serialize(echoed), whoami, log: e2e.logs.main };
          socket.disconnect();
          return out;
        },
        { url, opts: mode.opts, final: mode.final },
      );
      await server.waitForLog((log) => log.filter((e) => e.event === "disconnect").length >= 2, 5000, "both server-side disconnects");

      assert.equal(result.reason, "transport close", "the Engine.IO close, as the client reports it");
      assert.deepEqual(
        lifecycle(result.log),
        ["connect", "disconnect(transport close)", "reconnect_attempt(1)", "reconnect(1)", "connect", "disconnect(io client disconnect)"],
        formatLog(result.log),
      );
      assert.notEqual(result.id, result.firstId, "a new session (python-socketio does not recover sessions)");
      // socket.io-client leaves it undefined when the server offers no recovery.
      assert.ok(!result.recovered, "not recovered");
      assert.deepEqual(result.echoed, ["after", got("09")], "the new session carries binaries");
      const conns = connections(server);
      assert.deepEqual(conns.map((c) => c.sid), [result.firstId, result.id], "two connections");
      assert.deepEqual(conns.map((c) => c.transport), [mode.initial, mode.initial], "both opened on the same transport");
      assert.equal(result.whoami.transport, mode.final, "the new session's transport, as the server sees it");
      assert.deepEqual(upgrades(server).map((e) => e.sid), upgraded(mode) ? [result.firstId, result.id] : [], "each session upgraded, or none");
      ctx.assertNoErrors();
    });
  });

  if (mode.all) test(`python-socketio, ${mode.name}: the server is SIGKILLed and started again on its port; the client reconnects`, { timeout: TEST_TIMEOUT, skip }, async (t) => {
    await suite.withPage(t, async (ctx) => {
      let server = await startPythonServer();
      const port = server.port;
      try {
        const url = `http://127.0.0.1:${port}`;
        const firstId = await ctx.page.evaluate(
          async ({ url, opts, final }) => {
            const socket = await e2e.open(url, { forceNew: true, ...opts, reconnectionDelay: 200, reconnectionDelayMax: 400, randomizationFactor: 0 });
            await e2e.waitFor(() => socket.io.engine.transport.name === final, 5000, `the ${final} transport`, e2e.logs.main);
            return socket.id;
          },
          { url, opts: mode.opts, final: mode.final },
        );
        await server.kill();
        await ctx.page.evaluate(() => e2e.waitForEvent("socket", "disconnect", 5000, "the disconnect"));
        // Let a reconnection attempt fail against the closed port before the restart.
        await ctx.page.evaluate(() => e2e.waitForEvent("manager", "reconnect_error", 5000, "a failed attempt"));
        server = await startPythonServer({ port });
        const result = await ctx.page.evaluate(async ({ final }) => {
          const socket = e2e.sockets.main;
          await e2e.waitForEvent("socket", "connect", 8000, "the reconnection", { n: 2 });
          await e2e.waitFor(() => socket.io.engine.transport.name === final, 5000, `the ${final} transport again`, e2e.logs.main);
          const echoed = await e2e.within(socket.emitWithAck("echo", "after", 2), 5000, "an ack after the restart");
          const out = { id: socket.id, echoed, log: e2e.logs.main };
          socket.disconnect();
          return out;
        }, { final: mode.final });

        await server.waitForLog((log) => log.some((e) => e.event === "disconnect"), 5000, "the server-side disconnect");
        const events = lifecycle(result.log);
        assert.equal(events[0], "connect");
        assert.match(events[1], /^disconnect\(transport (close|error)\)$/, `the transport died with the server:${formatLog(result.log)}`);
        assert.ok(events.includes("reconnect_error"), "an attempt failed while the server was down");
        assert.deepEqual(events.slice(-3).map((e) => e.replace(/\(\d+\)$/, "")), ["reconnect", "connect", "disconnect(io client disconnect)"]);
        assert.equal(result.echoed, "after");
        assert.notEqual(result.id, firstId);
        const [conn] = connections(server);
        assert.equal(conn?.sid, result.id, "the restarted server holds the new session");
        assert.equal(conn.transport, mode.initial);
        assert.deepEqual(upgrades(server).map((e) => e.sid), upgraded(mode) ? [result.id] : []);
        ctx.assertNoErrors();
      } finally {
        await server.stop();
      }
    });
  });
}
