// Scenarios 2-6: the reconnection contract against a real socket.io server process.
//   2. server SIGKILLed and restarted on the same port: disconnect("transport close")
//      -> reconnect_attempt(1..n) -> reconnect(n) -> connect, then it works
//   3. server-side socket.disconnect(true): "io server disconnect", no reconnection
//   4. middleware refusal: connect_error with message and data, no reconnection
//   5. nobody listening, reconnectionAttempts 3: attempts 1, 2, 3, reconnect_failed
//   6. a 5 s backoff cut short by the browser coming back online
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { formatLog, lifecycle, pick } from "./support/events.mjs";
import { freePort } from "../../scripts/children.mjs";
import { startSocketIoServer } from "./support/processes.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;

test("server killed and restarted: disconnect, reconnect_attempt(1..n), reconnect(n), connect", { timeout: TEST_TIMEOUT }, async (t) => {
  const first = await startSocketIoServer();
  let second = null;
  try {
    await suite.withPage(t, async (ctx) => {
      const url = `http://127.0.0.1:${first.port}`;
      const opts = clientOptions({ reconnectionDelay: 100, reconnectionDelayMax: 500 });
      await ctx.page.evaluate(({ url, opts }) => e2e.open(url, opts).then(() => undefined), { url, opts });

      await first.kill();
      // Restart only once the client is retrying, so that it sees the server gone.
      await ctx.page.evaluate(() =>
        e2e.waitForEvent("manager", "reconnect_attempt", 5000, "a reconnect_attempt after the server was killed"),
      );
      second = await startSocketIoServer({ port: first.port });

      const result = await ctx.page.evaluate(async () => {
        const socket = e2e.sockets.main;
        await e2e.waitForEvent("socket", "connect", 10_000, "connect after the restart", { n: 2 });
        const echo = await e2e.within(socket.emitWithAck("echo", "after restart"), 5000, "an ack after reconnecting");
        await e2e.sleep(300); // let any stray late event show up
        const state = { connected: socket.connected, active: socket.active };
        const log = [...e2e.logs.main];
        socket.disconnect();
        return { echo, state, log };
      });

      // socket.io-client also emits connect_error on the socket for each failed attempt;
      // whether resocket does is not part of this check.
      const events = lifecycle(result.log).filter((name) => name !== "connect_error");
      const attempts = pick(result.log, "manager", "reconnect_attempt").length;
      assert.ok(attempts >= 1, `no reconnect_attempt at all:${formatLog(result.log)}`);
      const expected = ["connect", "disconnect(transport close)"];
      for (let n = 1; n <= attempts; n += 1) {
        expected.push(`reconnect_attempt(${n})`);
        if (n < attempts) expected.push("reconnect_error");
      }
      expected.push(`reconnect(${attempts})`, "connect");
      assert.deepEqual(events, expected, `event order (socket + Manager events):${formatLog(result.log)}`);
      assert.equal(result.echo, "after restart", "ack round-trip after reconnecting");
      assert.deepEqual(result.state, { connected: true, active: true });
      assert.equal(second.count((e) => e.event === "connection"), 1, "one connection on the restarted server");
      ctx.assertNoErrors();
    });
  } finally {
    await first.stop();
    await second?.stop();
  }
});

test('server-side disconnect(true): "io server disconnect", inactive, no reconnection', { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const opts = clientOptions({ reconnectionDelay: 100, reconnectionDelayMax: 500 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts);
        socket.emit("kick");
        await e2e.waitForEvent("socket", "disconnect", 5000, "disconnect after the server's disconnect(true)");
        await e2e.sleep(1500); // no reconnection may start in this time
        return { log: e2e.logs.main, active: socket.active, connected: socket.connected };
      },
      { url, opts },
    );
    assert.deepEqual(lifecycle(result.log), ["connect", "disconnect(io server disconnect)"], formatLog(result.log));
    assert.equal(result.active, false, "socket.active after a server-side disconnect");
    assert.equal(result.connected, false, "socket.connected after a server-side disconnect");
    assert.deepEqual(pick(result.log, "manager", "reconnect_attempt"), [], "no reconnect_attempt");
    assert.equal(server.count((e) => e.event === "connection"), 1, `server connections: ${JSON.stringify(server.log)}`);
    ctx.assertNoErrors();
  });
});

test("middleware refusal: connect_error with message and data, inactive, no reconnection", { timeout: TEST_TIMEOUT }, async (t) => {
  await suite.withServer(t, startSocketIoServer({ refuse: ["/"] }), async (ctx, { server, url }) => {
    const opts = clientOptions({ reconnectionDelay: 100, reconnectionDelayMax: 500 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts, "main", { wait: 0 });
        let error = null;
        socket.on("connect_error", (err) => {
          error ??= { isError: err instanceof Error, message: err.message, data: e2e.serialize(err.data) };
        });
        await e2e.waitFor(() => error !== null, 5000, "connect_error", e2e.logs.main);
        await e2e.sleep(1500); // no reconnection may start in this time
        return { error, log: e2e.logs.main, active: socket.active, connected: socket.connected };
      },
      { url, opts },
    );
    assert.deepEqual(result.error, { isError: true, message: "not authorized", data: { code: 401 } }, "the connect_error");
    assert.deepEqual(lifecycle(result.log), ["connect_error"], formatLog(result.log));
    assert.equal(result.active, false, "socket.active after a refusal");
    assert.equal(result.connected, false);
    assert.deepEqual(pick(result.log, "manager", "reconnect_attempt"), [], "no reconnect_attempt");
    assert.equal(server.count((e) => e.event === "refused"), 1, `refusals seen by the server: ${JSON.stringify(server.log)}`);
    ctx.assertNoErrors();
  });
});

test("no server, reconnectionAttempts 3: attempts 1, 2, 3 then reconnect_failed once", { timeout: TEST_TIMEOUT }, async (t) => {
  const port = await freePort(); // nobody listens there
  await suite.withPage(t, async (ctx) => {
    const url = `http://127.0.0.1:${port}`;
    const opts = clientOptions({ reconnectionAttempts: 3, randomizationFactor: 0, reconnectionDelay: 100 });
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = await e2e.open(url, opts, "main", { wait: 0 });
        await e2e.waitForEvent("manager", "reconnect_failed", 10_000, "reconnect_failed");
        await e2e.sleep(1500); // nothing may follow
        return { log: e2e.logs.main, connected: socket.connected };
      },
      { url, opts },
    );
    const log = result.log;
    assert.deepEqual(
      pick(log, "manager", "reconnect_attempt").map((e) => e.args[0]),
      [1, 2, 3],
      `reconnect_attempt arguments:${formatLog(log)}`,
    );
    const failed = pick(log, "manager", "reconnect_failed");
    assert.equal(failed.length, 1, `reconnect_failed exactly once:${formatLog(log)}`);
    const lastAttempt = pick(log, "manager", "reconnect_attempt").at(-1);
    assert.ok(failed[0].seq > lastAttempt.seq, `reconnect_failed after the third attempt:${formatLog(log)}`);
    // One reconnect_error per failed attempt. socket.io-client emits the third one just
    // AFTER reconnect_failed (same turn); either order is accepted.
    assert.equal(pick(log, "manager", "reconnect_error").length, 3, `reconnect_error once per attempt:${formatLog(log)}`);
    // Nothing else after reconnect_failed: no attempt, no connect, nothing later on.
    const reportsOfAttempt3 = (e) =>
      ((e.src === "manager" && ["error", "reconnect_error"].includes(e.name)) ||
        (e.src === "socket" && ["connect_error", "reconnect_error"].includes(e.name))) &&
      e.t - failed[0].t < 50;
    const after = log.filter(
      (e) =>
        e.seq > failed[0].seq && !(e.src === "socket" && e.name === "reconnect_failed") && !reportsOfAttempt3(e),
    );
    assert.deepEqual(after.map((e) => `${e.src}:${e.name}`), [], `events after reconnect_failed:${formatLog(log)}`);
    assert.deepEqual(pick(log, "socket", "connect"), [], "never connected");
    assert.equal(result.connected, false);
    ctx.assertNoErrors();
  });
});

test("a 5 s backoff is cut short when the browser comes back online", { timeout: TEST_TIMEOUT }, async (t) => {
  const first = await startSocketIoServer();
  let second = null;
  try {
    await suite.withPage(t, async (ctx) => {
      const url = `http://127.0.0.1:${first.port}`;
      const opts = clientOptions({ reconnectionDelay: 5000, reconnectionDelayMax: 5000, randomizationFactor: 0 });
      await ctx.page.evaluate(async ({ url, opts }) => {
        await e2e.open(url, opts);
        for (const name of ["online", "offline"]) {
          addEventListener(name, () => e2e.logs.main.push({ seq: ++e2e.seq, src: "window", name, args: [], t: performance.now() }));
        }
      }, { url, opts });
      const cdp = await ctx.cdp();
      const network = (offline) =>
        cdp.send("Network.emulateNetworkConditions", { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

      await first.kill();
      await ctx.page.evaluate(() => e2e.waitForEvent("socket", "disconnect", 5000, "disconnect after the server was killed"));
      await network(true);
      second = await startSocketIoServer({ port: first.port });
      await ctx.page.evaluate(() => e2e.waitForEvent("window", "offline", 3000, "the offline event"));
      await network(false);

      const result = await ctx.page.evaluate(async () => {
        const socket = e2e.sockets.main;
        const log = e2e.logs.main;
        // Wait longer than the backoff, so that a client ignoring `online` still gets
        // there and the failure says how late it was.
        await e2e.waitForEvent("socket", "connect", 9000, "connect after going online", { n: 2 });
        const echo = await e2e.within(socket.emitWithAck("echo", "back online"), 5000, "an ack after reconnecting");
        const snapshot = [...log];
        socket.disconnect();
        return { echo, log: snapshot };
      });

      const log = result.log;
      const disconnect = pick(log, "socket", "disconnect")[0];
      const online = log.find((e) => e.src === "window" && e.name === "online");
      const connect = pick(log, "socket", "connect")[1];
      assert.ok(online, `no online event:${formatLog(log)}`);
      const sinceOnline = connect.t - online.t;
      const sinceDisconnect = connect.t - disconnect.t;
      console.log(
        `back online -> connected in ${Math.round(sinceOnline)} ms (disconnect -> connected ${Math.round(sinceDisconnect)} ms, backoff 5000 ms)`,
      );
      assert.ok(
        sinceOnline < 3000,
        `connected ${Math.round(sinceOnline)} ms after going online; expected well under the 5 s backoff:${formatLog(log)}`,
      );
      assert.ok(
        sinceDisconnect < 5000,
        `connected ${Math.round(sinceDisconnect)} ms after the disconnect, i.e. not before the 5 s backoff ran out:${formatLog(log)}`,
      );
      assert.equal(result.echo, "back online");
      ctx.assertNoErrors();
    });
  } finally {
    await first.stop();
    await second?.stop();
  }
});
