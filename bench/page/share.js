// The shareAcrossTabs runs of the bench page (served as /bench/share.js; bench.js
// exposes them as bench.share*): one shared socket per page (resocket only), opened by
// two pages of the runner's browser context, one leading (it holds the connection), the
// other following (its socket hears the connection's events over a BroadcastChannel).
// The runner (bench/run.mjs) times each page's CPU around the calls that count events,
// and takes the times of a hand-over from the stamps these calls return: `now()`, the
// absolute time (ms since the epoch, sub-ms), the Node runner's clock too.
//
// Every page of the origin that asks for the same servers and namespace with the option
// shares the connection, whatever the URL's query: a run starts only once no page holds
// or waits for a "resocket-share:" Web Lock, so that no socket of an earlier run (or of
// a page still closing) leads it.

import { BASE, connected, within } from "./measure.js";

// share.js's lock names: "resocket-share:<servers> <namespace>".
const LOCK = "resocket-share:";

const now = () => performance.timeOrigin + performance.now();

// The page's socket; "tick"s heard and not yet claimed by ticks(), and the count a
// ticks() call awaits; its "connect"s.
const state = { socket: null, ticks: 0, awaited: null, connects: [] };

/**
 * Opens the page's shared socket (module `lib`) for `url` and resolves once it is
 * connected, checking that it leads (holds the connection) if `leads`, else that it
 * follows.
 */
export async function open(lib, url, leads) {
  close();
  const socket = lib.io(url, { ...BASE, shareAcrossTabs: true });
  Object.assign(state, { socket, ticks: 0, awaited: null, connects: [] });
  socket.on("tick", (data) => {
    // Every tick is {"n":1}: counting its n touches the payload, as an app would.
    state.ticks += data.n;
    if (state.ticks === state.awaited?.n) state.awaited.resolve();
  });
  socket.on("connect", () => state.connects.push({ t: now(), recovered: socket.recovered, leading: socket.leading }));
  await connected(socket, 10_000, "resocket, shareAcrossTabs: first connect");
  if (socket.leading !== leads) throw new Error(`this page ${socket.leading ? "leads" : "follows"}; it should ${leads ? "lead" : "follow"}`);
}

/**
 * Emits `request` ([event, ...args]) if given, then resolves once this page's socket has
 * heard `n` more "tick"s than the earlier calls took; more than `n` is an error.
 */
export async function ticks(n, request) {
  const heard = new Promise((resolve) => (state.awaited = { n, resolve }));
  try {
    if (request) state.socket.emit(...request);
    if (state.ticks < n) await within(heard, Math.max(60_000, n * 5), `resocket, shareAcrossTabs: ${n} events`);
  } finally {
    state.awaited = null;
  }
  if (state.ticks > n) throw new Error(`resocket, shareAcrossTabs: ${state.ticks} events for ${n}`);
  state.ticks = 0;
}

/** The leading page lets go of the connection: its socket's disconnect(); returns the time just before the call. */
export function disconnect() {
  const t = now();
  state.socket.disconnect();
  return t;
}

/**
 * Resolves to the time of this page's socket's next "connect" once the leading page has
 * gone: checks that the session was recovered and that this page now leads.
 */
export async function takenOver(ms = 10_000) {
  const deadline = performance.now() + ms;
  while (state.connects.length < 2) {
    if (performance.now() > deadline) throw new Error(`resocket, shareAcrossTabs: no connect of this page within ${ms} ms of the leader's going`);
    await new Promise((r) => setTimeout(r, 1));
  }
  const [, connect, more] = state.connects;
  if (more) throw new Error(`resocket, shareAcrossTabs: ${state.connects.length} connects`);
  if (!connect.recovered) throw new Error("resocket, shareAcrossTabs: the page that took over did not recover the session");
  if (!connect.leading) throw new Error("resocket, shareAcrossTabs: the page connected again but does not lead");
  return connect.t;
}

/** Resolves once no page of the origin holds or waits for a shared connection's lock. */
export async function locksFree(ms = 10_000) {
  const deadline = performance.now() + ms;
  for (;;) {
    const { held, pending } = await navigator.locks.query();
    const names = [...held, ...pending].map((l) => l.name).filter((name) => name.startsWith(LOCK));
    if (!names.length) return;
    if (performance.now() > deadline) throw new Error(`shared connection locks still there after ${ms} ms: ${names.join(", ")}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Disconnects the page's socket, if any (the next page in the lock's queue takes over). */
export function close() {
  state.socket?.disconnect();
  state.socket = null;
}
