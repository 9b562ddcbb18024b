// resocket/server: the server half of exactly-once emits, for socket.io 4.x servers. It
// owns the "~eo" wire format (v1) on the server side (the hello sent on each
// connection, the wrapped emits of a client created with `exactlyOnce: true`) and the
// stores that remember the last emit of each client. It must not touch what the app
// does with its events (it hands them on as the app's own), nor import socket.io or a
// Redis client: the app passes in its Server or Namespace and its node-redis client.
//
// On the wire, client to server: ["~eo", client, seq, reply, name, ...args] with an ack
// id; `client` is random per client instance, `seq` counts its emits on the namespace
// (one at a time: n+1 only once n is acknowledged; resent as is after a reconnect or an
// ack timeout), `reply` is 1 when the app wants the handler's answer. Server to client:
// "~eo" {v: 1} on every connection, right after CONNECT, before anything the app sends.

const EO = "~eo";
const HELLO = { v: 1 };
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
// The event names socket.io-parser refuses from the wire: an exactly-once emit may not
// smuggle one past it. Nor may it carry "~eo" itself.
const RESERVED = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener", EO]);
const HOUR = 3_600_000;
const NEW = Object.freeze({ status: "new" });
const STALE = Object.freeze({ status: "stale" });

/**
 * Exactly-once emits for the resocket clients created with `exactlyOnce: true`.
 *
 * `target`: a Server (every namespace, those there now and those made later, dynamic
 * ones included) or a Namespace (a parent namespace of `io.of(/regex/)`: its children).
 * Attached at once, not as `io.use()` middleware: with connection state recovery and its
 * default `skipMiddlewares`, namespace middlewares do not run for a recovered
 * connection, and the helper must be on every socket.
 *
 * On every connection, from a listener prepended to the namespace's "connect" (the
 * alias socket.io fires just before "connection", so before the app's handlers of
 * either), it sends the hello and registers the first `socket.use()` middleware of the
 * socket. That middleware turns a "~eo" packet back into the app's own event and hands
 * it on (to the app's `socket.use()` middlewares, then its handlers) once per (namespace,
 * client, seq); a copy gets the first copy's reply without running anything. Other
 * events pass untouched: plain socket.io clients see no difference.
 *
 * The store is asked before a "~eo" packet is handed on, so every event of a socket
 * (plain ones too) waits, in the order it came, for the store's answers on the "~eo"
 * packets before it. A store that fails (Redis down) makes the socket emit "error" with
 * the store's error, as a rejecting middleware does: a packet that could not be claimed
 * is dropped unanswered (the client sends it again), a reply that could not be recorded
 * still goes to the client.
 *
 * What "once" covers: the handler is handed the event once for as long as the store
 * remembers the client (see memoryStore and redisStore for what they forget). A copy
 * that comes while the first copy's handler has not answered gets no answer (the client
 * sends it again later), unless the claim is older than `pendingTimeout` ms: then it is
 * acknowledged with no arguments and the emit counts as done (its handler may still
 * answer the first copy). So an emit whose handler never answers (an app middleware
 * rejected it, socket.io dropped it because the socket closed while the app's
 * middlewares ran, its node died mid-handler) is acknowledged empty after
 * `pendingTimeout`, never run twice. An emit that asks for no reply is done, and
 * acknowledged, as soon as it is handed on.
 *
 * `options.store`: where the last emit of each client is kept (memoryStore() by default,
 * with `ttl` and `maxClients`; redisStore() for several nodes). `pendingTimeout`: 30 s
 * by default. Returns a function that detaches the helper: no hello on new connections,
 * and "~eo" packets pass untouched from then on, on every socket.
 */
export function exactlyOnce(target, options = {}) {
  const { store: given, ttl, maxClients, pendingTimeout = 30_000 } = options;
  const server = isServer(target);
  if (!server && !isNamespace(target)) throw new TypeError("exactlyOnce: the target must be a socket.io Server or Namespace");
  if (given !== undefined && (ttl !== undefined || maxClients !== undefined)) {
    throw new TypeError("exactlyOnce: ttl and maxClients configure the default store; give them to memoryStore() or redisStore() instead");
  }
  if (given !== undefined && !["claim", "finish", "release"].every((m) => typeof given?.[m] == "function")) {
    throw new TypeError("exactlyOnce: the store must have claim, finish and release methods");
  }
  if (!(Number.isFinite(pendingTimeout) && pendingTimeout >= 0)) throw new RangeError("exactlyOnce: pendingTimeout must be a number of ms, 0 or more");
  const store = given ?? memoryStore({ ttl, maxClients });
  let attached = true;

  const onConnect = (socket) => {
    socket.use(middleware(socket));
    socket.emit(EO, HELLO);
  };

  // The packets of one socket queue behind a "~eo" packet while the store is asked
  // about it: `tail` is the last queued packet's turn, null when nothing waits.
  const middleware = (socket) => {
    let tail = null;
    return (packet, next) => {
      if (!attached || (tail === null && packet[0] !== EO)) return next();
      const turn = (tail ?? Promise.resolve())
        .then(() => (packet[0] === EO ? receive(socket, packet, next) : next()))
        .catch((err) => fail(socket, err));
      tail = turn;
      turn.then(() => {
        if (tail === turn) tail = null;
      });
    };
  };

  const receive = async (socket, packet, next) => {
    const emit = parse(packet);
    // A malformed packet is dropped; so is one that came in just before its socket
    // closed, before it is claimed, as socket.io would drop it.
    if (!emit || !socket.connected) return;
    const { client, seq, reply, ack } = emit;
    const nsp = socket.nsp.name;
    let claimed;
    try {
      claimed = await store.claim(nsp, client, seq, Date.now());
    } catch (err) {
      return next(err);
    }
    if (claimed.status == "done") return ack(...claimed.reply);
    if (claimed.status == "stale") return ack();
    if (claimed.status == "pending") {
      if (Date.now() - claimed.at <= pendingTimeout) return;
      return settle(socket, emit, nsp, []);
    }
    // Claimed while the socket closed: socket.io would drop the event, so the claim is
    // let go of, for the copy the client sends on its next connection.
    if (!socket.connected) return store.release(nsp, client, seq);
    // [~eo, client, seq, reply, name, ...args, ack] -> [name, ...args] (+ the answer).
    packet.splice(0, 4);
    packet.pop();
    if (reply) {
      let answered = false;
      packet.push((...args) => {
        if (answered) return;
        answered = true;
        settle(socket, emit, nsp, args);
      });
    }
    next();
    if (!reply) settle(socket, emit, nsp, []);
  };

  // The entry is done with `reply`, then the client hears it: a copy that comes after the
  // client lost this answer finds it in the store.
  const settle = (socket, { client, seq, ack }, nsp, reply) =>
    store
      .finish(nsp, client, seq, reply)
      .catch((err) => fail(socket, err))
      .then(() => ack(...reply))
      .catch((err) => fail(socket, err));

  const namespaces = () => (server ? target._nsps.values() : [target, ...(target.children ?? [])]);
  const attach = (nsp) => nsp.prependListener("connect", onConnect);
  for (const nsp of namespaces()) attach(nsp);
  // A parent namespace (io.of(/regex/)) hands its listeners, ours first, to each child
  // it makes; a Server announces each new namespace.
  if (server) target.on("new_namespace", attach);

  return () => {
    if (!attached) return;
    attached = false;
    if (server) target.off("new_namespace", attach);
    for (const nsp of namespaces()) nsp.off("connect", onConnect);
  };
}

const isServer = (target) => target?._nsps instanceof Map && typeof target.of == "function";
const isNamespace = (target) => typeof target?.name == "string" && typeof target.prependListener == "function" && !!target.server;

// { client, seq, reply, ack } of a well-formed "~eo" packet (an ack function last, as
// socket.io appends it for a packet with an ack id), else null.
function parse(packet) {
  const ack = packet.at(-1);
  if (packet.length < 6 || typeof ack != "function") return null;
  const [, client, seq, reply, name] = packet;
  if (typeof client != "string" || !CLIENT_ID.test(client)) return null;
  if (!Number.isSafeInteger(seq) || seq < 1) return null;
  if (reply !== 0 && reply !== 1) return null;
  if (typeof name != "string" || RESERVED.has(name)) return null;
  return { client, seq, reply, ack };
}

// socket.io's own way to tell the app about a packet it could not handle: the socket's
// "error" event (socket.io keeps a listener on it, so that this never throws).
function fail(socket, err) {
  socket.emitReserved("error", err);
}

/**
 * The last emit of each client, in this process's memory: right for one node (several
 * nodes need redisStore(), for a client's copies may reach another node).
 *
 * One map for every namespace, in order of last use: an entry idle for longer than
 * `ttl` ms (6 h by default) is dropped, and beyond `maxClients` entries (50 000 by
 * default) the least recently used one is. The memory it holds is thus at most about
 * maxClients × (300 bytes + the client id + the namespace's name + the JSON of the
 * largest reply a handler gives), a byte a character of those strings (two if one is
 * beyond Latin-1), binary counted as base64 (4/3 of its bytes): under 20 MB at the
 * defaults with small replies. A forgotten client's next copy of an emit is a new emit
 * to the helper: its handler runs again.
 */
export function memoryStore({ ttl = 6 * HOUR, maxClients = 50_000 } = {}) {
  positive("memoryStore: ttl", ttl);
  positive("memoryStore: maxClients", maxClients);
  // A client id has no space: "client nsp" names one pair.
  const key = (nsp, client) => `${client} ${nsp}`;
  // Entry: { seq, at (claimed), used (last claimed or copy seen), reply (JSON once done) }.
  const entries = new Map();
  const pending = (entry, seq) => entry?.seq === seq && entry.reply === undefined;
  return {
    async claim(nsp, client, seq, now) {
      // Entries are in order of use: the idle ones are first.
      for (const [k, entry] of entries) {
        if (now - entry.used < ttl) break;
        entries.delete(k);
      }
      const k = key(nsp, client);
      const entry = entries.get(k);
      if (entry && seq < entry.seq) return STALE;
      entries.delete(k);
      if (entry?.seq === seq) {
        entry.used = now;
        entries.set(k, entry);
        return entry.reply === undefined ? { status: "pending", at: entry.at } : { status: "done", reply: decode(entry.reply) };
      }
      entries.set(k, { seq, at: now, used: now, reply: undefined });
      if (entries.size > maxClients) entries.delete(entries.keys().next().value);
      return NEW;
    },
    async finish(nsp, client, seq, reply) {
      const entry = entries.get(key(nsp, client));
      // Encoded now: a copy gets the reply as it was, whatever the app does to it later.
      if (pending(entry, seq)) entry.reply = encode(reply);
    },
    async release(nsp, client, seq) {
      const k = key(nsp, client);
      if (pending(entries.get(k), seq)) entries.delete(k);
    },
  };
}

// Redis scripts, each one atomic. An entry is a hash: seq, at (claim time), and reply
// (JSON) once done; it expires `ttl` ms after it was last claimed, seen or done.
// KEYS[1]: the entry; ARGV: seq, now, ttl.
const CLAIM = `local seq = tonumber(ARGV[1])
local e = redis.call("HMGET", KEYS[1], "seq", "at", "reply")
if e[1] then
  local last = tonumber(e[1])
  if seq < last then return {"stale"} end
  if seq == last then
    redis.call("PEXPIRE", KEYS[1], ARGV[3])
    if e[3] then return {"done", e[3]} end
    return {"pending", e[2]}
  end
end
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], "seq", ARGV[1], "at", ARGV[2])
redis.call("PEXPIRE", KEYS[1], ARGV[3])
return {"new"}`;
// ARGV: seq, reply, ttl. Only the pending claim of that seq is done.
const FINISH = `local e = redis.call("HMGET", KEYS[1], "seq", "reply")
if e[1] == ARGV[1] and not e[2] then
  redis.call("HSET", KEYS[1], "reply", ARGV[2])
  redis.call("PEXPIRE", KEYS[1], ARGV[3])
end
return 0`;
// ARGV: seq. Only the pending claim of that seq goes.
const RELEASE = `local e = redis.call("HMGET", KEYS[1], "seq", "reply")
if e[1] == ARGV[1] and not e[2] then redis.call("DEL", KEYS[1]) end
return 0`;

/**
 * The last emit of each client in Redis, shared by every node that uses the same Redis
 * and prefix: a copy sent to another node after a reconnect is recognised there.
 * `client`: a connected node-redis v4 client (`createClient()`), used for EVAL only.
 * Keys: `${prefix}${namespace}:${client id}` (prefix "resocket:eo:" by default), each
 * expiring `ttl` ms (6 h by default) after its last use; a forgotten client's next copy
 * of an emit runs its handler again. Replies are kept as JSON, binary as base64; the
 * `pendingTimeout` of a claim made on another node is measured against this node's
 * clock.
 */
export function redisStore(client, { prefix = "resocket:eo:", ttl = 6 * HOUR } = {}) {
  if (typeof client?.eval != "function") throw new TypeError("redisStore: the client must be a node-redis v4 client");
  if (typeof prefix != "string") throw new TypeError("redisStore: prefix must be a string");
  positive("redisStore: ttl", ttl);
  // A client id has no ":": the last one ends the namespace's name.
  const run = (script, nsp, id, args) => client.eval(script, { keys: [`${prefix}${nsp}:${id}`], arguments: args.map(String) });
  return {
    async claim(nsp, id, seq, now) {
      const [status, value] = await run(CLAIM, nsp, id, [seq, now, ttl]);
      if (status == "done") return { status, reply: decode(value) };
      if (status == "pending") return { status, at: Number(value) };
      return status == "new" ? NEW : STALE;
    },
    async finish(nsp, id, seq, reply) {
      await run(FINISH, nsp, id, [seq, encode(reply), ttl]);
    },
    async release(nsp, id, seq) {
      await run(RELEASE, nsp, id, [seq]);
    },
  };
}

function positive(what, n) {
  if (!(Number.isSafeInteger(n) && n > 0)) throw new RangeError(`${what} must be a positive integer`);
}

// Replies as JSON, as socket.io would send them (toJSON applied, functions and
// undefined dropped from objects), except binary: a Buffer, an ArrayBuffer, a typed
// array or a DataView becomes {"~b": base64} and comes back as a Buffer of its bytes. An
// object of its own whose only key is "~b" or "~o" is wrapped as {"~o": object}, so that
// it is not taken for one. (A Blob is not kept: it cannot be read at once.)
const encode = (reply) => JSON.stringify(reply.map(pack));
const decode = (json) => JSON.parse(json).map(unpack);

function pack(value) {
  if (value instanceof ArrayBuffer) return { "~b": Buffer.from(value).toString("base64") };
  if (ArrayBuffer.isView(value)) return { "~b": Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  if (typeof value?.toJSON == "function") value = value.toJSON();
  if (value === null || typeof value != "object") return value;
  if (Array.isArray(value)) return value.map(pack);
  // fromEntries: a key "__proto__" stays a key.
  const packed = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pack(v)]));
  const keys = Object.keys(packed);
  return keys.length == 1 && (keys[0] == "~b" || keys[0] == "~o") ? { "~o": packed } : packed;
}

function unpack(value) {
  if (value === null || typeof value != "object") return value;
  if (Array.isArray(value)) return value.map(unpack);
  const keys = Object.keys(value);
  if (keys.length == 1 && keys[0] == "~b") return Buffer.from(value["~b"], "base64");
  const plain = keys.length == 1 && keys[0] == "~o" ? value["~o"] : value;
  // In place: JSON.parse made every key (even "__proto__") an own property.
  for (const k of Object.keys(plain)) plain[k] = unpack(plain[k]);
  return plain;
}
