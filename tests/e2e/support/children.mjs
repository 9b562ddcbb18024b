// Child processes of the recovery, delivery, chaos and cluster tests: the socket.io
// server of ./server.mjs with every option it has (recovery duration, hold time,
// Redis cluster adapter), and commands written to its stdin. Same handle as
// `startSocketIoServer()` of ./processes.mjs (port, pid, log, waitForLog, count,
// kill, stop), plus `send(command)`. Children are stopped by PID only: in `stop()` /
// `kill()`, and, as a last resort, when the test process exits.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SERVER_SCRIPT = fileURLToPath(new URL("./server.mjs", import.meta.url));
const live = new Set();

process.on("exit", () => {
  for (const child of live) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

export function waitExit(child, ms) {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM (after closing stdin), then SIGKILL after `graceMs`. Never throws. */
export async function stopChild(child, graceMs = 3000) {
  if (exited(child)) return;
  child.stdin?.end();
  try {
    process.kill(child.pid, "SIGTERM");
  } catch {
    // already gone
  }
  if (await waitExit(child, graceMs)) return;
  try {
    process.kill(child.pid, "SIGKILL");
  } catch {
    // already gone
  }
  await waitExit(child, 3000);
}

/** Spawns `cmd args`, remembered until it exits (and SIGKILLed if the test process exits first). */
export function spawnTracked(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...options });
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/**
 * Starts ./server.mjs. `options`: { port, namespaces: ["/"], refuse: [], pingInterval,
 * pingTimeout, recovery, maxDisconnectionDuration, holdMs, redis: "redis://…", name }.
 * Resolves to { name, port, pid, log, stderr, waitForLog(pred, ms, what), count(pred),
 * send(command), kill(), stop() }.
 */
export async function startServer(options = {}) {
  const args = [SERVER_SCRIPT, `--port=${options.port ?? 0}`];
  if (options.namespaces) args.push(`--namespaces=${options.namespaces.join(",")}`);
  if (options.refuse) args.push(`--refuse=${options.refuse.join(",")}`);
  if (options.pingInterval) args.push(`--ping-interval=${options.pingInterval}`);
  if (options.pingTimeout) args.push(`--ping-timeout=${options.pingTimeout}`);
  if (options.recovery) args.push("--recovery");
  if (options.maxDisconnectionDuration) args.push(`--max-disconnection-duration=${options.maxDisconnectionDuration}`);
  if (options.holdMs) args.push(`--hold-ms=${options.holdMs}`);
  if (options.redis) args.push(`--redis=${options.redis}`);
  const name = options.name ?? "server";

  // A port just released by a killed server is normally free at once; retry briefly.
  const attempts = options.port ? 10 : 1;
  let lastError;
  for (let i = 0; i < attempts; i += 1) {
    try {
      return await spawnServer(name, args);
    } catch (err) {
      lastError = err;
      if (!err.addressInUse) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw lastError;
}

function spawnServer(name, args) {
  const child = spawnTracked(process.execPath, args);
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    if (stderr.length < 10_000) stderr += chunk;
  });
  child.stdin.on("error", () => {}); // writing to a killed child

  const log = [];
  const watchers = new Set();
  const handle = {
    name,
    pid: child.pid,
    port: undefined,
    log,
    get stderr() {
      return stderr;
    },
    get alive() {
      return !exited(child);
    },
    /** Waits until `pred(log)` is true; rejects after `ms` with the log's tail in the message. */
    waitForLog(pred, ms, what) {
      if (pred(log)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const watcher = () => {
          if (!pred(log)) return;
          clearTimeout(timer);
          watchers.delete(watcher);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.delete(watcher);
          reject(new Error(`${name}: timed out after ${ms} ms waiting for ${what}; log tail: ${JSON.stringify(log.slice(-30))}`));
        }, ms);
        watchers.add(watcher);
      });
    },
    count(pred) {
      return log.filter(pred).length;
    },
    /** Writes one command line (see ./server.mjs) to the server's stdin. */
    send(command) {
      if (!exited(child)) child.stdin.write(`${JSON.stringify(command)}\n`);
    },
    /** SIGKILL, as a crash would; resolves once the process is gone. */
    async kill() {
      if (exited(child)) return;
      process.kill(child.pid, "SIGKILL");
      if (!(await waitExit(child, 5000))) throw new Error(`${name} pid ${child.pid} survived SIGKILL for 5 s`);
    },
    /** Polite stop, then SIGKILL after 3 s. Never throws. */
    stop: () => stopChild(child),
  };

  return new Promise((resolve, reject) => {
    const fail = (message, extra = {}) => {
      clearTimeout(timer);
      handle.stop().finally(() => reject(Object.assign(new Error(`${message}; stderr: ${stderr.trim() || "(empty)"}`), extra)));
    };
    const timer = setTimeout(() => fail(`${name}: no port announced within 15 s`), 15_000);
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      let parsed;
      try {
        parsed = JSON.parse(line);
      } catch {
        return; // not ours
      }
      if (handle.port === undefined) {
        if (!Number.isInteger(parsed.port)) return fail(`${name}: unexpected first line ${line}`);
        handle.port = parsed.port;
        clearTimeout(timer);
        resolve(handle);
        return;
      }
      log.push(parsed);
      for (const watcher of [...watchers]) watcher();
    });
    child.once("error", (err) => fail(`${name}: cannot start: ${err.message}`));
    child.once("exit", (code, signal) => {
      if (handle.port === undefined) fail(`${name} exited early (${signal ?? code})`, { addressInUse: code === 98 });
    });
  });
}
