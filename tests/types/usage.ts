// Typed use of resocket, written as socket.io-client's documentation writes it: this file
// must compile with `tsc --strict` against the BUILT package's declarations (pkg/
// index.d.ts, see ./tsconfig.json). Checked by tests/e2e/types.test.mjs, and against the
// installed package (npm pack + npm install) by tests/e2e/packaging.test.mjs.
import {
  io,
  Manager,
  Socket,
  type DisconnectDescription,
  type ExtendedError,
  type ManagerOptions,
  type SocketOptions,
} from "resocket";

interface ServerToClientEvents {
  noArg: () => void;
  basicEmit: (a: number, b: string, c: ArrayBuffer) => void;
  withAck: (d: string, callback: (e: number) => void) => void;
  message: (from: string, text: string) => void;
}

interface ClientToServerEvents {
  hello: () => void;
  message: (text: string) => void;
  echo: (payload: { x: number }, callback: (reply: { x: number }) => void) => void;
  join: (room: string) => void;
}

// --- io() and its options --------------------------------------------------------------

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io("https://example.com/chat", {
  reconnection: true,
  reconnectionAttempts: Infinity,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  randomizationFactor: 0.5,
  timeout: 20000,
  autoConnect: true,
  auth: { token: "abc" },
  ackTimeout: 5000,
  retries: 3,
  transports: ["websocket"],
  query: { v: "1" },
  path: "/socket.io",
  forceNew: false,
  multiplex: true,
});

const options: Partial<ManagerOptions & SocketOptions> = { reconnectionDelayMax: 10_000, timeout: 5000 };
const untyped = io(options); // same origin, default namespace
untyped.emit("anything", 1, "two", { three: [3] }, () => {});
untyped.on("anything", (...args: any[]) => console.log(args));
io("https://example.com/admin", { auth: (cb) => cb({ token: "abc" }) });
io("https://example.com", { auth: async () => ({ token: await Promise.resolve("abc") }) });
// A failover list of servers, and exactly-once emits.
const failover = io(["https://eu.example.com/chat", new URL("https://us.example.com/chat")], { exactlyOnce: true });
const where: string = failover.io.uri;
failover.io.on("failover", (uri: string, previous: string) => console.log(where, uri, previous));

// --- reserved events ---------------------------------------------------------------------

socket.on("connect", () => {
  const id: string | undefined = socket.id;
  const recovered: boolean = socket.recovered;
  const state: [boolean, boolean, boolean] = [socket.connected, socket.disconnected, socket.active];
  console.log(id, recovered, state);
});

socket.on("disconnect", (reason, description) => {
  const why: Socket.DisconnectReason = reason;
  const details: DisconnectDescription | undefined = description;
  if (reason === "io server disconnect") socket.connect(); // the server kicked us: no automatic reconnection
  console.log(why, details);
});

socket.on("connect_error", (err) => {
  const message: string = err.message;
  const asError: Error = err;
  const extended: ExtendedError = err;
  console.log(message, asError, extended, err.data);
  if (!socket.active) socket.connect(); // refused by a middleware: retry by hand
});

socket.once("connect", () => {});
socket.off("connect");
socket.removeAllListeners("disconnect");

// --- the Manager: socket.io ----------------------------------------------------------------

socket.io.on("reconnect_attempt", (attempt) => {
  const n: number = attempt;
  console.log(n);
});
socket.io.on("reconnect", (attempt: number) => console.log(attempt));
socket.io.on("reconnect_error", (err) => console.log(err.message));
socket.io.on("reconnect_failed", () => {});
socket.io.on("open", () => {});
socket.io.on("close", (reason: string, description?: DisconnectDescription) => console.log(reason, description));
socket.io.on("error", (err: Error) => console.log(err));
socket.io.on("ping", () => {});
socket.io.engine.close(); // drop the transport, as a network failure would
const delay: number = socket.io.reconnectionDelay();
socket.io.reconnectionDelay(500).reconnectionAttempts(10);

const manager = new Manager("https://example.com", { reconnectionDelayMax: 10_000, autoConnect: false });
const admin = manager.socket("/admin", { auth: { token: "abc" } });
admin.connect();
manager.open((err) => console.log(err?.message));

// --- typed events: listening ---------------------------------------------------------------

socket.on("noArg", () => {});
socket.on("basicEmit", (a, b, c) => {
  const n: number = a;
  const s: string = b;
  const bytes: ArrayBuffer = c;
  console.log(n, s, bytes);
});
socket.on("withAck", (d, callback) => callback(d.length));
socket.on("message", (from, text) => console.log(`${from}: ${text}`));

// --- typed events: emitting, acknowledgements ----------------------------------------------

socket.emit("hello");
socket.emit("message", "hola");
socket.emit("join", "room-42");
socket.emit("echo", { x: 1 }, (reply) => {
  const x: number = reply.x;
  console.log(x);
});
socket.timeout(2000).emit("echo", { x: 1 }, (err, reply) => {
  if (err) console.log("no answer in 2 s", err.message);
  else console.log(reply.x);
});
socket.volatile.emit("message", "only if connected");
socket.compress(false).emit("message", "uncompressed");
socket.send("a message event");

async function acks(): Promise<number> {
  const reply = await socket.emitWithAck("echo", { x: 1 });
  const x: number = reply.x;
  const withTimeout = await socket.timeout(2000).emitWithAck("echo", { x: 2 });
  return x + withTimeout.x + delay;
}
void acks();

// --- catch-all listeners ---------------------------------------------------------------------

const any = (event: string, ...args: any[]) => console.log(event, args);
socket.onAny(any).prependAny(any).offAny(any).offAny();
socket.onAnyOutgoing(any).offAnyOutgoing();
const listeners: ((...args: any[]) => void)[] = socket.listenersAny();
console.log(listeners.length);

socket.disconnect().connect();
socket.close();

// --- resocket's additions (everything above also compiles against socket.io-client) --------

socket.on("connect_error", (err) => {
  const type: string | undefined = err.type; // "TransportError", "TimeoutError", "ServerRefused", ...
  console.log(type);
});
io(new URL("https://example.com/admin"), { timeout: false });

socket.on("reconnect_attempt", (attempt) => console.log(attempt)); // also on the socket
socket.on("emit_dropped", (reason, packet) => {
  const why: "overflow" | "expired" | "cleared" | "unacknowledged" | "too-large" | "unreadable" = reason;
  console.log(why, packet[0]);
});
const stopRejoining: () => void = socket.rejoin("join", "room-42");
stopRejoining();
const queued: any[][] = socket.sendBuffer;
socket.clearQueue();
io("https://example.com", { maxQueue: 100, maxQueueAge: 60_000, queueOverflow: "drop-newest" });
console.log(queued);

// One connection for every tab: the socket is typed as any other.
const sharedSocket = io("https://example.com/chat", { shareAcrossTabs: true, retries: 3 });
const holds: boolean | undefined = sharedSocket.leading;
sharedSocket.emit("hello", holds ?? false);
