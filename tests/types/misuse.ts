// Mistakes the declarations must catch. Each line after a `@ts-expect-error` comment must
// be a type error: tsc fails on an unused `@ts-expect-error`, so `tsc -p tests/types`
// passes only if every one of them is really refused. tests/e2e/types.test.mjs also
// compiles this file with the comments removed and checks that tsc then reports an
// error on exactly the marked lines.
import { io, Manager, Socket } from "resocket";

interface ServerToClientEvents {
  basicEmit: (a: number, b: string) => void;
}

interface ClientToServerEvents {
  message: (text: string) => void;
  echo: (payload: { x: number }, callback: (reply: { x: number }) => void) => void;
}

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io("https://example.com");

// Reserved events with the wrong listener.
// @ts-expect-error: the reason is a string (Socket.DisconnectReason)
socket.on("disconnect", (reason: number) => console.log(reason));
// @ts-expect-error: "kicked" is not a disconnect reason
socket.on("disconnect", (reason) => reason === "kicked");
// @ts-expect-error: connect_error gives an Error, not a string
socket.on("connect_error", (err: string) => console.log(err));
// @ts-expect-error: connect has no argument of type string
socket.on("connect", (id: string) => console.log(id));

// Typed events.
// @ts-expect-error: "message" takes a string
socket.emit("message", 42);
// @ts-expect-error: the payload's x is a number
socket.emit("echo", { x: "1" }, () => {});
// @ts-expect-error: not an event of ClientToServerEvents
socket.emit("unknown");
// @ts-expect-error: reserved names cannot be emitted
socket.emit("connect");
// @ts-expect-error: basicEmit's first argument is a number
socket.on("basicEmit", (a: string) => console.log(a));

// Acknowledgements.
// @ts-expect-error: emitWithAck takes no callback
void socket.emitWithAck("echo", { x: 1 }, () => {});
async function wrongReply(): Promise<string> {
  const reply = await socket.emitWithAck("echo", { x: 1 });
  // @ts-expect-error: the reply's x is a number
  const x: string = reply.x;
  return x;
}
void wrongReply();
// @ts-expect-error: with a timeout, the callback's first argument is the error
socket.timeout(1000).emit("echo", { x: 1 }, (reply) => console.log(reply.x));

// Socket state.
// @ts-expect-error: id is undefined while disconnected
const id: string = socket.id;
console.log(id);

// The Manager's events.
// @ts-expect-error: the attempt number is a number
socket.io.on("reconnect", (attempt: string) => console.log(attempt));
// @ts-expect-error: "connect" is a socket event, not a Manager event
socket.io.on("connect", () => {});

// Options.
// @ts-expect-error: reconnectionAttempts is a number
io({ reconnectionAttempts: "5" });
// @ts-expect-error: not a queueOverflow policy
io({ queueOverflow: "drop-all" });
// @ts-expect-error: header values are strings
io({ extraHeaders: { authorization: 42 } });
// @ts-expect-error: a Manager takes no namespace-level auth
new Manager("https://example.com", { auth: { token: "x" } });

// New options.
// @ts-expect-error: exactlyOnce is a boolean
io("https://example.com", { exactlyOnce: "yes" });
// @ts-expect-error: shareAcrossTabs is a boolean
io("https://example.com", { shareAcrossTabs: 1 });
// @ts-expect-error: leading is read-only
io("https://example.com").leading = true;
// @ts-expect-error: a failover list holds URLs
io(["https://example.com", 42]);
