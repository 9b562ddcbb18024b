// persistQueue: the emits kept while offline survive a reload and a crash of the page.
// Every test makes its emits with no server listening on the socket's port, replaces the
// page (reload, or a renderer crash and a new page), starts a real socket.io server on
// that port, and makes the socket again in the new page:
//   a. reload: the server gets every emit once, in emit order, before an emit the new
//      page makes at once; the new page hears "queue_restored" with them (binary kept);
//   b. a crash of the renderer (CDP Page.crash): the same, in a new page;
//   c. two pages, each with its own emits, reloaded at once: every emit of both reaches
//      the server exactly once, each page's in order;
//   d. two sockets of one page for the same URL: each one's emits kept apart;
//   e. the queue's bounds: drops reported before the reload, and after it when the new
//      socket's queue is smaller than what came back;
//   f. without the option nothing is written.
// The pages of one file share one browser profile (and so one IndexedDB): each test
// uses a port of its own, and the key of a persisted queue holds the URL.
import { test } from "node:test";
import assert from "node:assert/strict";

import { freePort } from "../../scripts/children.mjs";
import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { startSocketIoServer } from "./support/processes.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 60_000;
const OPTS = { persistQueue: true, reconnectionDelay: 100, reconnectionDelayMax: 200 };

async function ready(page) {
  await page.waitForFunction(() => window.e2e && (window.e2e.ready || window.e2e.loadError), null, { timeout: 15_000 });
}

async function reload(page) {
  await page.reload({ timeout: 15_000 });
  await ready(page);
}

async function newPage(ctx) {
  const page = await ctx.page.context().newPage();
  await page.goto(`${ctx.url}/`, { timeout: 15_000 });
  await ready(page);
  return page;
}

/** Page side: the socket offline, `count` notes ["tag", n] emitted, storage written. */
function emitOffline(page, url, opts, tag, count, extra = []) {
  return page.evaluate(
    async ({ url, opts, tag, count, extra }) => {
      const socket = await e2e.open(url, opts, "main", { wait: 0 });
      e2e.dropped = e2e.drops(socket);
      for (let n = 1; n <= count; n += 1) socket.emit("note", tag, n);
      for (const [n, bytes] of extra) socket.emit("note", tag, n, new Uint8Array(bytes));
      // The writes are under way once emit returns; let them complete.
      await e2e.sleep(300);
      return { dropped: e2e.dropped.map(([reason, data]) => [reason, data[2]]) };
    },
    { url, opts, tag, count, extra },
  );
}

/** Page side: the socket made again; what it restored, and what it dropped. */
function reopen(page, url, opts, after = null) {
  return page.evaluate(
    async ({ url, opts, after }) => {
      const socket = e2e.lib.io(url, opts);
      e2e.sockets.main = socket;
      e2e.restored = [];
      socket.on("queue_restored", (emits) => e2e.restored.push(...emits.map((d) => e2e.serialize(d))));
      e2e.dropped = e2e.drops(socket);
      // Made at once: it must go out after the restored emits.
      if (after) socket.emit("note", ...after);
      await e2e.waitFor(() => socket.connected, 10_000, "the connect after the restart");
      await e2e.sleep(500);
      return { restored: e2e.restored, dropped: e2e.dropped.map(([reason, data]) => [reason, data[2]]) };
    },
    { url, opts, after },
  );
}

/**
 * Runs `fn(ctx, { port, url, start })` in a fresh page, with no server on `port` until
 * `start()` starts one there (resolving to its handle); stopped afterwards.
 */
async function withLateServer(t, fn) {
  const port = await freePort();
  let server = null;
  const start = async () => (server = await startSocketIoServer({ port }));
  try {
    await suite.withPage(t, (ctx) => fn(ctx, { port, url: `http://127.0.0.1:${port}`, start }));
  } finally {
    await server?.stop();
  }
}

const notesOf = (server, tag) => server.log.filter((e) => e.event === "note" && e.args[0] === tag).map((e) => e.args[1]);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("offline emits survive a reload: sent once, in order, before newer emits, and reported", { timeout: TEST_TIMEOUT }, async (t) => {
  await withLateServer(t, async (ctx, { url, start }) => {
    await emitOffline(ctx.page, url, clientOptions(OPTS), "r", 20, [[21, [1, 2, 3]]]);
    await reload(ctx.page);
    const server = await start();
    const result = await reopen(ctx.page, url, clientOptions(OPTS), ["r", 22]);
    await server.waitForLog((log) => notesOf(server, "r").length >= 22, 5000, "22 notes");
    assert.deepEqual(notesOf(server, "r"), range(1, 22), "every emit once, in order, the restored ones first");
    assert.equal(result.restored.length, 21, "queue_restored told the 21 emits");
    assert.deepEqual(result.restored[20], ["note", "r", 21, { $type: "Uint8Array", $bytes: "010203" }], "a binary argument came back as bytes");
    const binary = server.log.find((e) => e.event === "note" && e.args[1] === 21);
    assert.deepEqual(binary.args[2], { type: "Buffer", data: [1, 2, 3] }, "the server got the bytes");
    ctx.assertNoErrors();
  });
});

test("offline emits survive a crash of the page", { timeout: TEST_TIMEOUT }, async (t) => {
  await withLateServer(t, async (ctx, { url, start }) => {
    await emitOffline(ctx.page, url, clientOptions(OPTS), "c", 10);
    const crashed = new Promise((resolve) => ctx.page.once("crash", resolve));
    // A session of its own, never detached: it dies with the renderer.
    const session = await ctx.page.context().newCDPSession(ctx.page);
    session.send("Page.crash").catch(() => {});
    await crashed;
    const page = await newPage(ctx);
    try {
      const server = await start();
      const result = await reopen(page, url, clientOptions(OPTS));
      await server.waitForLog(() => notesOf(server, "c").length >= 10, 5000, "10 notes");
      assert.deepEqual(notesOf(server, "c"), range(1, 10));
      assert.equal(result.restored.length, 10);
    } finally {
      await page.close();
    }
  });
});

test("two pages reloaded at once: every emit of both exactly once, each page's in order", { timeout: TEST_TIMEOUT }, async (t) => {
  await withLateServer(t, async (ctx, { url, start }) => {
    const other = await newPage(ctx);
    try {
      await Promise.all([emitOffline(ctx.page, url, clientOptions(OPTS), "a", 10), emitOffline(other, url, clientOptions(OPTS), "b", 10)]);
      await Promise.all([reload(ctx.page), reload(other)]);
      const server = await start();
      const [first, second] = await Promise.all([reopen(ctx.page, url, clientOptions(OPTS)), reopen(other, url, clientOptions(OPTS))]);
      await server.waitForLog(() => notesOf(server, "a").length + notesOf(server, "b").length >= 20, 5000, "20 notes");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(notesOf(server, "a"), range(1, 10), "the first page's emits, once, in order");
      assert.deepEqual(notesOf(server, "b"), range(1, 10), "the second page's emits, once, in order");
      assert.equal(first.restored.length + second.restored.length, 20, "restored once, by one page or split between them");
    } finally {
      await other.close();
    }
  });
});

test("two sockets of one page for the same URL keep their emits apart", { timeout: TEST_TIMEOUT }, async (t) => {
  await withLateServer(t, async (ctx, { url, start }) => {
    await ctx.page.evaluate(
      async ({ url, opts }) => {
        const first = e2e.lib.io(url, { ...opts, forceNew: true });
        const second = e2e.lib.io(url, { ...opts, forceNew: true });
        for (let n = 1; n <= 3; n += 1) first.emit("note", "s", n);
        for (let n = 4; n <= 6; n += 1) second.emit("note", "s", n);
        await e2e.sleep(300);
      },
      { url, opts: clientOptions(OPTS) },
    );
    await reload(ctx.page);
    const server = await start();
    const result = await reopen(ctx.page, url, clientOptions(OPTS));
    await server.waitForLog(() => notesOf(server, "s").length >= 6, 5000, "6 notes");
    const notes = notesOf(server, "s");
    assert.deepEqual([...notes].sort((a, b) => a - b), range(1, 6), "both sockets' emits, once each");
    assert.deepEqual(notes.filter((n) => n <= 3), [1, 2, 3], "the first socket's in order");
    assert.deepEqual(notes.filter((n) => n > 3), [4, 5, 6], "the second socket's in order");
    assert.equal(result.restored.length, 6);
    ctx.assertNoErrors();
  });
});

test("the queue's bounds apply before and after the reload, and every drop is reported", { timeout: TEST_TIMEOUT }, async (t) => {
  await withLateServer(t, async (ctx, { url, start }) => {
    const before = await emitOffline(ctx.page, url, clientOptions({ ...OPTS, maxQueue: 5 }), "q", 8);
    assert.deepEqual(before.dropped.map(([, n]) => n), [1, 2, 3], "a queue of five dropped the three oldest, and said so");
    await reload(ctx.page);
    const server = await start();
    // Made offline first, so that what comes back meets the smaller queue.
    const result = await ctx.page.evaluate(
      async ({ url, opts }) => {
        const socket = e2e.lib.io(url, { ...opts, autoConnect: false });
        const restored = [];
        socket.on("queue_restored", (emits) => restored.push(...emits.map((d) => d[2])));
        const dropped = e2e.drops(socket);
        await e2e.waitFor(() => restored.length > 0, 5000, "the restore");
        socket.connect();
        await e2e.waitFor(() => socket.connected, 10_000, "the connect");
        await e2e.sleep(500);
        return { restored, dropped: dropped.map(([reason, data]) => [reason, data[2]]) };
      },
      { url, opts: clientOptions({ ...OPTS, maxQueue: 3 }) },
    );
    assert.deepEqual(result.restored, [4, 5, 6, 7, 8], "the five kept before the reload came back");
    assert.deepEqual(result.dropped.map(([, n]) => n), [4, 5], "the new queue of three dropped the two oldest, and said so");
    await server.waitForLog(() => notesOf(server, "q").length >= 3, 5000, "3 notes");
    assert.deepEqual(notesOf(server, "q"), [6, 7, 8]);
    ctx.assertNoErrors();
  });
});

test("without persistQueue nothing is written", { timeout: TEST_TIMEOUT }, async (t) => {
  await withLateServer(t, async (ctx, { port, url }) => {
    await emitOffline(ctx.page, url, clientOptions({ reconnectionDelay: 100 }), "n", 5);
    const stored = await ctx.page.evaluate(async (port) => {
      if (!(await indexedDB.databases()).some((d) => d.name === "resocket")) return [];
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("resocket");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      if (!db.objectStoreNames.contains("queue")) return [];
      const all = await new Promise((resolve) => {
        db.transaction("queue").objectStore("queue").getAll().onsuccess = (event) => resolve(event.target.result);
      });
      return all.filter((record) => record.k.includes(`:${port}`));
    }, port);
    assert.deepEqual(stored, []);
  });
});
