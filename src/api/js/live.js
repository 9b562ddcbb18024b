// Liveness: which Managers must outlive the app's references (those with a socket that
// wants a connection), and the wasm Connection's path back to its Manager, which must
// not keep it alive. Decides nothing about the connection: it reads the core's state.

import { KINDS, OP } from "./contract.js";

// Managers with a socket that wants a connection. Like socket.io-client's, which an open
// WebSocket keeps reachable, they must live on while the app holds nothing but
// listeners; once no socket wants a connection, only the app holds a Manager, and when
// it lets go the garbage collector frees the wasm Connection (and its WebSocket). The
// wasm side holds its Manager strongly only while it is in this set (see `relay`), or it
// could never be collected.
export const live = new Set();
// By event number: whether the event changes what `hold` decides.
const HOLD = KINDS.map((name) => ["connect", "connect_error", "disconnect", "reconnect_failed"].includes(name));
// The wasm Connection's event callback, and its way back to the Manager: `port.m` while
// the Manager is live (the `live` set holds it anyway; a property read is cheaper than a
// WeakRef's deref() on every event), else the WeakRef `port.w`. Made out here so that its
// closure holds the port alone (a closure made in the constructor would share its scope,
// `this` included).
export const relay = (port) => (kind, key, a, b, c, d) => {
  const m = port.m || port.w.deref();
  // A dead instance's clients were told: what it still says is no news.
  if (!m || m._i.trap) return;
  const name = KINDS[kind];
  // Before the listeners, so that a trap in one of them finds every state up to date.
  if (HOLD[kind]) m._hold();
  if (key < 0) m._ev(name, a, b);
  else m._socks[key]?._ev(name, a, b, c, d);
};

export const hold = (m) => {
  if (m._i.trap) return;
  // Each socket's state() as last seen: a trap is reported from it (the dead instance
  // cannot be asked).
  // Bit 8 of any key's state(): the connection was opened for its own sake.
  let any = m._c.ask(OP.state, 0) & 8 ? 2 : 0;
  for (const s of m._socks) if (s) any |= s._st = m._c.ask(OP.state, s._k);
  if (any & 2) {
    live.add(m);
    m._port.m = m;
  } else release(m);
};

// Manager `m` is no longer kept alive: only the app's references hold it.
export const release = (m) => {
  live.delete(m);
  m._port.m = null;
};
