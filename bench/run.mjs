// `npm run bench`: resocket against socket.io-client 4.8.4 and a raw WebSocket baseline,
// in ONE headless Chromium, against the same local socket.io server, in alternating
// rounds (each measurement is taken for resocket, then socket.io-client, then raw, and
// the whole set is repeated). Prints a markdown table of medians over the rounds with
// ratios, and writes it, the per-round numbers (JSON) and an SVG chart of the
// throughput ratios to bench/results/ (git-ignored). Besides the main measurements: the
// inbound ones again against a second socket.io server with connection state recovery
// on (bench/server.mjs), the small inbound/outbound rates with each client in a
// Web Worker of the page (bench/page/worker.js), and the offline queue: emits made with
// no server (resocket with and without `persistQueue`, socket.io-client), and the
// restore of persisted emits in a new page (bench/page/offline.js). And `shareAcrossTabs`
// (resocket only; bench/page/share.js): with two pages sharing one connection, each
// page's main-thread CPU per inbound event (the follower's, which hears the events over
// a BroadcastChannel, and the leading page's), and the hand-over time when the leading
// page's socket disconnect()s or the page closes: until the other page is connected
// again, the session recovered.
//
//   node bench/run.mjs [--rounds=5] [--n=20000] [--acks=1000] [--sockets=200]
//                      [--offline-ms=1500] [--queue=500] [--no-warmup] [--smoke] [--profile]
//                      [--only=outbound,memory,...]
//
//   --n         events per throughput run (inbound pushes, outbound emits)
//   --acks      sequential emitWithAck round trips per latency run
//   --sockets   connected sockets opened for the per-socket memory figures
//   --offline-ms  how long the page stays offline before going online again
//   --queue     emits made offline per queue (at most 1000, the default maxQueue)
//   --smoke     tiny sizes, one round, no warm-up; exits 1 unless every measurement
//               produced a number (`npm test` runs it). Writes bench/results/smoke.*
//   --only      only these measurements (the names of MEASUREMENTS below; the sizes
//               always), for a quick side-by-side check of one change; writes
//               bench/results/only.*, not bench.*
//   --profile   instead of the benchmarks: the inbound and outbound runs of each client
//               once more under Chromium's CPU profiler; writes each profile
//               (bench/results/profile-*.cpuprofile, for DevTools) and where the time
//               went, by owner and by function (bench/results/profile.md). Build with
//               `npm run build -- --profiling` first to see the wasm functions' names.
//
// Needs the built package in pkg/ (`npm run build`) and /usr/bin/chromium (or
// CHROMIUM_PATH), as the end-to-end tests do.
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { CHROMIUM, CHROMIUM_ARGS } from "../tests/e2e/support/browser.mjs";
import { startChild } from "../tests/e2e/support/processes.mjs";
import { freePort } from "../scripts/children.mjs";
import { routeFiles, startFileServer } from "../tests/e2e/support/serve-dir.mjs";
import { CLIENTS, METRICS, applies, markdownTable, median, ratioChart, summarize } from "./report.mjs";
import { profileMarkdown, profiled, summarizeProfile } from "./profile.mjs";
import { measureSizes } from "./size.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BENCH = join(ROOT, "bench");
const RESULTS = join(BENCH, "results");
const require = createRequire(import.meta.url);
const SIOC_DIST = join(dirname(require.resolve("socket.io-client/package.json")), "dist");
const SIOC_VERSION = require("socket.io-client/package.json").version;
const SIO_VERSION = require("socket.io/package.json").version;

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const flags = {};
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    flags[m[1]] = m[2] ?? true;
  }
  const smoke = flags.smoke === true;
  const known = ["smoke", "rounds", "n", "acks", "sockets", "offline-ms", "queue", "no-warmup", "profile", "only"];
  for (const k of Object.keys(flags)) if (!known.includes(k)) throw new Error(`unknown flag --${k} (known: ${known.join(", ")})`);
  const int = (name, fallback, min) => {
    const v = flags[name] === undefined ? fallback : Number(flags[name]);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return v;
  };
  return {
    smoke,
    rounds: int("rounds", smoke ? 1 : 5, 1),
    n: int("n", smoke ? 200 : 20_000, 2),
    acks: int("acks", smoke ? 20 : 1000, 1),
    // Chromium allows ~255 WebSockets at once; 200 makes wasm growth (64 KiB pages) show.
    sockets: int("sockets", smoke ? 3 : 200, 1),
    offlineMs: int("offline-ms", smoke ? 300 : 1500, 0),
    queue: int("queue", smoke ? 20 : 500, 1),
    warmup: !smoke && flags["no-warmup"] !== true,
    profile: flags.profile === true,
    only: typeof flags.only == "string" ? flags.only.split(",") : null,
  };
}

const opts = parseArgs(process.argv.slice(2));
// More would be dropped by the default maxQueue, and the runs expect every emit kept.
if (opts.queue > 1000) throw new Error("--queue must be at most 1000 (the default maxQueue)");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...args) => console.error(...args); // progress on stderr; the table on stdout

// ---------------------------------------------------------------- static server

// pkg/ is copied when the run starts, and the copy is what is served and measured: a
// build running meanwhile cannot mix two versions into one report.
let pkgDir = null;

function startStatic() {
  const page = join(BENCH, "page");
  const fileFor = routeFiles({
    index: join(page, "index.html"),
    mounts: { "/bench/": page, "/pkg/": pkgDir, "/vendor/": SIOC_DIST },
  });
  return startFileServer(fileFor, {
    headers: {
      "cache-control": "no-store",
      // Cross-origin isolation: performance.now() at 5 µs instead of 100 µs.
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    },
  });
}

// ---------------------------------------------------------------- socket.io server

/**
 * Starts bench/server.mjs (retrying while its port is still taken after a kill);
 * resolves to the handle of startChild(): { port, upAt, alive, kill(), stop(), … }.
 */
async function startBenchServer(port = 0) {
  const handle = await startChild(join(BENCH, "server.mjs"), [`--port=${port}`], { name: "bench server", attempts: 21, retryMs: 100 });
  // Its second server, with connection state recovery on, on a port of its own.
  const announced = (log) => log.some((l) => Number.isInteger(l.recoveryPort));
  await handle.waitForLog(announced, 10_000, "the recovery server's port");
  handle.recoveryPort = handle.log.find((l) => Number.isInteger(l.recoveryPort)).recoveryPort;
  return handle;
}

// ---------------------------------------------------------------- the run

const rounds = Object.fromEntries(METRICS.map((m) => [m.key, Object.fromEntries(CLIENTS.map((c) => [c, []]))]));
const failures = [];
const record = (key, client, value) => rounds[key][client].push(value);
// { [metric]: { [client]: why it could not be measured at all } }: only for the metrics
// with `canBeNa` (a client that cannot load in a Web Worker); shown as n/a.
const unavailable = {};

let server = null;
let staticServer = null;
let browser = null;
let tempDir = null;

async function openPage(context, staticUrl, clients) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(String(err?.message ?? err)));
  await page.goto(`${staticUrl}/${clients ? `?clients=${clients.join(",")}` : ""}`, { timeout: 30_000 });
  await page.waitForFunction(() => window.bench && (window.bench.ready || window.bench.loadError), null, { timeout: 30_000 });
  const loadError = await page.evaluate(() => window.bench.loadError);
  if (loadError) throw new Error(`the bench page failed to load: ${loadError}`);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  return { page, cdp, errors };
}

async function gc(cdp) {
  for (let i = 0; i < 3; i += 1) await cdp.send("HeapProfiler.collectGarbage");
}

/** Runs one measurement; a failure is recorded as NaN (and reported), never fatal. */
async function attempt(key, client, fn) {
  try {
    const value = await fn();
    return value;
  } catch (err) {
    const message = String(err?.message ?? err).split("\n")[0];
    failures.push({ key, client, message });
    log(`  ${key} / ${client}: FAILED: ${message}`);
    return NaN;
  }
}

const url = () => `http://127.0.0.1:${server.port}`;
// The socket.io server with connection state recovery on (same process, own port).
const recoveryUrl = () => `http://127.0.0.1:${server.recoveryPort}`;

/**
 * Runs `fn` and resolves to [its result, the page's main-thread CPU time meanwhile in ms
 * (CDP Performance.getMetrics, TaskDuration)]. Less sensitive to a busy machine than a
 * rate: time the page waits for the CPU is not counted.
 */
async function withCpu(cdp, fn) {
  const taskMs = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    return (metrics.find((m) => m.name === "TaskDuration")?.value ?? NaN) * 1000;
  };
  const before = await taskMs();
  const result = await fn();
  return [result, (await taskMs()) - before];
}

const perThousand = (ms) => (ms * 1000) / opts.n;

async function inbound({ page, cdp }, client, key, kind, serverUrl = url) {
  await gc(cdp);
  const r = await attempt(key, client, () =>
    withCpu(cdp, () => page.evaluate(([c, u, k, n]) => bench.inbound(c, u, k, n), [client, serverUrl(), kind, opts.n])),
  );
  const [run, cpuMs] = r || [];
  record(key, client, run?.perSecond ?? NaN);
  record(`${key}Cpu`, client, perThousand(cpuMs ?? NaN));
  log(`  ${key.padEnd(8)} ${client.padEnd(16)} ${Math.round(run?.perSecond ?? NaN)} events/s, ${perThousand(cpuMs ?? NaN).toFixed(1)} ms of main-thread CPU per 1000`);
}

/**
 * Runs measure.js's `what` with `args` in the client's Web Worker (bench.inWorker);
 * resolves to its result, or null if it failed (recorded as a failure) or the client
 * cannot load in a worker (recorded in `unavailable`, shown as n/a).
 */
async function inWorker({ page }, client, key, what, args) {
  const r = await attempt(key, client, () => page.evaluate(([c, w, a]) => bench.inWorker(c, w, a), [client, what, args]));
  if (r?.unavailable) {
    (unavailable[key] ??= {})[client] = r.unavailable;
    log(`  ${key} / ${client}: n/a: ${r.unavailable.split("\n")[0]}`);
    return null;
  }
  return r?.result ?? null;
}

// ---------------------------------------------------------------- offline queue

// A port nobody listens on, for one socket: a port of its own for every socket of the
// run, so that no run counts (or restores) the IndexedDB records of another (the key of
// a persisted queue holds the URL, and every page of the browser profile shares them).
const deadPorts = new Set();
async function deadPort() {
  for (;;) {
    const port = await freePort();
    if (deadPorts.has(port) || port === server.port || port === server.recoveryPort) continue;
    deadPorts.add(port);
    return port;
  }
}

const perThousandQueued = (ms) => (ms * 1000) / opts.queue;

/**
 * One offline run in `page`: a socket of `client` (with `persistQueue` if `persist`)
 * whose first connection attempt has failed and, with the option, whose claim of gone
 * pages' emits is done; then, measured, --queue emits and the count of its records (see
 * offline.js). Resolves to { loopMs, writtenMs, reads, cpuMs, idleMs }: `cpuMs` net of
 * `idleMs`, the median CPU of three calls that emit nothing: the call, its count and
 * the CPU readings themselves cost the page 1 to 2 ms, more than socket.io-client's 500
 * emits do.
 */
async function offlineRun({ page, cdp }, client, persist) {
  const port = await deadPort();
  await page.evaluate(([c, p, o]) => bench.offlineOpen(c, p, o), [client, port, persist ? { persistQueue: true } : {}]);
  try {
    await gc(cdp);
    const idle = [];
    for (let i = 0; i < 3; i += 1) idle.push((await withCpu(cdp, () => page.evaluate(() => bench.offlineEmit(0, 0))))[1]);
    const idleMs = median(idle);
    const [run, cpuMs] = await withCpu(cdp, () => page.evaluate(([n, e]) => bench.offlineEmit(n, e), [opts.queue, persist ? opts.queue : 0]));
    await page.evaluate((n) => bench.offlineQueued(n), opts.queue);
    return { ...run, cpuMs: cpuMs - idleMs, idleMs };
  } finally {
    await page.evaluate(() => bench.offlineClose()).catch(() => {});
  }
}

/**
 * The restore of --queue persisted emits: a fresh page writes them offline and is
 * closed (its Web Lock goes with it, which is what lets another page take its records);
 * a second fresh page, once persist.js is loaded and its database open there (a first
 * socket for another port, not measured) and the first page's lock is free, makes the
 * restoring socket, measured until the emits are queued and written again.
 */
async function restoreRun(context, staticUrl) {
  const port = await deadPort();
  const writer = await openPage(context, staticUrl, ["resocket"]);
  let lock;
  try {
    const locks = await writer.page.evaluate((p) => bench.offlineOpen("resocket", p, { persistQueue: true }), port);
    if (locks.length !== 1) throw new Error(`the writing page took ${locks.length} Web Locks (${locks.join(", ")}), not one`);
    lock = locks[0];
    await writer.page.evaluate((n) => bench.offlineEmit(n, n), opts.queue);
    await writer.page.evaluate((n) => bench.offlineQueued(n), opts.queue);
  } finally {
    await writer.cdp.detach().catch(() => {});
    await writer.page.close().catch(() => {});
  }
  const fresh = await openPage(context, staticUrl, ["resocket"]);
  try {
    const { page, cdp } = fresh;
    const other = await deadPort();
    await page.evaluate((p) => bench.offlineOpen("resocket", p, { persistQueue: true, autoConnect: false }), other);
    await page.evaluate(() => bench.offlineClose());
    await page.evaluate((name) => bench.offlineLockGone(name), lock);
    await gc(cdp);
    const [r, cpuMs] = await withCpu(cdp, () => page.evaluate(([p, n]) => bench.offlineRestore(p, n), [port, opts.queue]));
    await page.evaluate((n) => bench.offlineQueued(n), opts.queue);
    await page.evaluate(() => bench.offlineClose());
    if (fresh.errors.length) throw new Error(`page errors: ${fresh.errors.slice(0, 3).join("; ")}`);
    return { ...r, cpuMs };
  } finally {
    await fresh.cdp.detach().catch(() => {});
    await fresh.page.close().catch(() => {});
  }
}

// ---------------------------------------------------------------- shareAcrossTabs

// Events the follower has the recovery server emit (and store, with their offsets)
// before a hand-over: the page taking over resumes the session from the last one's.
const STORED_EVENTS = 5;

const nodeNow = () => performance.timeOrigin + performance.now();

/**
 * Two fresh pages loading resocket alone, of the main page's browser context (the same
 * origin, so their shared sockets share one connection): `fn(leader, follower)`, then
 * both pages closed. The first one's socket is opened first, so it leads.
 */
async function withPagePair(context, staticUrl, fn) {
  const pages = [];
  try {
    for (let i = 0; i < 2; i += 1) pages.push(await openPage(context, staticUrl, ["resocket"]));
    const result = await fn(...pages);
    const errors = pages.flatMap((p) => p.errors);
    if (errors.length) throw new Error(`page errors: ${errors.slice(0, 3).join("; ")}`);
    return result;
  } finally {
    for (const { page, cdp } of pages) {
      await cdp.detach().catch(() => {});
      await page.close().catch(() => {});
    }
  }
}

/**
 * Runs `fn()` with `leader`'s and `follower`'s shared sockets connected to `serverUrl`,
 * the leader's opened first (it leads; checked), once no page of the origin holds or
 * waits for a shared connection's lock: the key of a shared connection ignores the
 * URL's query, so only that keeps an earlier run's socket from leading this one. Both
 * sockets are disconnected afterwards, the follower's first (no hand-over then).
 */
async function withSharedSockets(leader, follower, serverUrl, fn) {
  await leader.page.evaluate(() => bench.shareLocksFree());
  try {
    await leader.page.evaluate((u) => bench.shareOpen(u, true), serverUrl);
    await follower.page.evaluate((u) => bench.shareOpen(u, false), serverUrl);
    return await fn();
  } finally {
    for (const { page } of [follower, leader]) await page.evaluate(() => bench.shareClose()).catch(() => {});
  }
}

/** The follower emits `request` ([event, ...args]); resolves once both pages have counted `n` "tick"s. */
const bothCounted = (leader, follower, n, request) =>
  Promise.all([
    follower.page.evaluate(([n, r]) => bench.shareTicks(n, r), [n, request]),
    leader.page.evaluate((n) => bench.shareTicks(n), n),
  ]);

/**
 * Inbound through a shared connection to the main server: the follower asks for --n
 * small events (after as many as 2 000 unmeasured, to warm both pages up, unless
 * --no-warmup), which both pages' sockets hear. Resolves to { leaderMs, followerMs }:
 * each page's main-thread CPU from the follower's request to both pages' last event.
 */
async function sharedInboundRun(leader, follower) {
  return withSharedSockets(leader, follower, url(), async () => {
    const push = (n) => bothCounted(leader, follower, n, ["push", { kind: "small", n }]);
    if (opts.warmup) await push(Math.min(opts.n, 2000));
    await gc(leader.cdp);
    await gc(follower.cdp);
    const [[, followerMs], leaderMs] = await withCpu(leader.cdp, () => withCpu(follower.cdp, () => push(opts.n)));
    return { leaderMs, followerMs };
  });
}

/**
 * A hand-over: `leader` and `follower` share a connection to the recovery server, and
 * both have had STORED_EVENTS stored events; then the leading page goes (`how`: its
 * socket's disconnect(), or the page closed). Resolves to the ms from just before that
 * to the follower's next connect, once checked to have recovered the session and to
 * lead.
 */
async function handOverRun(leader, follower, how) {
  return withSharedSockets(leader, follower, recoveryUrl(), async () => {
    await bothCounted(leader, follower, STORED_EVENTS, ["push-stored", { n: STORED_EVENTS }]);
    let goneAt;
    if (how === "close") {
      await leader.cdp.detach();
      goneAt = nodeNow();
      await leader.page.close();
    } else {
      goneAt = await leader.page.evaluate(() => bench.shareDisconnect());
    }
    const connectedAt = await follower.page.evaluate(() => bench.shareTakenOver());
    return connectedAt - goneAt;
  });
}

const MEASUREMENTS = {
  inSmall: (main, client) => inbound(main, client, "inSmall", "small"),
  in1k: (main, client) => inbound(main, client, "in1k", "json1k"),
  inBinary: (main, client) => inbound(main, client, "inBinary", "binary"),
  async outbound({ page, cdp }, client) {
    await gc(cdp);
    const measured = await attempt("outSmall", client, () =>
      withCpu(cdp, () => page.evaluate(([c, u, n]) => bench.outbound(c, u, n), [client, url(), opts.n])),
    );
    const [r, cpuMs] = measured || [];
    record("outSmall", client, r?.perSecond ?? NaN);
    record("outLoop", client, r ? (opts.n * 1000) / r.sendLoopMs : NaN);
    record("outSmallCpu", client, perThousand(cpuMs ?? NaN));
    log(`  outSmall ${client.padEnd(16)} ${Math.round(r?.perSecond ?? NaN)} emits/s (send loop ${r?.sendLoopMs?.toFixed(1)} ms of ${r?.ms?.toFixed(1)} ms; server CPU ${r?.serverCpuMs?.toFixed(0)} ms; page CPU ${perThousand(cpuMs ?? NaN).toFixed(1)} ms per 1000)`);
  },
  async acks({ page, cdp }, client) {
    await gc(cdp);
    const r = await attempt("ackP50", client, () => page.evaluate(([c, u, m]) => bench.acks(c, u, m), [client, url(), opts.acks]));
    record("ackP50", client, r?.p50 ?? NaN);
    record("ackP99", client, r?.p99 ?? NaN);
    log(`  acks     ${client.padEnd(16)} p50 ${r?.p50?.toFixed(3)} ms, p99 ${r?.p99?.toFixed(3)} ms, max ${r?.max?.toFixed(3)} ms`);
  },
  // The server is killed (SIGKILL) and started again on the same port; the client
  // retries every 100 ms (reconnectionDelay = reconnectionDelayMax = 100, no jitter).
  async restart({ page }, client) {
    const port = server.port;
    const value = await attempt("restart", client, async () => {
      try {
        const o = { reconnectionDelay: 100, reconnectionDelayMax: 100, randomizationFactor: 0 };
        await page.evaluate(([c, u, o]) => bench.open(c, u, o, "r"), [client, url(), o]);
        await server.kill();
        await page.evaluate(() => bench.waitMark("r", "disconnect", 1, 10_000));
        server = await startBenchServer(port);
        const connectedAt = await page.evaluate(() => bench.waitMark("r", "connect", 2, 20_000));
        return connectedAt - server.upAt;
      } finally {
        await page.evaluate(() => bench.closeAll()).catch(() => {});
        if (!server.alive) server = await startBenchServer(port);
      }
    });
    record("restart", client, value);
    log(`  restart  ${client.padEnd(16)} ${value.toFixed(1)} ms from the server's port line to connect`);
  },
  // Offline (CDP) while the server is up; every client drops its socket on `offline`;
  // after --offline-ms, online again. Client backoff: delay 1000, max 5000, no jitter
  // (socket.io-client's defaults but for the jitter).
  async online({ page, cdp }, client) {
    const network = (offline) =>
      cdp.send("Network.emulateNetworkConditions", { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const value = await attempt("online", client, async () => {
      try {
        const o = { reconnectionDelay: 1000, reconnectionDelayMax: 5000, randomizationFactor: 0 };
        await page.evaluate(([c, u, o]) => bench.open(c, u, o, "o"), [client, url(), o]);
        await network(true);
        await page.evaluate(() => bench.waitMark("o", "disconnect", 1, 10_000));
        await sleep(opts.offlineMs);
        const seen = await page.evaluate(() => bench.window.length);
        await network(false);
        const onlineAt = await page.evaluate(async (seen) => {
          const deadline = performance.now() + 5000;
          while (performance.now() < deadline) {
            const e = bench.window.slice(seen).find((w) => w.name === "online");
            if (e) return e.t;
            await new Promise((r) => setTimeout(r, 2));
          }
          throw new Error("no online event");
        }, seen);
        const connectedAt = await page.evaluate(() => bench.waitMark("o", "connect", 2, 30_000));
        return connectedAt - onlineAt;
      } finally {
        await network(false).catch(() => {});
        await page.evaluate(() => bench.closeAll()).catch(() => {});
      }
    });
    record("online", client, value);
    log(`  online   ${client.padEnd(16)} ${value.toFixed(1)} ms from online to connect`);
  },
  // A fresh page loading only this client; one socket opened first (lazy set-up is not
  // per-socket), then heap and wasm memory after forced GCs, before and after
  // opening --sockets more connected sockets (forceNew: one connection each).
  async memory(_main, client, context, staticUrl) {
    let mem = null;
    await attempt("heapPerSocket", client, async () => {
      const fresh = await openPage(context, staticUrl, [client]);
      try {
        const { page, cdp } = fresh;
        const sample = async () => {
          await gc(cdp);
          const heap = await cdp.send("Runtime.getHeapUsage");
          return { heap: heap.usedSize, wasm: await page.evaluate(() => bench.wasmMemoryBytes()) };
        };
        await page.evaluate(([c, u]) => bench.openMany(c, u, 1), [client, url()]);
        const before = await sample();
        await page.evaluate(([c, u, k]) => bench.openMany(c, u, k), [client, url(), opts.sockets]);
        const after = await sample();
        await page.evaluate(() => bench.closeAll());
        const heap = (after.heap - before.heap) / opts.sockets;
        const wasm = client === "resocket" ? (after.wasm - before.wasm) / opts.sockets : 0;
        mem = { heap, wasm, before, after };
      } finally {
        await fresh.cdp.detach().catch(() => {});
        await fresh.page.close().catch(() => {});
      }
    });
    record("heapPerSocket", client, mem?.heap ?? NaN);
    if (applies(METRICS.find((m) => m.key === "wasmPerSocket"), client)) record("wasmPerSocket", client, mem?.wasm ?? NaN);
    record("memPerSocket", client, mem ? mem.heap + mem.wasm : NaN);
    log(
      `  memory   ${client.padEnd(16)} heap ${Math.round(mem?.heap)} B/socket` +
        (client === "resocket" ? `, wasm ${Math.round(mem?.wasm)} B/socket (wasm memory ${mem?.before.wasm} -> ${mem?.after.wasm} bytes)` : ""),
    );
  },
  // Last in the round, so that the rows above are measured as before they existed.
  // Inbound from the server with connection state recovery on (offsets in every event).
  inSmallRec: (main, client) => inbound(main, client, "inSmallRec", "small", recoveryUrl),
  in1kRec: (main, client) => inbound(main, client, "in1kRec", "json1k", recoveryUrl),
  inBinaryRec: (main, client) => inbound(main, client, "inBinaryRec", "binary", recoveryUrl),
  // The same runs as inSmall and outSmall, in the client's own Web Worker.
  async inSmallWorker(main, client) {
    await gc(main.cdp);
    const r = await inWorker(main, client, "inSmallWorker", "inbound", [url(), "small", opts.n]);
    record("inSmallWorker", client, r?.perSecond ?? NaN);
    log(`  inSmallWorker  ${client.padEnd(16)} ${Math.round(r?.perSecond ?? NaN)} events/s in a worker`);
  },
  async outSmallWorker(main, client) {
    await gc(main.cdp);
    const r = await inWorker(main, client, "outSmallWorker", "outbound", [url(), opts.n]);
    record("outSmallWorker", client, r?.perSecond ?? NaN);
    log(`  outSmallWorker ${client.padEnd(16)} ${Math.round(r?.perSecond ?? NaN)} emits/s in a worker (send loop ${r?.sendLoopMs?.toFixed(1)} ms of ${r?.ms?.toFixed(1)} ms)`);
  },
  // Emits made offline (no server on the socket's port): resocket with persistQueue and
  // without, socket.io-client (its in-memory send buffer). The raw baseline keeps no
  // queue. socket.io-client's figure stands in both CPU rows: it is what an app has
  // without resocket, with or without persistence.
  async offline(main, client) {
    if (client === "raw") return;
    const show = (what, r) =>
      log(
        `  offline  ${what.padEnd(24)} ${perThousandQueued(r?.cpuMs ?? NaN).toFixed(2)} ms of page CPU per 1000 emits (loop ${r?.loopMs?.toFixed(2)} ms, ` +
          `first emit -> counted ${r?.writtenMs?.toFixed(1)} ms, ${r?.reads} read(s); net of ${r?.idleMs?.toFixed(2)} ms for a call with no emit)`,
      );
    if (client === "socket.io-client") {
      const r = await attempt("offlineCpu", client, () => offlineRun(main, client, false));
      const cpu = perThousandQueued(r?.cpuMs ?? NaN);
      record("offlineCpu", client, cpu);
      record("offlinePersistCpu", client, cpu);
      return show(client, r);
    }
    const persisted = await attempt("offlinePersistCpu", client, () => offlineRun(main, client, true));
    const plain = await attempt("offlineCpu", client, () => offlineRun(main, client, false));
    const withIt = perThousandQueued(persisted?.cpuMs ?? NaN);
    const without = perThousandQueued(plain?.cpuMs ?? NaN);
    record("offlinePersistCpu", client, withIt);
    record("offlineCpu", client, without);
    record("persistOwnCpu", client, withIt - without);
    record("persistWrittenMs", client, persisted?.writtenMs ?? NaN);
    show("resocket, persistQueue", persisted);
    show("resocket", plain);
  },
  async restore(_main, client, context, staticUrl) {
    if (client !== "resocket") return;
    const r = await attempt("restoreCpu", client, () => restoreRun(context, staticUrl));
    record("restoreCpu", client, r?.cpuMs ?? NaN);
    record("restoreMs", client, r?.restoredMs ?? NaN);
    record("restoreWrittenMs", client, r?.writtenMs ?? NaN);
    log(
      `  restore  ${client.padEnd(16)} ${opts.queue} emits: ${r?.cpuMs?.toFixed(1)} ms of page CPU; io() -> queue_restored ${r?.restoredMs?.toFixed(1)} ms, ` +
        `-> written again ${r?.writtenMs?.toFixed(1)} ms`,
    );
  },
  // shareAcrossTabs: each run with a fresh pair of pages (withPagePair), so that the
  // page taking a session over has never led before (it loads the leader's module then,
  // as a page of an app would).
  async share(_main, client, context, staticUrl) {
    if (client !== "resocket") return;
    const cpu = await attempt("shareFollowerCpu", client, () => withPagePair(context, staticUrl, sharedInboundRun));
    record("shareFollowerCpu", client, perThousand(cpu?.followerMs ?? NaN));
    record("shareLeaderCpu", client, perThousand(cpu?.leaderMs ?? NaN));
    log(
      `  share    ${client.padEnd(16)} ms of main-thread CPU per 1000 inbound events: follower ${perThousand(cpu?.followerMs ?? NaN).toFixed(1)}, ` +
        `leader ${perThousand(cpu?.leaderMs ?? NaN).toFixed(1)}`,
    );
    for (const [key, how] of [["handOverDisconnect", "disconnect"], ["handOverClose", "close"]]) {
      const ms = await attempt(key, client, () => withPagePair(context, staticUrl, (leader, follower) => handOverRun(leader, follower, how)));
      record(key, client, ms);
      log(`  share    ${client.padEnd(16)} hand-over (leader's ${how === "close" ? "page.close()" : "disconnect()"} -> the other page connected, recovered): ${ms.toFixed(1)} ms`);
    }
  },
};

async function warmUp(main) {
  log("warm-up (not recorded)");
  const { page } = main;
  for (const client of CLIENTS) {
    const n = Math.min(opts.n, 2000);
    for (const kind of ["small", "json1k", "binary"]) {
      await page.evaluate(([c, u, k, n]) => bench.inbound(c, u, k, n), [client, url(), kind, n]);
    }
    await page.evaluate(([c, u, n]) => bench.outbound(c, u, n), [client, url(), n]);
    await page.evaluate(([c, u, m]) => bench.acks(c, u, m), [client, url(), Math.min(opts.acks, 100)]);
    for (const kind of ["small", "json1k", "binary"]) {
      await page.evaluate(([c, u, k, n]) => bench.inbound(c, u, k, n), [client, recoveryUrl(), kind, n]);
    }
    // A client that cannot load in a worker resolves to { unavailable } here.
    await page.evaluate(([c, a]) => bench.inWorker(c, "inbound", a), [client, [url(), "small", n]]);
    await page.evaluate(([c, a]) => bench.inWorker(c, "outbound", a), [client, [url(), n]]);
    if (client !== "raw") await offlineRun(main, client, false);
    if (client === "resocket") await offlineRun(main, client, true);
  }
}

// The throughput runs, for --profile: [name, inbound kind or null for outbound].
const PROFILED = [
  ["inbound small JSON", "small"],
  ["inbound 1 KB JSON", "json1k"],
  ["inbound binary", "binary"],
  ["outbound small emits", null],
];

async function profileAll({ page, cdp }) {
  await mkdir(RESULTS, { recursive: true });
  const md = [`# Where the time goes (CPU profiles, N = ${opts.n})`, ""];
  for (const [name, kind] of PROFILED) {
    for (const client of CLIENTS) {
      await gc(cdp);
      const [r, profile] = await profiled(cdp, () =>
        page.evaluate(([c, u, k, n]) => (k ? bench.inbound(c, u, k, n) : bench.outbound(c, u, n)), [client, url(), kind, opts.n]),
      );
      const file = `profile-${name.replace(/\W+/g, "-")}-${client}.cpuprofile`;
      await writeFile(join(RESULTS, file), JSON.stringify(profile));
      md.push(profileMarkdown(`${name}: ${client} (${Math.round(r.perSecond)} /s; ${file})`, summarizeProfile(profile)));
      log(`  profiled ${name} / ${client}: ${Math.round(r.perSecond)} /s`);
    }
  }
  const markdown = md.join("\n");
  await writeFile(join(RESULTS, "profile.md"), markdown);
  console.log(markdown);
  log("written: bench/results/profile.md and the .cpuprofile files");
}

async function main() {
  if (!existsSync(join(ROOT, "pkg", "index.js"))) {
    throw new Error("pkg/index.js is missing: build the package first (npm run build)");
  }
  const started = Date.now();
  log(`bench: ${JSON.stringify(opts)}`);
  tempDir = await mkdtemp(join(tmpdir(), "resocket-bench-"));
  pkgDir = join(tempDir, "pkg");
  await cp(join(ROOT, "pkg"), pkgDir, { recursive: true });
  const sizes = await measureSizes(pkgDir);
  record("sizeJs", "resocket", sizes.resocket.jsGzip);
  record("sizeWasm", "resocket", sizes.resocket.wasmGzip);
  record("sizeTotal", "resocket", sizes.resocket.totalGzip);
  for (const c of ["socket.io-client", "raw"]) {
    record("sizeJs", c, sizes[c].jsGzip);
    record("sizeTotal", c, sizes[c].totalGzip);
  }

  const unknown = opts.only?.filter((name) => !(name in MEASUREMENTS)) ?? [];
  if (unknown.length) throw new Error(`--only: unknown measurement(s) ${unknown.join(", ")} (known: ${Object.keys(MEASUREMENTS).join(", ")})`);
  const measurements = Object.entries(MEASUREMENTS)
    .filter(([name]) => !opts.only || opts.only.includes(name))
    .map(([, fn]) => fn);
  staticServer = await startStatic();
  server = await startBenchServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  const context = await browser.newContext();
  const main = await openPage(context, staticServer.url);
  if (opts.warmup) await warmUp(main);
  if (opts.profile) return profileAll(main);

  for (let round = 1; round <= opts.rounds; round += 1) {
    log(`round ${round}/${opts.rounds}`);
    for (const fn of measurements) {
      for (const client of CLIENTS) await fn(main, client, context, staticServer.url);
    }
  }
  if (main.errors.length) log(`page errors: ${JSON.stringify(main.errors.slice(0, 10))}`);
  const workerErrors = await main.page.evaluate(() => bench.workerErrors).catch(() => []);
  if (workerErrors.length) log(`worker errors: ${JSON.stringify(workerErrors.slice(0, 10))}`);

  const summary = summarize(rounds, unavailable);
  const env = {
    date: new Date().toISOString(),
    chromium: browser.version(),
    node: process.version,
    socketIoClient: SIOC_VERSION,
    socketIoServer: SIO_VERSION,
    cpus: cpus().length,
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  const title = opts.smoke ? "resocket benchmarks (smoke run: tiny sizes, numbers meaningless)" : "resocket benchmarks";
  const md = [
    `# ${title}`,
    "",
    `${env.date}; Chromium ${env.chromium} (headless), Node ${env.node}, socket.io server ${env.socketIoServer}, ` +
      `${env.cpus} CPUs, load average ${env.loadAverage.join(" / ")} (1/5/15 min) at the end; ${env.seconds} s.`,
    `Medians over ${opts.rounds} round(s), each round running every measurement for resocket, then socket.io-client, ` +
      `then the raw WebSocket baseline; N = ${opts.n} events per throughput run, ${opts.acks} sequential acks, ` +
      `${opts.sockets} sockets for memory, offline for ${opts.offlineMs} ms, ${opts.queue} emits per offline queue.`,
    "",
    markdownTable(summary, { q: opts.queue }),
    "",
    "Notes:",
    "- Ratios are resocket divided by the other; read them with the `better` column (events/s: above 1 is faster; ms and bytes: below 1 is better).",
    "- Inbound: the server writes N pre-encoded frames as fast as it can; the rate is measured in the page from the first event to the N-th.",
    "- Inbound, recovery on: the same, from a second socket.io server (same process, own port, main namespace) with " +
      "`connectionStateRecovery` on: its CONNECT reply carries a `pid`, and each of the N frames ends with its own offset, " +
      "as socket.io 4.8 writes them: `42[\"tick\",{\"n\":1},\"Q8ONdYh.1z\"]` (yeast ids: the ms in base 64, then `.` and a " +
      "counter within the ms; 128 events a ms here, so 7 to 10 characters). The server does not store the events (nothing is " +
      "replayed); the clients see what they would see. socket.io-client keeps the last offset (and passes it to the listener as " +
      "an extra argument); the raw baseline ignores `pid` and offsets but parses the whole frame as before.",
    "- Main-thread CPU: the page's TaskDuration (CDP Performance.getMetrics) over the whole run (connect included), per 1 000 events: " +
      "what the client costs the page, less sensitive than the rates to other processes taking the CPU.",
    "- Outbound: N `emit`s in a loop, then an ack from the server proving it has counted all N. The `emit()` loop row is the " +
      "time spent in that loop only: resocket and the raw baseline call WebSocket.send() in it, socket.io-client only queues " +
      "packets there and sends them after the loop, so that row measures the client's per-emit CPU cost, not a like-for-like rate.",
    "- In a Web Worker: the inbound small JSON and outbound small emits runs, unchanged, in a dedicated module Web Worker " +
      "per client (`new Worker(url, { type: \"module\" })`, created by the page once and kept), importing the client's " +
      "module there; the worker posts the result back. No CPU rows for these: the page's TaskDuration does not see workers." +
      (Object.keys(unavailable).length
        ? " n/a: " +
          Object.entries(unavailable)
            .flatMap(([key, byClient]) => Object.entries(byClient).map(([c, why]) => `${key} / ${c}: \`${why.split("\n").slice(0, 3).join(" ⏎ ")}\``))
            .join("; ")
        : ""),
    "- Server back up → connect: the server is SIGKILLed and restarted on the same port; clients retry every 100 ms " +
      "(reconnectionDelay = reconnectionDelayMax = 100, randomizationFactor 0); measured from the server announcing its port. " +
      "Expect ~half the retry interval plus a handshake for every client.",
    "- `online` → `connect`: CDP offline while the server is up, every client drops its socket on `offline`; " +
      `online again after ${opts.offlineMs} ms. Backoff 1000 ms doubling to 5000 ms, no jitter. socket.io-client has no ` +
      "`online` handling: it waits out its backoff. The raw baseline reconnects on `online`.",
    "- Memory: a fresh page per client, one socket opened first, then the JS heap (CDP Runtime.getHeapUsage after forced GC) " +
      "and resocket's wasm linear memory (`stats().wasmMemoryBytes`, grows in 64 KiB pages, never shrinks) before and after opening " +
      `${opts.sockets} more sockets (forceNew), divided by ${opts.sockets}: the wasm figure moves in steps of ` +
      `${Math.round(65536 / opts.sockets)} bytes (0 = no page added).`,
    `- Offline emits: a socket pointed at a port nobody listens on (a port of its own per socket), measured once its first ` +
      "connection attempt has failed (no retry within the run) and, with `persistQueue`, once its claim of gone pages' emits is " +
      `done; then ${opts.queue} emits of \`["sink",{"n":1}]\` in a loop, all kept (the default maxQueue is 1000), and one read-only ` +
      "IndexedDB transaction made after the last emit, counting the socket's records from the page's own connection to resocket's " +
      "database, for every client (so every run does the same extra work; nothing is written without the option, and that is " +
      "checked). IndexedDB runs a read-only transaction only after every earlier read-write transaction on its store has " +
      `finished, whichever connection made it: when that count sees all ${opts.queue} records (checked; else it reads again), ` +
      "every write is done, and the CPU rows take in the writes' callbacks. The CPU rows: the page's CPU over that whole call, " +
      "less the median of three such calls making no emit (on the same socket, just before: the call, its count and the CDP " +
      `readings cost 1 to 2 ms, more than socket.io-client's 500 emits), per 1 000 emits. "First emit → all in ` +
      'IndexedDB": wall time from the first emit to that count. The own cost: the difference of the two resocket rows in each ' +
      "round, then the median. The raw baseline keeps no queue offline (n/a). socket.io-client's figure is the same in both " +
      "CPU rows: it has no persistence to compare with.",
    `- Restore: a fresh page writes ${opts.queue} emits offline as above and is closed (records are only taken from a page ` +
      "that is gone: a page holds a Web Lock for its life); a second fresh page, with resocket's persistence module already " +
      "loaded and its database open there (one socket for another port, not measured) and once the first page's lock is free, " +
      "makes a socket with `persistQueue` and `autoConnect: false` for the same URL (the restore alone, no connection " +
      "attempt). Measured from `io()`: `queue_restored` (the claim: the gone page's records read and deleted in one " +
      `transaction), and all ${opts.queue} emits queued again and written again under the new page (a count as above); the ` +
      "CPU row is the page's over that whole call, in total (the 1 to 2 ms of the call itself included).",
    "- `shareAcrossTabs`, inbound: two fresh pages of the main page's browser context (the same origin), each loading " +
      "resocket alone, open `io(url, { transports: [\"websocket\"], forceNew: true, shareAcrossTabs: true })` for the main " +
      "server, the first page first: it holds the Web Lock and the connection (checked: `socket.leading`); the second one's " +
      "socket follows, hearing the connection's events over a BroadcastChannel (one message an event). Once both are " +
      `connected, the follower emits \`push\` for N small events` +
      (opts.warmup ? " (after one such push of up to 2 000, unmeasured, to warm both pages up)" : "") +
      ", and each page counts N `tick`s. The CPU rows: each page's TaskDuration (read on its own CDP session) from just " +
      "before the follower's request until both pages have counted N, per 1 000 events; connecting is not included, nor the " +
      "pages' loads. For comparison: the inbound small JSON CPU row, one page with a connection of its own (resocket or " +
      "socket.io-client; connect included, which is small at N events). TaskDuration is the wall time of the page's tasks: " +
      "here two pages, the browser and the server are busy at once, and with few CPUs a task is preempted more often than " +
      `in the single-page rows (${env.cpus} CPUs here), which these rows count. A run starts once no page of the origin holds or ` +
      "waits for a shared connection's lock (the key of a shared connection ignores the URL's query, so no other run's " +
      "socket can be on it), and both sockets are disconnected after it.",
    `- \`shareAcrossTabs\` hand-over: two fresh pages as above, their shared sockets on the recovery server (connection ` +
      `state recovery on); the follower has that server emit ${STORED_EVENTS} \`tick\`s with \`socket.emit\` (its ` +
      "`push-stored`: socket.io stores each, with its offset; the pre-encoded `push` frames are not stored, and a session " +
      "resumed from their offsets is not recovered), and both pages count them. Then the leading page's socket " +
      "`disconnect()`s, the time taken in that page just before the call, or the page is closed (Playwright's " +
      "`page.close()`), the time taken in Node just before the call (the same clock, `performance.timeOrigin + " +
      "performance.now()`, on the same machine). The rows: from that time to the follower's next `connect` (the same clock, " +
      "in its listener), where its socket must have `recovered` true and lead, else the run fails. The follower has never " +
      "led: the time includes the lock passing to it (after `disconnect()`, once the leading page has seen with " +
      "`navigator.locks.query()` that a page waits, dropped its transport without a word and let go of the lock; after a " +
      "close, once the page is gone), its import of the leading side's module (from the local static server), a new " +
      "WebSocket connection and the server's recovery of the session.",
    `- Sizes: the same tiny app bundled by esbuild (--bundle --minify, ESM, es2022), gzip -9; resocket adds its .wasm, gzipped. ` +
      `For reference socket.io-client's own dist/socket.io.esm.min.js is ${sizes.reference.siocDistEsmMin} bytes, ` +
      `${sizes.reference.siocDistEsmMinGzip} gzipped. resocket JS ${sizes.resocket.jsMin} bytes minified, wasm ${sizes.resocket.wasm} bytes raw.`,
  ];
  if (failures.length) {
    md.push("", "Failures:", ...failures.map((f) => `- ${f.key} / ${f.client}: ${f.message}`));
  }
  const markdown = `${md.join("\n")}\n`;
  const prefix = opts.smoke ? "smoke" : opts.only ? "only" : "bench";
  await mkdir(RESULTS, { recursive: true });
  await writeFile(join(RESULTS, `${prefix}.md`), markdown);
  await writeFile(join(RESULTS, `${prefix}.json`), `${JSON.stringify({ env, options: opts, sizes, rounds, summary, unavailable, failures }, null, 2)}\n`);
  await writeFile(
    join(RESULTS, `${prefix}-throughput-ratios.svg`),
    ratioChart(summary, `median of ${opts.rounds} round(s), N = ${opts.n}; Chromium ${env.chromium}; ${env.date.slice(0, 10)}`),
  );
  console.log(markdown);
  log(`written: bench/results/${prefix}.md, ${prefix}.json, ${prefix}-throughput-ratios.svg`);

  // Every measurement must have produced a number (for the clients it applies to),
  // except where the metric allows n/a for a stated reason (`canBeNa`: a client that
  // cannot load in a Web Worker) and that is what happened; those are listed.
  const missing = [];
  const excused = [];
  for (const m of METRICS) {
    if (!summary[m.key]) continue;
    for (const c of CLIENTS) {
      if (!applies(m, c) || Number.isFinite(summary[m.key][c])) continue;
      const why = m.canBeNa && summary[m.key][c] === null ? unavailable[m.key]?.[c] : undefined;
      if (why) excused.push(`${m.key}/${c} n/a (${m.canBeNa}): ${why.split("\n")[0]}`);
      else missing.push(`${m.key}/${c}`);
    }
  }
  for (const e of excused) log(`bench: ${e}`);
  if (missing.length) {
    log(`bench: no number for ${missing.join(", ")}`);
    if (opts.smoke) process.exitCode = 1;
  } else if (opts.smoke) {
    log(`bench smoke: every measurement produced a number${excused.length ? `, but for ${excused.length} n/a listed above` : ""}`);
  }
}

async function cleanup() {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  await staticServer?.close().catch(() => {});
  if (tempDir) await rm(tempDir, { recursive: true, force: true }).catch(() => {});
}

process.once("SIGINT", () => cleanup().then(() => process.exit(130)));
process.once("SIGTERM", () => cleanup().then(() => process.exit(143)));

try {
  await main();
} catch (err) {
  console.error(`bench: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
