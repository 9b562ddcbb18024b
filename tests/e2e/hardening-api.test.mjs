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

test("credentials live in one place: after socket.auth = null no copy is left, and no token is sent", { timeout: TEST_TIMEOUT }, async (t) => {
  if (referenceMode) return t.skip("socket.io-client keeps copies of its options");
  await suite.withServer(t, startSocketIoServer(), async (ctx, { server, url }) => {
    const token = `secret-${process.pid}-${Date.now()}`;
    const opts = clientOptions({ reconnectionDelay: 200, randomizationFactor: 0 });
    const result = await ctx.page.evaluate(
      async ({ url, opts, token }) => {
        // Through io()'s cache of Managers (no forceNew): the cache is part of the walk.
        const socket = await e2e.open(url, { ...opts, auth: { token } });
        socket.auth = null;
        const admin = e2e.lib.io(`${url}/admin`, opts);
        // Every own property (enumerable or not) and Map/Set entry reachable from the
        // socket and its Manager, functions left out, to a bounded depth.
        const found = [];
        const seen = new Set();
        const walk = (value, path, depth) => {
          if (typeof value == "string") {
            if (value.includes(token)) found.push(path);
            return;
          }
          if (!value || typeof value != "object" || seen.has(value) || depth > 12) return;
          seen.add(value);
          if (value instanceof Map || value instanceof Set) {
            let i = 0;
            for (const entry of value) walk(entry, `${path}[entry ${i++}]`, depth + 1);
          }
          for (const key of Reflect.ownKeys(value)) {
            const d = Object.getOwnPropertyDescriptor(value, key);
            if (d && "value" in d && typeof d.value != "function") walk(d.value, `${path}.${String(key)}`, depth + 1);
          }
        };
        walk(socket, "socket", 0);
        walk(socket.io, "socket.io", 0);
        const walked = seen.size;
        const sameManager = admin.io === socket.io;
        const readable = { reconnectionDelay: socket.io.opts.reconnectionDelay, hasAuth: "auth" in socket.io.opts };
        // The next connection asks for `auth` again, and finds none.
        const again = e2e.next(socket, "connect", 5000);
        socket.io.engine.close();
        await again;
        socket.disconnect();
        admin.disconnect();
        return { found, walked, sameManager, readable };
      },
      { url, opts, token },
    );
    assert.ok(result.sameManager, "the second io() reused the cached Manager, walked as socket.io");
    assert.ok(result.walked > 20, `the walk reached the socket's and the Manager's objects (${result.walked})`);
    assert.deepEqual(result.found, [], "no object reachable from the socket or its Manager still holds the token");
    assert.deepEqual(result.readable, { reconnectionDelay: 200, hasAuth: false }, "socket.io.opts keeps the options apps read, not auth");
    const tokens = server.log.filter((e) => e.event === "connection" && e.nsp === "/").map((e) => e.token ?? null);
    assert.deepEqual(tokens, [token, null], "the token went with the first CONNECT only");
    ctx.assertNoErrors();
  });
});
