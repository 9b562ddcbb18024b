// The offline-queue runs of the bench page (served as /bench/offline.js; bench.js
// exposes them as bench.offline*): sockets pointed at a port nobody listens on, so that
// every emit is queued (resocket's core queue, with or without `persistQueue`;
// socket.io-client's in-memory send buffer), what resocket writes to IndexedDB for
// them, and the restore of a gone page's emits. The runner (bench/run.mjs) times the
// page's CPU around each call; the calls that are not measured (opening, closing) are
// separate calls for that reason.
//
// Records are counted from this page's own connection to persist.js's database, keyed
// by the socket's URL: every socket here gets a port of its own from the runner, so a
// key range on "http://127.0.0.1:<port>/" holds that socket's records only, whichever
// page wrote them.

import { BASE, within } from "./measure.js";

// No reconnection attempt within a run: its cost would land in the figures at random.
const NO_RETRY = { reconnectionDelay: 600_000, reconnectionDelayMax: 600_000, randomizationFactor: 0 };
// persist.js's database and store, and the prefix of its Web Locks (one per live page).
const DB = "resocket";
const STORE = "queue";
const LOCK = "resocket:";

const state = { socket: null, client: null, port: 0, dropped: [], reader: null };

const done = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

// Opened only once the database exists: opening it first would create it without its
// store, and persist.js (which creates the store on the upgrade to version 1) would fail.
async function reader() {
  if (state.reader) return state.reader;
  if (!(await indexedDB.databases()).some((d) => d.name === DB)) return null;
  return (state.reader = await done(indexedDB.open(DB)));
}

/** How many records persist.js holds for the socket on `port`, from this page's connection. */
async function records(port) {
  const db = await reader();
  if (!db) return 0;
  const prefix = `http://127.0.0.1:${port}/`;
  // Keys are [socket key, page, n]: [prefix] sorts before every key of the socket, and
  // [prefix + U+FFFF] after them.
  return done(db.transaction(STORE, "readonly").objectStore(STORE).count(IDBKeyRange.bound([prefix], [`${prefix}\uffff`])));
}

// The socket of the next run; its drops go to an array of its own, not to a later run's.
function track(socket, client, port) {
  const dropped = [];
  Object.assign(state, { socket, client, port, dropped });
  socket.on("emit_dropped", (reason) => dropped.push(reason));
}

const heldLocks = async () => new Set((await navigator.locks.query()).held.map((l) => l.name).filter((n) => n.startsWith(LOCK)));

// A socket with `persistQueue` first claims what gone pages left for its key, and only
// then writes its own emits; emits made meanwhile wait behind that claim. No event says
// that the claim found nothing, so the runs read the socket's pending turn (`_wait`,
// null once the claim is done) to measure steady-state emits, not ones chained behind
// the claim.
async function restored(socket) {
  while (socket._wait) await within(socket._wait, 10_000, "the persisted queue's claim");
}

/**
 * Opens the socket of the next run (not measured): `client`'s module `lib`, no server on
 * `port`. Resolves once its first connection attempt has failed (unless `autoConnect`
 * is false) and, with `persistQueue`, once its claim is done; then the names of the
 * Web Locks this call made the page hold (persist.js's one, the first time).
 */
export async function open(lib, client, port, opts = {}) {
  await close();
  const before = await heldLocks();
  const socket = lib.io(`http://127.0.0.1:${port}`, { ...BASE, ...NO_RETRY, ...opts });
  track(socket, client, port);
  if (opts.autoConnect !== false) {
    await within(new Promise((resolve) => socket.once("connect_error", resolve)), 10_000, `${client}: the failed connect`);
  }
  if (opts.persistQueue) await restored(socket);
  await reader();
  return [...(await heldLocks())].filter((name) => !before.has(name));
}

/**
 * The measured run: `n` small emits on the open socket, then the count of its records
 * (one read-only transaction, made after the last emit, for every client: the same
 * work each time). IndexedDB runs a read-only transaction only after every read-write
 * transaction on its store created before it has finished, whichever connection made
 * it, so when that count sees all `n` records (`expected`), the writes were done;
 * should it see fewer, it reads again until it does. `writtenMs`: from the first emit to
 * that count.
 */
export async function emit(n, expected) {
  const { socket, client, port } = state;
  const payload = { n: 1 };
  const start = performance.now();
  for (let i = 0; i < n; i += 1) socket.emit("sink", payload);
  const loopMs = performance.now() - start;
  let seen;
  let reads = 0;
  const deadline = start + Math.max(30_000, n * 20);
  do {
    seen = await records(port);
    reads += 1;
    if (performance.now() > deadline) throw new Error(`${client}: ${seen} of ${expected} records written within ${deadline - start} ms`);
  } while (seen < expected);
  const writtenMs = performance.now() - start;
  if (seen !== expected) throw new Error(`${client}: ${seen} records for ${expected} expected`);
  return { loopMs, writtenMs, reads };
}

/**
 * Not measured (resocket's `sendBuffer` decodes its queue): whether the open socket
 * holds exactly `n` emits, none dropped.
 */
export function queued(n) {
  const { socket, client, dropped } = state;
  if (dropped.length) throw new Error(`${client}: ${dropped.length} emits dropped (${dropped[0]})`);
  // socket.io-client's send buffer, or resocket's queue under the same name.
  if (socket.sendBuffer.length !== n) throw new Error(`${client}: ${socket.sendBuffer.length} of ${n} emits queued`);
}

/**
 * The measured restore, in a page that did not write the records: a socket with
 * `persistQueue` for `port` (no connection attempt: the restore alone), until the `n`
 * emits it takes back are queued again and written again under this page. `restoredMs`:
 * `io()` to "queue_restored"; `writtenMs`: `io()` to a count seeing all `n` records
 * again (as in emit()).
 */
export async function restore(lib, port, n, opts = {}) {
  await close();
  const start = performance.now();
  const socket = lib.io(`http://127.0.0.1:${port}`, { ...BASE, ...NO_RETRY, ...opts, persistQueue: true, autoConnect: false });
  track(socket, "resocket", port);
  let restoredMs = NaN;
  let count = 0;
  socket.on("queue_restored", (emits) => {
    restoredMs = performance.now() - start;
    count = emits.length;
  });
  // The restored emits are sent (queued again, here) in the same task as the event.
  await restored(socket);
  if (count !== n) throw new Error(`resocket: ${count} of ${n} emits restored`);
  let seen;
  do seen = await records(port);
  while (seen < n && performance.now() - start < Math.max(30_000, n * 20));
  const writtenMs = performance.now() - start;
  if (seen !== n) throw new Error(`resocket: ${seen} of ${n} restored emits written again`);
  return { restoredMs, writtenMs };
}

/** Resolves once no page holds the Web Lock `name` (a page that is gone). */
export async function lockGone(name, ms = 10_000) {
  const deadline = performance.now() + ms;
  while ((await heldLocks()).has(name)) {
    if (performance.now() > deadline) throw new Error(`the lock ${name} is still held after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Drops the open socket's queue (resocket then deletes its records) and disconnects it.
 * Resolves once its records are gone: a deletion still under way would hold up the next
 * run's writes, and records left behind would make every later run's store bigger.
 */
export async function close() {
  const { socket, port } = state;
  if (!socket) return;
  state.socket = null;
  socket.clearQueue?.();
  socket.disconnect();
  const deadline = performance.now() + 10_000;
  while ((await records(port)) > 0) {
    if (performance.now() > deadline) throw new Error(`the records of port ${port} are still there after 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
