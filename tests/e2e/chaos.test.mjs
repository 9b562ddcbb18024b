// Chaos: a loopback TCP proxy (./support/proxy.mjs) between the browser and one
// socket.io server with connection state recovery on cuts EVERY connection (both
// sockets destroyed) at random intervals of 100-600 ms for 15 s, while
//   - the server streams numbered events to everyone (io.emit("n", i), 400 events/s,
//     a tick every 5 ms), and
//   - the client emits numbered messages at 50/s as at-least-once emits
//     (retries: 10, ackTimeout: 1000).
// Afterwards, once the stream has stopped and the client's queue has drained:
//   server -> client (see ./support/sequence.mjs for the exact definition): inside
//   recovered sessions nothing lost and nothing duplicated; at the connects that did
//   not recover, the gap is counted (the app is told: recovered === false);
//   client -> server: every number received at least once; duplicates (an ack lost
//   with its connection, then the resend) are counted and reported.
// The run itself is ./support/chaos-run.mjs (shared with chaos-polling.test.mjs). The
// random intervals come from a seeded PRNG: the seed is printed, and E2E_CHAOS_SEED
// replays a run.
import { test } from "node:test";

import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { runChaos } from "./support/chaos-run.mjs";

const suite = e2eSuite(import.meta.url);

test("chaos: random cuts for 15 s, no loss or duplicate inside recovered sessions, no client emit lost", { timeout: 90_000 }, async (t) => {
  await runChaos(suite, t, {
    label: "chaos",
    chaosMs: 15_000,
    // WebSocket only: chaos over long-polling and upgrades has its own test.
    opts: clientOptions({ transports: ["websocket"] }),
    minCutMoments: 20,
    minRecovered: 5,
  });
});
