// shareAcrossTabs: the pages of one origin that ask for the same URL with the option
// share one connection. Three pages of one browser context against a real socket.io
// server with connection state recovery:
//   a. the server counts one Engine.IO connection; 1 000 server events reach every page
//      once, in order; each page's emitWithAck gets its own reply, and a page answers
//      the server's ack request; one page's disconnect() leaves the others connected;
//   b. the leading page is closed in the middle of a stream: another page takes over,
//      the remaining pages reconnect with `recovered` true and lose no event nor get
//      one twice, and the server counts one connection again (the hand-over time, from
//      the close to the pages' connect, is reported);
//   c. the same when the leader's renderer crashes (CDP Page.crash);
//   d. the leading page's own disconnect() hands the session over the same way;
//   e. with the server down, two pages emit: the shared queue's bounds drop the oldest,
//      and the page that made them is told; the leader closes, the server comes back:
//      every emit kept reaches it once, each page's in order;
//   f. a page's socket disconnected and connected again is back on the shared
//      connection; so is the leading page's, which then follows the next leader;
//   g. a take-over whose session the server does not restore (it may not have seen
//      the previous holder's transport close yet) presents it once more, then the
//      pages go on as a new session, told by `recovered` false;
//   h. pages that joined after the last event take the session over, recovered; a page
//      joining a recovered connection sends its rejoin() emits;
//   i. an emit whose answer is awaited, and one made while disconnected, reach the
//      server once across the page's disconnect() and connect(), the leader's too.
import { test } from "node:test";
import assert from "node:assert/strict";

import { clientOptions, e2eSuite } from "./support/browser.mjs";
import { analyzeStream, formatStreamReport } from "./support/sequence.mjs";
import { startServer } from "./support/processes.mjs";

const suite = e2eSuite(import.meta.url);
const TEST_TIMEOUT = 90_000;
const OPTS = { shareAcrossTabs: true, reconnectionDelay: 100, reconnectionDelayMax: 200 };

async function openPage(ctx) {
  const page = await ctx.page.context().newPage();
  await page.goto(`${ctx.url}/`, { timeout: 15_000 });
  await page.waitForFunction(() => window.e2e && (window.e2e.ready || window.e2e.loadError), null, { timeout: 15_000 });
  return page;
}

/** Page side: the shared socket, tracing the events `names`; resolves once connected. */
function join(page, url, names, extra = {}) {
  return page.evaluate(
    async ({ url, opts, names }) => {
      const socket = e2e.lib.io(url, opts);
      e2e.sockets.main = socket;
      for (const name of names) e2e.trace(socket, name, name);
      e2e.connects = [];
      socket.on("connect", () => e2e.connects.push({ at: performance.timeOrigin + performance.now(), recovered: socket.recovered }));
      socket.on("question", (text, answer) => answer(`${document.title || "page"}:${text}`));
      await e2e.waitFor(() => socket.connected, 10_000, "the shared socket to connect");
      return socket.id;
    },
    { url, opts: clientOptions({ ...OPTS, ...extra }), names },
  );
}

const leads = (page) => page.evaluate(() => !!e2e.sockets.main._leader);
const traceOf = (page, name) => page.evaluate((name) => e2e.traces[name], name);
const engineClients = async (page) => (await page.evaluate(() => e2e.sockets.main.timeout(5000).emitWithAck("whoami"))).clientsCount;

/** Waits until every page's trace `name` holds `count` events. */
async function received(pages, name, count) {
  for (const page of pages) {
    await page.evaluate(({ name, count }) => e2e.waitFor(() => e2e.traced("event", name) >= count, 20_000, `${count} "${name}" events`), { name, count });
  }
}

function assertStream(trace, label, last, { recovered = 0 } = {}) {
  const r = analyzeStream(trace, { lastSent: last });
  assert.equal(r.distinct, last, formatStreamReport(label, r));
  assert.equal(r.received, last, `${label}: every event once\n${formatStreamReport(label, r)}`);
  assert.equal(r.lostInRecovered + r.dupInRecovered + r.gapAtFresh, 0, formatStreamReport(label, r));
  assert.equal(r.freshConnects, 1, `${label}: one fresh session, the first\n${formatStreamReport(label, r)}`);
  assert.equal(r.recoveredConnects, recovered, `${label}: ${recovered} recovered connects\n${formatStreamReport(label, r)}`);
}

/** Three pages sharing one connection to a fresh server; `fn(ctx, { server, url, pages })`. */
async function withThreePages(t, fn, extra = {}, serverOptions = {}) {
  await suite.withServer(t, startServer({ recovery: true, ...serverOptions }), async (ctx, { server, url }) => {
    const pages = [ctx.page, await openPage(ctx), await openPage(ctx)];
    try {
      for (const [i, page] of pages.entries()) {
        await page.evaluate((title) => (document.title = title), `p${i}`);
        await join(page, url, ["n", "m", "hello"], extra);
        // An event before the others join: they learn the session from the leader's
        // word, not from an event.
        if (i == 0) {
          await page.evaluate(() => e2e.sockets.main.timeout(5000).emitWithAck("broadcast-later", 0, "hello"));
          await page.evaluate(() => e2e.waitFor(() => e2e.traced("event", "hello") == 1, 5000, "the hello"));
        }
      }
      assert.ok(await leads(pages[0]), "the first page leads");
      await fn(ctx, { server, url, pages });
    } finally {
      for (const page of pages.slice(1)) await page.close().catch(() => {});
    }
  });
}

const connections = (server) => server.log.filter((e) => e.event === "connection");

test("three pages share one connection: every event once in each, each page's acks its own", { timeout: TEST_TIMEOUT }, async (t) => {
  await withThreePages(t, async (ctx, { server, pages }) => {
    assert.equal(connections(server).length, 1, "the server saw one socket.io connection");
    assert.equal(await engineClients(pages[2]), 1, "the server counts one Engine.IO connection");
    const ids = await Promise.all(pages.map((page) => page.evaluate(() => e2e.sockets.main.id)));
    assert.deepEqual(new Set(ids), new Set([connections(server)[0].id]), "every page has the connection's socket id");

    const replies = await Promise.all(pages.map((page, i) => page.evaluate((i) => e2e.sockets.main.timeout(5000).emitWithAck("echo", `from p${i}`, i), i)));
    assert.deepEqual(replies, ["from p0", "from p1", "from p2"], "each page's emitWithAck got its own reply");

    server.send({ cmd: "stream", count: 1000, every: 5, batch: 20 });
    await received(pages, "n", 1000);
    for (const [i, page] of pages.entries()) assertStream(await traceOf(page, "n"), `p${i}`, 1000);

    // The server asks (with an ack): one page's answer reaches it.
    const asked = await pages[1].evaluate(() => e2e.sockets.main.timeout(5000).emitWithAck("ask", "q1"));
    assert.match(asked.answer?.[0] ?? "", /^p\d:q1$/, `a page answered the server: ${JSON.stringify(asked)}`);

    // One page leaves; the others stay on the same connection.
    const left = await pages[2].evaluate(async () => {
      const socket = e2e.sockets.main;
      const reasons = [];
      socket.on("disconnect", (reason) => reasons.push(reason));
      socket.disconnect();
      return { reasons, connected: socket.connected };
    });
    assert.deepEqual(left, { reasons: ["io client disconnect"], connected: false });
    for (const page of pages.slice(0, 2)) assert.equal(await page.evaluate(() => e2e.sockets.main.connected), true);
    await pages[0].evaluate(() => e2e.sockets.main.timeout(5000).emitWithAck("echo", "still here"));
    assert.equal(connections(server).length, 1, "no new connection");
    assert.equal(server.log.filter((e) => e.event === "disconnect").length, 0, "the connection never closed");
    ctx.assertNoErrors();
  });
});

/**
 * The leading page goes (`how`) in the middle of a 600-event stream; the two others
 * must take over the session and lose nothing.
 */
async function takeOver(t, how) {
  await withThreePages(t, async (ctx, { server, pages }) => {
    const [leader, ...rest] = pages;
    server.send({ cmd: "stream", name: "m", count: 600, every: 10, batch: 5 });
    await received(rest, "m", 100);
    const goneAt = performance.timeOrigin + performance.now();
    await how(leader);
    await server.waitForLog((log) => log.some((e) => e.event === "stream-stopped"), 20_000, "the end of the stream");
    await received(rest, "m", 600);
    const handOver = [];
    for (const [i, page] of rest.entries()) {
      assertStream(await traceOf(page, "m"), `p${i + 1}`, 600, { recovered: 1 });
      const connects = await page.evaluate(() => e2e.connects);
      assert.equal(connects.length, 2, `p${i + 1} connected twice: ${JSON.stringify(connects)}`);
      assert.equal(connects[1].recovered, true, "the session was recovered");
      handOver.push(Math.round(connects[1].at - goneAt));
    }
    t.diagnostic(`hand-over (leader gone -> pages connected): ${handOver.join(" ms, ")} ms`);
    assert.equal((await Promise.all(rest.map(leads))).filter(Boolean).length, 1, "one page leads");
    const all = connections(server);
    assert.equal(all.length, 2, "one new connection");
    assert.equal(all[1].recovered, true, "which the server recovered");
    assert.equal(all[1].id, all[0].id, "with the same socket id");
    assert.equal(await engineClients(rest[0]), 1, "the server counts one Engine.IO connection");
    const replies = await Promise.all(rest.map((page, i) => page.evaluate((i) => e2e.sockets.main.timeout(5000).emitWithAck("echo", i), i)));
    assert.deepEqual(replies, [0, 1], "each page's acks come back to it");
  });
}

test("the leading page closes: another takes the session over, nothing lost or duplicated", { timeout: TEST_TIMEOUT }, async (t) => {
  await takeOver(t, (leader) => leader.close());
});

test("the leading page crashes: another takes the session over, nothing lost or duplicated", { timeout: TEST_TIMEOUT }, async (t) => {
  await takeOver(t, async (leader) => {
    const crashed = new Promise((resolve) => leader.once("crash", resolve));
    const session = await leader.context().newCDPSession(leader);
    session.send("Page.crash").catch(() => {});
    await crashed;
  });
});

test("the leading page's disconnect() hands the session over", { timeout: TEST_TIMEOUT }, async (t) => {
  await takeOver(t, (leader) => leader.evaluate(() => e2e.sockets.main.disconnect()));
});

test("emits made offline in other pages survive the leader's close; the queue's drops reach the page that emitted", { timeout: TEST_TIMEOUT }, async (t) => {
  let restarted = null;
  try {
    await withThreePages(t, async (ctx, { server, url, pages }) => {
      const [leader, p1, p2] = pages;
      for (const page of [p1, p2]) await page.evaluate(() => (e2e.dropped = e2e.drops(e2e.sockets.main)));
      await server.kill();
      for (const page of pages) await page.evaluate(() => e2e.waitFor(() => !e2e.sockets.main.connected, 5000, "the disconnect"));
      // The shared queue keeps 8: p1's first two emits go (the oldest), and p1 is told.
      await p1.evaluate(() => [1, 2, 3, 4, 5].forEach((n) => e2e.sockets.main.emit("note", "p1", n)));
      await p1.evaluate(() => e2e.sleep(100));
      await p2.evaluate(() => [1, 2, 3, 4, 5].forEach((n) => e2e.sockets.main.emit("note", "p2", n)));
      await p2.evaluate(() => e2e.waitFor(() => e2e.sockets.main.sendBuffer.length == 5, 5000, "the emits kept"));
      const dropped = await p1.evaluate(() => e2e.waitFor(() => e2e.dropped.length == 2, 5000, "two drops").then(() => e2e.dropped.map(([reason, data]) => [reason, data[2]])));
      assert.deepEqual(dropped, [["overflow", 1], ["overflow", 2]]);
      assert.deepEqual(await p2.evaluate(() => e2e.dropped.length), 0, "p2 lost nothing");
      await leader.close();
      restarted = await startServer({ port: server.port, recovery: true });
      await p1.evaluate(() => e2e.waitFor(() => e2e.sockets.main.connected, 10_000, "the connect to the new server"));
      const notes = (tag) => restarted.log.filter((e) => e.event === "note" && e.args[0] === tag).map((e) => e.args[1]);
      await restarted.waitForLog(() => notes("p1").length + notes("p2").length >= 8, 10_000, "8 notes");
      await p1.evaluate(() => e2e.sleep(300));
      assert.deepEqual(notes("p1"), [3, 4, 5], "p1's emits kept, once, in order");
      assert.deepEqual(notes("p2"), [1, 2, 3, 4, 5], "p2's emits, once, in order");
      // The restarted server has no session: the take-over presents it twice (see g).
      assert.equal(restarted.log.filter((e) => e.event === "connection").length, 2, "two connections, one after the other");
      assert.equal(await engineClients(p1), 1, "one Engine.IO connection left");
    }, { maxQueue: 8 });
  } finally {
    await restarted?.stop();
  }
});

test("a page's socket that disconnects and connects again rejoins the shared connection, the leader's too", { timeout: TEST_TIMEOUT }, async (t) => {
  await withThreePages(t, async (ctx, { pages }) => {
    const [leader, p1, p2] = pages;
    const again = (page) =>
      page.evaluate(async () => {
        const socket = e2e.sockets.main;
        socket.disconnect();
        socket.connect();
        await e2e.waitFor(() => socket.connected, 10_000, "the connect again");
        return { leading: socket.leading, reply: await socket.timeout(5000).emitWithAck("echo", "back") };
      });
    assert.deepEqual(await again(p2), { leading: false, reply: "back" }, "a follower is back on the shared connection");
    // The leader leaves (p1 takes the session over) and comes back as a follower.
    assert.deepEqual(await again(leader), { leading: false, reply: "back" }, "the former leader follows");
    assert.equal(await leads(p1), true, "the next page leads");
    const ids = await Promise.all(pages.map((page) => page.evaluate(() => e2e.sockets.main.id)));
    assert.equal(new Set(ids).size, 1, "one socket id for all");
    assert.equal(await engineClients(leader), 1, "the server counts one Engine.IO connection");
    ctx.assertNoErrors();
  });
});

test("a take-over the server does not recover is presented once more, then goes on as a new session", { timeout: TEST_TIMEOUT }, async (t) => {
  await withThreePages(t, async (ctx, { server, pages }) => {
    const [leader, ...rest] = pages;
    // A session the server has never heard of: what the next leader presents.
    for (const page of rest) await page.evaluate(() => Object.assign(e2e.sockets.main, { _pid: "no-such-session", _last: "0-0" }));
    await leader.close();
    for (const page of rest) await page.evaluate(() => e2e.waitFor(() => e2e.connects.length == 2, 10_000, "the connect after the take-over"));
    for (const page of rest) {
      assert.deepEqual(await page.evaluate(() => e2e.connects.map((c) => c.recovered)), [false, false], "one connect, not recovered");
    }
    await server.waitForLog((log) => log.filter((e) => e.event === "connection").length >= 3, 5000, "three connections");
    assert.equal(connections(server).length, 3, "the first, and two presenting the session");
    assert.equal(await engineClients(rest[0]), 1, "one Engine.IO connection left");
    const replies = await Promise.all(rest.map((page, i) => page.evaluate((i) => e2e.sockets.main.timeout(5000).emitWithAck("echo", i), i)));
    assert.deepEqual(replies, [0, 1]);
  });
});

test("pages that joined after the last event take the session over; a page joining later sends its rejoins", { timeout: TEST_TIMEOUT }, async (t) => {
  await withThreePages(t, async (ctx, { server, url, pages }) => {
    const [leader, ...rest] = pages;
    // The only event with an offset came before p1 and p2 joined (withThreePages).
    await leader.close();
    for (const page of rest) await page.evaluate(() => e2e.waitFor(() => e2e.connects.length == 2, 10_000, "the connect after the take-over"));
    for (const page of rest) assert.equal(await page.evaluate(() => e2e.connects[1].recovered), true, "the session was recovered");
    // A new page on the recovered connection: its rejoin() emit is sent once it connects.
    const late = await openPage(ctx);
    try {
      await late.evaluate(async ({ url, opts }) => {
        const socket = e2e.lib.io(url, opts);
        e2e.sockets.main = socket;
        socket.rejoin("join", "late-room");
        await e2e.waitFor(() => socket.connected, 10_000, "the late page's connect");
      }, { url, opts: clientOptions(OPTS) });
      assert.equal(await late.evaluate(() => e2e.sockets.main.recovered), true, "it joined a recovered connection");
      await server.waitForLog((log) => log.some((e) => e.event === "join" && e.room === "late-room"), 5000, "the late page's rejoin");
    } finally {
      await late.close().catch(() => {});
    }
  });
});

test("an emit awaiting its answer, and one made while disconnected, reach the server once across disconnect() and connect()", { timeout: TEST_TIMEOUT }, async (t) => {
  await withThreePages(
    t,
    async (ctx, { server, pages }) => {
      const [leader, , p2] = pages;
      const holds = (tag) => server.log.filter((e) => e.event === "hold" && e.args[0] === tag).length;
      // p2's emit is on the wire, its answer held by the server; p2 leaves and comes back.
      const answer = p2.evaluate(() => new Promise((resolve) => e2e.sockets.main.emit("hold", "p2", (...args) => resolve(args))));
      await server.waitForLog(() => holds("p2") == 1, 5000, "p2's emit");
      await p2.evaluate(async () => {
        const socket = e2e.sockets.main;
        socket.disconnect();
        socket.connect();
        await e2e.waitFor(() => socket.connected, 10_000, "p2 back");
      });
      assert.deepEqual(await answer, ["held", "p2"], "the answer reached p2");
      // The leader leaves (p1 takes over), emits while disconnected, and comes back.
      await leader.evaluate(async () => {
        const socket = e2e.sockets.main;
        socket.disconnect();
        socket.emit("hold", "p0");
        await e2e.sleep(300);
        socket.connect();
        await e2e.waitFor(() => socket.connected, 10_000, "p0 back");
      });
      await server.waitForLog(() => holds("p0") == 1, 5000, "p0's emit");
      await p2.evaluate(() => e2e.sleep(800));
      assert.equal(holds("p2"), 1, "p2's emit reached the server once");
      assert.equal(holds("p0"), 1, "p0's emit reached the server once");
    },
    {},
    { holdMs: 1500 },
  );
});
