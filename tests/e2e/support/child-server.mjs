// The life of a socket.io server run as a child process, by the e2e tests (./server.mjs)
// and by the benchmarks (bench/server.mjs), as ./processes.mjs expects it: it listens on
// 127.0.0.1, prints {"port": <n>} once it does, exits with code 98 when the port is in
// use (the parent retries) and 1 on any other listen error, and stops (io.close(), exit
// 0) when its stdin closes (the parent went away) or on SIGTERM/SIGINT.
import { createServer } from "node:http";
import { createInterface } from "node:readline";

/** The HTTP server under socket.io: 404 to every request socket.io does not take. */
export function createHttpServer() {
  return createServer((req, res) => {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
}

/**
 * Listens on 127.0.0.1:`port` and lives as above. `label` prefixes the listen error on
 * stderr; `onLine`, if given, gets every line of stdin (the parent's commands).
 */
export function serveAsChild({ http, io, port, label, onLine }) {
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
  if (onLine) createInterface({ input: process.stdin }).on("line", onLine);
  process.stdin.on("error", stop);
  process.stdin.resume();

  http.on("error", (err) => {
    process.stderr.write(`${label}: ${err.code ?? ""} ${err.message}\n`);
    process.exit(err.code === "EADDRINUSE" ? 98 : 1);
  });
  http.listen(port, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`));
}
