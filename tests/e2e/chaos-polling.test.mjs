// Chaos over HTTP long-polling, and over the default polling -> WebSocket upgrade: the
// run of chaos.test.mjs (./support/chaos-run.mjs: every connection cut at random
// intervals of 100-600 ms, connection state recovery on the server, a stream of
// numbered events to the client and numbered at-least-once emits from it), for 10 s,
//   - with `transports: ["polling"]`: every cut kills the pending long-poll GET or a
//     POST in flight, and
//   - with the default options: each new session opens on polling and probes a
//     WebSocket, and a cut may land before, during or after its upgrade.
// Inside recovered sessions nothing may be lost or doubled; no client emit is lost.
// The server closes every HTTP connection after its answer (--no-keep-alive): on a
// reused keep-alive connection, a browser resends by itself a request whose connection
// died before any byte of the answer came, and a long-poll answer the server had
// already written would be lost without the client ever seeing an error. That is the
// network stack's doing, invisible to any client; with a connection per request, a cut
// is an error the client sees, and recovers from. Short heartbeats bound how long a
// request that never completes can hold a session up.
import { test } from "node:test";
import assert from "node:assert/strict";

import { e2eSuite, referenceMode } from "./support/browser.mjs";
import { runChaos } from "./support/chaos-run.mjs";

const suite = e2eSuite(import.meta.url);

const CHAOS_MS = 10_000;
// socket.io-client hands listeners the recovery offset as an extra last argument;
// resocket must not (checked when it is the client under test).
const firstArgOnly = referenceMode;
// What the browser prints when a cut kills a polling request, or when a request of a
// session the server has already closed gets its 400.
const allowConsole = [/net::ERR_(SOCKET_NOT_CONNECTED|INCOMPLETE_CHUNKED_ENCODING)/, /the server responded with a status of 400/];
const serverOptions = { noKeepAlive: true, pingInterval: 2000, pingTimeout: 3000 };

test("chaos over long-polling: random cuts for 10 s, no loss or duplicate inside recovered sessions", { timeout: 90_000 }, async (t) => {
  await runChaos(suite, t, {
    label: "chaos, polling",
    chaosMs: CHAOS_MS,
    opts: { transports: ["polling"] },
    firstArgOnly,
    minCutMoments: 12,
    minRecovered: 3,
    serverOptions,
    allowConsole,
  });
});

test("chaos with upgrades (default options): random cuts for 10 s, no loss or duplicate inside recovered sessions", { timeout: 90_000 }, async (t) => {
  const { serverLog } = await runChaos(suite, t, {
    label: "chaos, polling then WebSocket",
    chaosMs: CHAOS_MS,
    opts: {},
    firstArgOnly,
    minCutMoments: 12,
    minRecovered: 3,
    serverOptions,
    allowConsole,
  });
  // At least the calm session after the chaos upgrades: the path was exercised.
  assert.ok(serverLog.some((e) => e.event === "upgrade"), "no session upgraded to WebSocket");
});
