// `auth`: an object, a callback or an async function, read again before every
// (re)connect; an auth function that fails makes the attempt fail at once (no CONNECT
// without credentials, no wait for the handshake timeout) and the next reconnection asks
// again. The real socket.io server reports the token each connection presented.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite, referenceMode } from "./support/browser.mjs";
import { startSocketIoServer } from "./support/processes.mjs";

const suite = e2eSuite(import.meta.url);

const tokens = (server) => server.log.filter((e) => e.event === "connection").map((e) => e.token);

test("auth as an object, a callback and an async function, read on every connect", { timeout: 60_000 }, async (t) => {
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    await ctx.page.evaluate(
      async ({ url, opts }) => {
        const fixed = e2e.lib.io(url, { ...opts, auth: { token: "fixed" } });
        await e2e.waitFor(() => fixed.connected, 5000, "the socket with an auth object");
        fixed.disconnect();

        let calls = 0;
        const counted = e2e.lib.io(url, { ...opts, auth: (cb) => cb({ token: `callback-${++calls}` }) });
        await e2e.waitFor(() => counted.connected, 5000, "the socket with an auth callback");
        const again = e2e.next(counted, "connect", 5000);
        counted.io.engine.close();
        await again;
        counted.disconnect();

        const later = e2e.lib.io(url, { ...opts, auth: async () => ({ token: "async" }) });
        await e2e.waitFor(() => later.connected, 5000, "the socket with an async auth function");
        later.disconnect();
      },
      { url, opts: clientOptions({ forceNew: true, reconnectionDelay: 300, randomizationFactor: 0 }) },
    );
    assert.deepEqual(tokens(server), ["fixed", "callback-1", "callback-2", "async"]);
    ctx.assertNoErrors();
  });
});

test("a failing auth function fails the attempt at once, and the next one asks again", { timeout: 60_000 }, async (t) => {
  if (referenceMode) return t.skip("socket.io-client hangs until the handshake times out");
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        let calls = 0;
        const started = performance.now();
        const socket = e2e.lib.io(url, {
          ...opts,
          auth: async () => {
            calls += 1;
            if (calls === 1) throw new Error("no token yet");
            return { token: "late" };
          },
        });
        const [error] = await e2e.next(socket, "connect_error", 5000);
        const failedAfterMs = performance.now() - started;
        await e2e.waitFor(() => socket.connected, 5000, "the connection after the failed auth");
        socket.disconnect();
        return { message: error.message, type: error.type, failedAfterMs, calls };
      },
      { url, opts: clientOptions({ reconnectionDelay: 100, randomizationFactor: 0, timeout: 20_000 }) },
    );
    assert.equal(result.message, "no token yet", "connect_error carries the auth function's own error");
    assert.equal(result.type, "AuthError");
    assert.ok(result.failedAfterMs < 3000, `the attempt failed after ${Math.round(result.failedAfterMs)} ms, not at the 20 s timeout`);
    assert.equal(result.calls, 2);
    // The server's log line may trail the client's connect by a moment.
    await server.waitForLog((log) => tokens({ log }).length > 0, 5000, "the connection");
    assert.deepEqual(tokens(server), ["late"], "no CONNECT without credentials");
    ctx.assertNoErrors();
  });
});
