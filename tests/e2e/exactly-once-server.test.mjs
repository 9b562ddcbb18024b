// The server half of exactly-once emits (src/server/index.js, `resocket/server`), with
// no browser: real socket.io 4.8.4 servers in this process on 127.0.0.1, and Node's
// socket.io-client 4.8.4 as the client, sending the "~eo" packets of the wire format
// (v1) by hand, as a resocket client created with `exactlyOnce: true` sends them.
//   1. a seq sent three times runs its handler once, every copy gets the first reply;
//      reply 0: no ack function for the handler, an empty ack for the client; a stale
//      seq is acked empty; malformed packets run nothing and get no answer;
//   2. the helper is transparent to a plain socket.io-client (events with and without
//      acks, binary), and its hello comes right after connect, before the app's events;
//   3. a copy that comes while the handler has not answered gets no answer, then the
//      handler's reply once it has; after pendingTimeout, an empty ack;
//   4. the app's socket.use() middlewares see its own event; every event of a socket
//      waits, in order, for the store; a failing store; a socket closed mid-claim;
//   5. the memory store's bounds: maxClients (least recently used forgotten) and ttl;
//   6. attach and detach: a Namespace, namespaces made later (dynamic ones too);
//   7. redisStore: two servers on one private redis-server, a copy sent to the other
//      server answered with the first one's reply (binary included), no handler run;
//   8. index.d.ts types a typical setup (tsc --strict).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { createClient } from "redis";
import { Server } from "socket.io";
import { io as connectClient } from "socket.io-client";

import { exactlyOnce, memoryStore, redisStore } from "../../src/server/index.js";
import { redisAvailable, REDIS_SERVER, startRedis } from "./support/redis.mjs";
import { ROOT } from "./support/static.mjs";

const NO_ANSWER = "(no answer)";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const eo = (client, seq, reply, name, ...args) => ["~eo", client, seq, reply, name, ...args];

/** A socket.io server on 127.0.0.1 (free port), closed when the test ends. */
async function startServer(t, options = {}) {
  const http = createServer();
  const io = new Server(http, options);
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  t.after(() => io.close());
  return { io, url: `http://127.0.0.1:${http.address().port}` };
}

/**
 * A connected socket.io-client socket of its own connection, closed when the test ends;
 * `log` holds what it heard, in order: "connect", then each event as [name, ...args].
 */
async function connect(t, url, nsp = "/") {
  const socket = connectClient(`${url}${nsp}`, { transports: ["websocket"], forceNew: true, reconnection: false, autoConnect: false });
  const log = [];
  socket.on("connect", () => log.push("connect"));
  socket.onAny((...args) => log.push(args));
  t.after(() => socket.close());
  socket.connect();
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, log };
}

/** Emits `args` with an ack: resolves to the ack's arguments, or NO_ANSWER after `ms`. */
function ask(socket, args, ms = 2000) {
  return new Promise((resolve) => socket.timeout(ms).emit(...args, (err, ...reply) => resolve(err ? NO_ANSWER : reply)));
}

async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, `waited ${ms} ms for ${what}`);
    await sleep(10);
  }
}

/** A handler that records its calls (args, and whether it got an ack function) and answers with `answer(...args)`. */
function recorder(answer = (...args) => args) {
  const calls = [];
  const handler = (...args) => {
    const ack = typeof args.at(-1) == "function" ? args.pop() : null;
    calls.push({ args, ack: !!ack });
    ack?.(...answer(...args));
  };
  return { calls, handler };
}

test("a seq sent three times runs its handler once; copies get the first reply; reply 0, stale and malformed packets", async (t) => {
  const { io, url } = await startServer(t);
  exactlyOnce(io);
  let sum = 0;
  const add = recorder((a, b) => ["sum", (sum += a + b)]);
  const note = recorder();
  for (const nsp of [io, io.of("/other")]) {
    nsp.on("connection", (socket) => {
      socket.on("add", add.handler);
      socket.on("note", note.handler);
    });
  }
  const { socket } = await connect(t, url);

  // Each copy as the client resends it: the same packet, a new ack id.
  for (let copy = 0; copy < 3; copy++) assert.deepEqual(await ask(socket, eo("client-A", 1, 1, "add", 2, 3)), ["sum", 5]);
  assert.equal(await socket.emitWithAck(...eo("client-A", 1, 1, "add", 2, 3)), "sum", "emitWithAck gets the first argument");
  assert.deepEqual(add.calls, [{ args: [2, 3], ack: true }]);

  // The next seq runs again; another client, or the same client on another namespace,
  // has seqs of its own.
  assert.deepEqual(await ask(socket, eo("client-A", 2, 1, "add", 10, 0)), ["sum", 15]);
  assert.deepEqual(await ask(socket, eo("client-B", 1, 1, "add", 1, 1)), ["sum", 17]);
  const other = await connect(t, url, "/other");
  assert.deepEqual(await ask(other.socket, eo("client-A", 1, 1, "add", 1, 0)), ["sum", 18]);
  assert.equal(add.calls.length, 4);

  // reply 0: the handler gets no ack function, the client an empty ack, every time.
  assert.deepEqual(await ask(socket, eo("client-A", 3, 0, "note", "x", { y: [1] })), []);
  assert.deepEqual(await ask(socket, eo("client-A", 3, 0, "note", "x", { y: [1] })), []);
  assert.deepEqual(note.calls, [{ args: ["x", { y: [1] }], ack: false }]);

  // Stale: older than the last seq of that client.
  assert.deepEqual(await ask(socket, eo("client-A", 2, 1, "add", 100, 100)), []);
  assert.deepEqual(await ask(socket, eo("client-A", 1, 0, "note", "old")), []);

  // Malformed: dropped, unanswered, nothing run (seq 9 is then still new).
  const malformed = [
    ["~eo"],
    ["~eo", "client-A"],
    ["~eo", "client-A", 9, 1],
    eo("", 9, 1, "add", 1, 1),
    eo("bad id", 9, 1, "add", 1, 1),
    eo("x".repeat(65), 9, 1, "add", 1, 1),
    eo(7, 9, 1, "add", 1, 1),
    eo("client-A", 0, 1, "add", 1, 1),
    eo("client-A", -9, 1, "add", 1, 1),
    eo("client-A", 9.5, 1, "add", 1, 1),
    eo("client-A", "9", 1, "add", 1, 1),
    eo("client-A", 2 ** 53, 1, "add", 1, 1),
    eo("client-A", 9, 2, "add", 1, 1),
    eo("client-A", 9, true, "add", 1, 1),
    eo("client-A", 9, 1, 42, 1, 1),
    eo("client-A", 9, 1, "disconnect"),
    eo("client-A", 9, 1, "~eo"),
  ];
  const answers = await Promise.all(malformed.map((packet) => ask(socket, packet, 300)));
  assert.deepEqual(answers, malformed.map(() => NO_ANSWER));
  socket.emit(...eo("client-A", 9, 1, "add", 1, 1)); // no ack id
  await sleep(100);
  assert.equal(add.calls.length, 4, "no malformed packet ran the handler");
  assert.deepEqual(await ask(socket, eo("client-A", 9, 1, "add", 0, 0)), ["sum", 18]);
  assert.equal(add.calls.length, 5);
});

test("transparent to a plain socket.io-client; the hello comes right after connect, before the app's events", async (t) => {
  const { io, url } = await startServer(t);
  const plain = recorder();
  // The app's handlers of both "connect" and "connection" send something at once; they
  // are there before the helper.
  io.on("connect", (socket) => socket.emit("early", 1));
  io.on("connection", (socket) => {
    socket.emit("welcome", Buffer.from([1, 2]));
    socket.on("plain", plain.handler);
  });
  exactlyOnce(io);
  const { socket, log } = await connect(t, url);
  await until(() => log.length == 4, 2000, "the server's events");
  assert.deepEqual(log, ["connect", ["~eo", { v: 1 }], ["early", 1], ["welcome", Buffer.from([1, 2])]]);

  const args = [1, "two", { three: Buffer.from([3]), four: [null, true] }];
  assert.deepEqual(await ask(socket, ["plain", ...args]), args);
  socket.emit("plain", Buffer.from([5, 6]), "no ack");
  assert.equal(await socket.emitWithAck("plain", "with ack"), "with ack");
  await until(() => plain.calls.length == 3, 2000, "the plain events");
  assert.deepEqual(plain.calls, [
    { args, ack: true },
    { args: [Buffer.from([5, 6]), "no ack"], ack: false },
    { args: ["with ack"], ack: true },
  ]);
  assert.ok(Buffer.isBuffer(plain.calls[1].args[0]), "binary reaches the handler as a Buffer");
});

test("a copy while the handler has not answered: no answer, then the reply; after pendingTimeout, an empty ack", async (t) => {
  const { io, url } = await startServer(t);
  exactlyOnce(io, { pendingTimeout: 1000 });
  const held = [];
  io.on("connection", (socket) => socket.on("slow", (n, ack) => held.push({ n, ack })));
  const { socket } = await connect(t, url);

  // Answered late: a copy meanwhile is not answered, one after gets the reply.
  const first = ask(socket, eo("client-P", 1, 1, "slow", 1));
  await until(() => held.length == 1, 2000, "the handler");
  assert.equal(await ask(socket, eo("client-P", 1, 1, "slow", 1), 150), NO_ANSWER);
  held[0].ack("done", 1);
  assert.deepEqual(await first, ["done", 1]);
  assert.deepEqual(await ask(socket, eo("client-P", 1, 1, "slow", 1)), ["done", 1]);

  // Never answered within pendingTimeout: a copy after it gets an empty ack, the emit
  // is done; the handler's late answer still reaches the first copy, not the store.
  const claimedAt = Date.now();
  const second = ask(socket, eo("client-P", 2, 1, "slow", 2), 5000);
  await until(() => held.length == 2, 2000, "the handler");
  assert.equal(await ask(socket, eo("client-P", 2, 1, "slow", 2), 150), NO_ANSWER);
  await sleep(claimedAt + 1300 - Date.now());
  assert.deepEqual(await ask(socket, eo("client-P", 2, 1, "slow", 2)), []);
  held[1].ack("late");
  assert.deepEqual(await second, ["late"]);
  assert.deepEqual(await ask(socket, eo("client-P", 2, 1, "slow", 2)), []);
  assert.deepEqual(
    held.map((h) => h.n),
    [1, 2],
    "each handler ran once",
  );
});

test("app middlewares see the app's own event; events wait in order for the store; a failing store; a socket closed mid-claim", async (t) => {
  // A memory store whose claims take 100 ms, or fail while `failing`; its releases recorded.
  const memory = memoryStore();
  const released = [];
  let failing = false;
  const store = {
    async claim(...args) {
      await sleep(100);
      if (failing) throw new Error("store down");
      return memory.claim(...args);
    },
    finish: memory.finish,
    async release(...args) {
      released.push(args.slice(1));
      return memory.release(...args);
    },
  };
  const { io, url } = await startServer(t);
  const seen = [];
  const order = [];
  const errors = [];
  io.on("connection", (socket) => {
    socket.use((packet, next) => {
      seen.push(packet.map((a) => (typeof a == "function" ? "(ack)" : a)));
      if (packet[0] == "add") packet[2] *= 10; // the app's middleware may change the args
      next();
    });
    socket.on("add", (a, b, ack) => {
      order.push(`add ${a}+${b}`);
      ack(a + b);
    });
    socket.on("note", (...args) => order.push(`note ${args.join(",")}`));
    socket.on("error", (err) => errors.push(err.message));
  });
  // After the app's handlers: its middleware still comes first on every socket.
  exactlyOnce(io, { store });
  const { socket } = await connect(t, url);

  assert.deepEqual(await ask(socket, eo("client-M", 1, 1, "add", 1, 2)), [21]);
  assert.deepEqual(await ask(socket, eo("client-M", 1, 1, "add", 1, 2)), [21]);
  assert.deepEqual(await ask(socket, eo("client-M", 2, 0, "note", "n", 2)), []);
  assert.deepEqual(seen, [
    ["add", 1, 2, "(ack)"],
    ["note", "n", 2],
  ]);

  // A plain event sent right after an exactly-once one waits for it.
  const sum = ask(socket, eo("client-M", 3, 1, "add", 1, 1));
  socket.emit("note", "plain");
  assert.deepEqual(await sum, [11]);
  await until(() => order.length == 4, 2000, "the plain event");
  assert.deepEqual(order, ["add 1+20", "note n,2", "add 1+10", "note plain"]);

  // The store fails: the socket emits "error", the packet is dropped unanswered; the
  // client's next copy, once the store is back, runs it.
  failing = true;
  assert.equal(await ask(socket, eo("client-M", 4, 1, "add", 2, 2), 400), NO_ANSWER);
  assert.deepEqual(errors, ["store down"]);
  failing = false;
  assert.deepEqual(await ask(socket, eo("client-M", 4, 1, "add", 2, 2)), [22]);

  // The socket closes while its packet is being claimed: the claim is let go of, and
  // the copy sent on the next connection runs the handler.
  let acked = false;
  socket.emit(...eo("client-M", 5, 1, "add", 3, 3), () => (acked = true));
  await sleep(20);
  socket.disconnect();
  await until(() => released.length == 1, 2000, "the release");
  assert.deepEqual(released, [["client-M", 5]]);
  assert.equal(acked, false);
  const again = await connect(t, url);
  assert.deepEqual(await ask(again.socket, eo("client-M", 5, 1, "add", 3, 3)), [33]);
  assert.deepEqual(order.slice(4), ["add 2+20", "add 3+30"]);
});

test("memory store: beyond maxClients the least recently used client is forgotten; so is one idle past ttl", async (t) => {
  const { io, url } = await startServer(t);
  exactlyOnce(io, { maxClients: 3 });
  const ping = recorder((client) => [client]);
  io.on("connection", (socket) => socket.on("ping", ping.handler));
  const { socket } = await connect(t, url);
  const send = (client) => ask(socket, eo(client, 1, 1, "ping", client));

  for (const client of ["c1", "c2", "c3", "c4"]) assert.deepEqual(await send(client), [client]);
  for (const client of ["c2", "c3", "c4"]) assert.deepEqual(await send(client), [client]);
  assert.equal(ping.calls.length, 4, "c2..c4 are remembered");
  // c1, the least recently used, was forgotten: its copy is a new emit (documented),
  // and makes c2 the one forgotten.
  assert.deepEqual(await send("c1"), ["c1"]);
  assert.equal(ping.calls.length, 5);
  assert.deepEqual(await send("c2"), ["c2"]);
  assert.equal(ping.calls.length, 6);

  // ttl, on the store itself: idle is measured from the last claim or copy.
  const store = memoryStore({ ttl: 1000 });
  assert.deepEqual(await store.claim("/", "a", 1, 0), { status: "new" });
  assert.deepEqual(await store.claim("/", "a", 1, 500), { status: "pending", at: 0 });
  await store.finish("/", "a", 1, ["r"]);
  assert.deepEqual(await store.claim("/", "a", 1, 1499), { status: "done", reply: ["r"] });
  assert.deepEqual(await store.claim("/", "a", 1, 2499), { status: "new" }, "forgotten 1000 ms after its last use");

  // ttl through the helper.
  const short = await startServer(t);
  exactlyOnce(short.io, { ttl: 500 });
  const tick = recorder(() => ["ok"]);
  short.io.on("connection", (s) => s.on("tick", tick.handler));
  const client = await connect(t, short.url);
  assert.deepEqual(await ask(client.socket, eo("c1", 1, 1, "tick")), ["ok"]);
  assert.deepEqual(await ask(client.socket, eo("c1", 1, 1, "tick")), ["ok"]);
  assert.equal(tick.calls.length, 1);
  await sleep(700);
  assert.deepEqual(await ask(client.socket, eo("c1", 1, 1, "tick")), ["ok"]);
  assert.equal(tick.calls.length, 2, "forgotten after ttl: run again");
});

test("attach and detach: a Namespace target, namespaces made later, dynamic namespaces", async (t) => {
  const { io, url } = await startServer(t);
  const hello = async (nsp) => {
    const { socket, log } = await connect(t, url, nsp);
    await sleep(50);
    socket.close();
    return log.some((e) => e[0] == "~eo");
  };
  const detachChat = exactlyOnce(io.of("/chat"));
  assert.equal(await hello("/chat"), true);
  assert.equal(await hello("/"), false, "only the Namespace given");
  detachChat();
  assert.equal(await hello("/chat"), false);
  assert.throws(() => exactlyOnce(io.of("/x"), { store: memoryStore(), ttl: 5 }), /ttl and maxClients configure the default store/);
  assert.throws(() => exactlyOnce({}), /Server or Namespace/);

  // A Server: every namespace, those made later and dynamic children too.
  const detach = exactlyOnce(io);
  io.of("/later");
  io.of(/^\/room-\d+$/);
  for (const nsp of ["/", "/later", "/room-7"]) assert.equal(await hello(nsp), true, nsp);

  // Detached: no hello, and "~eo" packets reach the app as they are, on sockets that
  // were already there too.
  const raw = [];
  io.on("connection", (socket) => socket.on("~eo", (...args) => raw.push(args.length)));
  const { socket } = await connect(t, url);
  detach();
  for (const nsp of ["/", "/chat", "/later", "/room-7", "/room-8"]) assert.equal(await hello(nsp), false, nsp);
  socket.emit(...eo("client-D", 1, 0, "x"));
  await until(() => raw.length == 1, 2000, "the raw packet");
  assert.deepEqual(raw, [4]);
});

const redisSkip = redisAvailable() ? false : `no redis-server at ${REDIS_SERVER}`;

test("redisStore: two servers on one Redis; a copy sent to the other server gets the first one's reply", { skip: redisSkip, timeout: 30_000 }, async (t) => {
  const redis = await startRedis();
  const clients = [];
  // The clients first: a node-redis client would wait for a stopped Redis to come back.
  t.after(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => {})));
    await redis.stop();
  });
  const node = async (name) => {
    const client = createClient({ url: redis.url });
    clients.push(client);
    await client.connect();
    const server = await startServer(t);
    exactlyOnce(server.io, { store: redisStore(client, { prefix: "test:eo:", ttl: 60_000 }), pendingTimeout: 60_000 });
    const calls = [];
    const held = [];
    server.io.on("connection", (socket) => {
      socket.on("bin", (ack) => {
        calls.push("bin");
        const bytes = Uint8Array.from([0, 1, 254, 255]);
        ack(Buffer.from(bytes), bytes.buffer, new Uint16Array([1, 2]), { "~b": "not binary" }, { "~o": { "~b": 1 } }, { deep: [Buffer.from("hi")], at: new Date(0) });
      });
      socket.on("slow", (ack) => {
        calls.push("slow");
        held.push(ack);
      });
    });
    return { name, ...server, calls, held, client };
  };
  const [a, b] = await Promise.all([node("A"), node("B")]);
  const onA = await connect(t, a.url);
  const onB = await connect(t, b.url);

  const first = await ask(onA.socket, eo("client-R", 1, 1, "bin"));
  const copy = await ask(onB.socket, eo("client-R", 1, 1, "bin"));
  assert.deepEqual(copy, first, "B answers with A's reply");
  assert.deepEqual(first, [
    Buffer.from([0, 1, 254, 255]),
    Buffer.from([0, 1, 254, 255]),
    Buffer.from([1, 0, 2, 0]),
    { "~b": "not binary" },
    { "~o": { "~b": 1 } },
    { deep: [Buffer.from("hi")], at: "1970-01-01T00:00:00.000Z" },
  ]);
  assert.deepEqual([a.calls, b.calls], [["bin"], []]);

  // Pending on A: B does not answer; once A's handler has, B answers with its reply. A
  // stale copy on B is acked empty.
  const slow = ask(onA.socket, eo("client-R", 2, 1, "slow"));
  await until(() => a.held.length == 1, 2000, "A's handler");
  assert.equal(await ask(onB.socket, eo("client-R", 2, 1, "slow"), 200), NO_ANSWER);
  a.held[0]("from A");
  assert.deepEqual(await slow, ["from A"]);
  assert.deepEqual(await ask(onB.socket, eo("client-R", 2, 1, "slow")), ["from A"]);
  assert.deepEqual(await ask(onB.socket, eo("client-R", 1, 1, "bin")), []);
  assert.deepEqual([a.calls, b.calls], [["bin", "slow"], []]);

  // One key per (namespace, client), under the prefix, expiring.
  assert.deepEqual(await a.client.keys("test:eo:*"), ["test:eo:/:client-R"]);
  const ttl = await a.client.pTTL("test:eo:/:client-R");
  assert.ok(ttl > 50_000 && ttl <= 60_000, `PTTL ${ttl}`);
});

test("index.d.ts types a typical setup (tsc --strict)", { timeout: 60_000 }, async (t) => {
  await mkdir(join(ROOT, "test-results"), { recursive: true });
  // Under the repository, so that socket.io's and redis's types resolve from node_modules.
  const dir = await mkdtemp(join(ROOT, "test-results", "exactly-once-types-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const usage = `import { Server } from "socket.io";
import { createClient } from "redis";
import { exactlyOnce, memoryStore, redisStore, type Claim, type ExactlyOnceStore } from "resocket/server";

interface ClientEvents { add: (a: number, b: number, ack: (sum: number) => void) => void }
const io = new Server<ClientEvents>();
const detach: () => void = exactlyOnce(io, { pendingTimeout: 5000, maxClients: 10, ttl: 1000 });
exactlyOnce(io.of("/chat"), { store: memoryStore({ ttl: 1000, maxClients: 10 }) });
exactlyOnce(io.of(/^\\/room-\\d+$/), { store: redisStore(createClient(), { prefix: "app:eo:", ttl: 60_000 }) });
const mine: ExactlyOnceStore = {
  claim: async (): Promise<Claim> => ({ status: "pending", at: Date.now() }),
  finish: async () => {},
  release: async () => {},
};
exactlyOnce(io, { store: mine });
// @ts-expect-error not a store
exactlyOnce(io, { store: {} });
// @ts-expect-error not a target
exactlyOnce({});
detach();
`;
  await writeFile(join(dir, "usage.ts"), usage);
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: "es2022",
      module: "esnext",
      moduleResolution: "bundler",
      types: ["node"],
      skipLibCheck: false,
      paths: { "resocket/server": [join(ROOT, "src", "server", "index.d.ts")] },
    },
    files: ["usage.ts", join(ROOT, "src", "server", "index.d.ts")],
  };
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify(config));
  const tsc = spawn(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir, "--pretty", "false"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  tsc.stdout.on("data", (chunk) => (output += chunk));
  tsc.stderr.on("data", (chunk) => (output += chunk));
  const code = await new Promise((resolve) => tsc.once("close", resolve));
  assert.equal(code, 0, `tsc failed:\n${output}`);
});
