// Hardening of the JS API against what apps do from inside their own callbacks:
//   - an emit made by a listener (emit_dropped, an ack callback) while another emit is
//     being made must not lose the outer emit's outcome: every ack settles, once.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite, referenceMode } from "./support/browser.mjs";
import { startSocketIoServer } from "./support/processes.mjs";

const suite = e2eSuite(import.meta.url);
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
