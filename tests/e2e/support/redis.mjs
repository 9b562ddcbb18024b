// A private redis-server for the cluster tests: on a free 127.0.0.1 port, nothing
// saved to disk, stopped by PID. The binary: REDIS_SERVER, else /usr/bin/redis-server.
import { existsSync } from "node:fs";
import { connect } from "node:net";

import { exited, freePort, spawnTracked, stopChild } from "../../../scripts/children.mjs";

export const REDIS_SERVER = process.env.REDIS_SERVER || "/usr/bin/redis-server";

export function redisAvailable() {
  return existsSync(REDIS_SERVER);
}

/** Sends PING over a raw connection; resolves true on +PONG. */
function ping(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 1000);
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk;
      if (reply.includes("\r\n")) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply.startsWith("+PONG"));
      }
    });
    socket.on("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** Starts redis-server; resolves to { port, pid, url, stop() } once it answers PING. */
export async function startRedis() {
  const port = await freePort();
  const child = spawnTracked(REDIS_SERVER, [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--save", "",
    "--appendonly", "no",
    "--protected-mode", "yes",
    "--loglevel", "warning",
  ]);
  let output = "";
  const collect = (chunk) => {
    if (output.length < 10_000) output += chunk;
  };
  child.stdout.setEncoding("utf8").on("data", collect);
  child.stderr.setEncoding("utf8").on("data", collect);
  const handle = {
    port,
    pid: child.pid,
    url: `redis://127.0.0.1:${port}`,
    stop: () => stopChild(child),
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exited(child)) {
      throw new Error(`redis-server exited early (${child.signalCode ?? child.exitCode}): ${output.trim()}`);
    }
    if (await ping(port)) return handle;
    await new Promise((r) => setTimeout(r, 100));
  }
  await handle.stop();
  throw new Error(`redis-server did not answer PING within 10 s: ${output.trim()}`);
}
