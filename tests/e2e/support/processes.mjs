// Child processes of the e2e tests: the socket.io server (./server.mjs), started,
// killed and restarted by PID. Every child is remembered until it has exited, and any
// still alive when the test process exits is killed by PID (a last resort: tests stop
// their own children in `after`/`finally`).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
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

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child, ms) {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts the socket.io server. `options`: { port, namespaces: ["/", "/admin"],
 * refuse: ["/"], pingInterval, pingTimeout, recovery }.
 * Resolves to a handle: { port, pid, log, waitForLog(pred, ms, what), kill(), stop() }.
 * `log` holds the JSON lines the server printed after its port line.
 */
export async function startSocketIoServer(options = {}) {
  const args = [SERVER_SCRIPT, `--port=${options.port ?? 0}`];
  if (options.namespaces) args.push(`--namespaces=${options.namespaces.join(",")}`);
  if (options.refuse) args.push(`--refuse=${options.refuse.join(",")}`);
  if (options.pingInterval) args.push(`--ping-interval=${options.pingInterval}`);
  if (options.pingTimeout) args.push(`--ping-timeout=${options.pingTimeout}`);
  if (options.recovery) args.push("--recovery");

  // A port just released by a killed server is normally free at once; retry briefly
  // in case the kernel has not caught up.
  const attempts = options.port ? 10 : 1;
  let lastError;
  for (let i = 0; i < attempts; i += 1) {
    try {
      return await spawnServer(args);
    } catch (err) {
      lastError = err;
      if (!err.addressInUse) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw lastError;
}

function spawnServer(args) {
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  child.once("exit", () => live.delete(child));
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    if (stderr.length < 10_000) stderr += chunk;
  });

  const log = [];
  const watchers = new Set();
  const handle = {
    pid: child.pid,
    port: undefined,
    log,
    get stderr() {
      return stderr;
    },
    /** Waits until `pred(log)` is true; rejects after `ms` with the log in the message. */
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
          reject(new Error(`server: timed out after ${ms} ms waiting for ${what}; server log: ${JSON.stringify(log)}`));
        }, ms);
        watchers.add(watcher);
      });
    },
    count(pred) {
      return log.filter(pred).length;
    },
    /** SIGKILL, as a crash would; resolves once the process is gone. */
    async kill() {
      if (exited(child)) return;
      process.kill(child.pid, "SIGKILL");
      if (!(await waitExit(child, 5000))) throw new Error(`server pid ${child.pid} survived SIGKILL for 5 s`);
    },
    /** Polite stop (stdin closed, SIGTERM), then SIGKILL after 3 s. Never throws. */
    async stop() {
      if (exited(child)) return;
      child.stdin.end();
      try {
        process.kill(child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      if (await waitExit(child, 3000)) return;
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await waitExit(child, 3000);
    },
  };

  return new Promise((resolve, reject) => {
    const fail = (message, extra = {}) => {
      clearTimeout(timer);
      handle.stop().finally(() => reject(Object.assign(new Error(`${message}; stderr: ${stderr.trim() || "(empty)"}`), extra)));
    };
    const timer = setTimeout(() => fail("socket.io server: no port announced within 10 s"), 10_000);
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      let parsed;
      try {
        parsed = JSON.parse(line);
      } catch {
        return; // not ours (a stray log line): ignore
      }
      if (handle.port === undefined) {
        if (!Number.isInteger(parsed.port)) return fail(`socket.io server: unexpected first line ${line}`);
        handle.port = parsed.port;
        clearTimeout(timer);
        resolve(handle);
        return;
      }
      log.push(parsed);
      for (const watcher of [...watchers]) watcher();
    });
    child.once("error", (err) => fail(`socket.io server: cannot start: ${err.message}`));
    child.once("exit", (code, signal) => {
      if (handle.port === undefined) fail(`socket.io server exited early (${signal ?? code})`, { addressInUse: code === 98 });
    });
  });
}

/** A loopback port that was free a moment ago and on which nothing listens now. */
export function closedPort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
