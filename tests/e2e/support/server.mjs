// A real socket.io 4.8 server for the end-to-end tests, run as a CHILD PROCESS so that a
// test can kill it (SIGKILL) and start it again on the same port. Start it through
// `startSocketIoServer()` in ./processes.mjs rather than by hand.
//
// Options (argv, `--name=value`; each also readable from the environment as E2E_<NAME>):
//   --port=<n>              port on 127.0.0.1 (default 0: any free port)
//   --namespaces=/,/admin   namespaces to serve (default "/,/admin")
//   --refuse=/admin         namespaces whose middleware refuses every connection with
//                           Error("not authorized") and data { code: 401 }
//   --ping-interval=<ms>    Engine.IO pingInterval (default 25000)
//   --ping-timeout=<ms>     Engine.IO pingTimeout (default 20000)
//   --recovery              turn connectionStateRecovery on
//
// Output (stdout, one JSON object per line):
//   first line: {"port": <n>}  once it listens
//   then one line per thing a test may want to check:
//     {"event":"connection","nsp":"/","id":"…","connId":"…","recovered":false}
//     {"event":"disconnect","nsp":"/","id":"…","connId":"…","reason":"…"}
//     {"event":"refused","nsp":"/"}
// It exits when its stdin closes (the test runner went away), or on SIGTERM/SIGINT.
//
// What every namespace answers (the client drives the server through events):
//   "echo" (...args, ack?)      ack(...args), or emit("echo", ...args) without an ack
//   "noack" (...args, ack)      counts the call and never calls the ack
//   "counters" (ack)            ack({ noack, connections })
//   "whoami" (ack)              ack({ nsp, id, connId, clientsCount })
//   "describe" (...args, ack)   ack(args with every binary replaced by {$bytes:"<hex>"})
//   "send-binary" (ack)         emit("binary", <nested buffers>) then ack(<nested buffers>)
//   "ask" (payload, ack)        emit("question", payload, answerCb) with a 3 s timeout and
//                               ack({ answer: describe(answerArgs) } | { error })
//   "emit-to-me" (name, ...args, ack?)  emit(name, ...args), then ack()
//   "kick"                      socket.disconnect(true)
//   "broadcast-later" (ms, name, ...args, ack?)  ack() now, io.of(nsp).emit(name, ...args)
//                               after ms (reaches sockets that reconnect meanwhile, and
//                               is replayed to recovered sessions)
import { createServer } from "node:http";
import { Server } from "socket.io";

function option(name, fallback) {
  const prefix = `--${name}=`;
  for (const arg of process.argv.slice(2)) {
    if (arg === `--${name}`) return "true";
    if (arg.startsWith(prefix)) return arg.slice(prefix.length);
  }
  const env = process.env[`E2E_${name.toUpperCase().replaceAll("-", "_")}`];
  return env ?? fallback;
}

const port = Number(option("port", "0"));
const namespaces = option("namespaces", "/,/admin").split(",").filter(Boolean);
const refused = new Set(option("refuse", "").split(",").filter(Boolean));
const pingInterval = Number(option("ping-interval", "25000"));
const pingTimeout = Number(option("ping-timeout", "20000"));
const recovery = option("recovery", "false") === "true";

function report(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

/** Replaces binaries by {$bytes: hex} (and notes their Node type), recursively. */
function describe(value, depth = 0) {
  if (depth > 20) return "<too deep>";
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("hex") };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString("hex") };
  if (ArrayBuffer.isView(value)) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") };
  }
  if (Array.isArray(value)) return value.map((v) => describe(v, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v, depth + 1)]));
  }
  return value;
}

/** The binary payload the server sends: fixed bytes, nested, the test knows them. */
function binaryPayload() {
  return {
    top: Buffer.from([0, 1, 2, 253, 254, 255]),
    nested: { deeper: [Buffer.from("héllo", "utf8"), 42, Buffer.alloc(0)] },
    text: "not binary",
  };
}

const http = createServer((req, res) => {
  res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
});

const io = new Server(http, {
  pingInterval,
  pingTimeout,
  cors: { origin: "*" },
  ...(recovery ? { connectionStateRecovery: {} } : {}),
});

let noack = 0;
let connections = 0;

for (const name of namespaces) {
  const nsp = io.of(name);
  if (refused.has(name)) {
    nsp.use((socket, next) => {
      report({ event: "refused", nsp: name });
      next(Object.assign(new Error("not authorized"), { data: { code: 401 } }));
    });
  }
  nsp.on("connection", (socket) => {
    connections += 1;
    const connId = socket.conn.id;
    report({ event: "connection", nsp: name, id: socket.id, connId, recovered: socket.recovered });
    socket.on("disconnect", (reason) => {
      report({ event: "disconnect", nsp: name, id: socket.id, connId, reason });
    });

    const split = (args) => {
      const ack = typeof args.at(-1) === "function" ? args.pop() : null;
      return [args, ack];
    };
    socket.on("echo", (...all) => {
      const [args, ack] = split(all);
      if (ack) ack(...args);
      else socket.emit("echo", ...args);
    });
    socket.on("noack", () => {
      noack += 1; // the ack callback, if any, is dropped on purpose
    });
    socket.on("counters", (ack) => ack?.({ noack, connections }));
    socket.on("whoami", (ack) =>
      ack?.({ nsp: socket.nsp.name, id: socket.id, connId, clientsCount: io.engine.clientsCount }),
    );
    socket.on("describe", (...all) => {
      const [args, ack] = split(all);
      ack?.(describe(args));
    });
    socket.on("send-binary", (ack) => {
      socket.emit("binary", binaryPayload());
      ack?.(binaryPayload());
    });
    socket.on("ask", (payload, ack) => {
      socket.timeout(3000).emit("question", payload, (err, ...answer) => {
        ack?.(err ? { error: String(err.message ?? err) } : { answer: describe(answer) });
      });
    });
    socket.on("emit-to-me", (...all) => {
      const [[event, ...args], ack] = split(all);
      socket.emit(event, ...args);
      ack?.();
    });
    socket.on("kick", () => socket.disconnect(true));
    socket.on("broadcast-later", (...all) => {
      const [[ms, event, ...args], ack] = split(all);
      setTimeout(() => nsp.emit(event, ...args), Math.min(Number(ms) || 0, 10_000));
      ack?.();
    });
  });
}

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  io.close();
  http.closeAllConnections?.();
  setTimeout(() => process.exit(0), 200).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();

http.on("error", (err) => {
  process.stderr.write(`e2e socket.io server: ${err.code ?? ""} ${err.message}\n`);
  process.exit(err.code === "EADDRINUSE" ? 98 : 1);
});
http.listen(port, "127.0.0.1", () => report({ port: http.address().port }));
