// Server child processes of the e2e tests (and of bench/run.mjs): scripts, node ones or
// another interpreter's (./python-server.mjs), that print {"port": <n>} as their first
// JSON line once they listen, then their log, one JSON object a line. Started, killed and
// restarted by PID; commands written to their stdin.
// startServer() runs ./server.mjs with every option it has. Tracking and stopping the
// processes is scripts/children.mjs (shared with the demo): every child is remembered
// until it has exited, and any still alive when the test process exits is killed by PID
// (a last resort: tests stop their own children in `after`/`finally`).
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { exited, spawnTracked, stopChild, waitExit } from "../../../scripts/children.mjs";

const SERVER_SCRIPT = fileURLToPath(new URL("./server.mjs", import.meta.url));

/**
 * Starts ./server.mjs. `options`: { port, namespaces: ["/", "/admin"], refuse: ["/"],
 * stall: ["/slow"],
 * pingInterval, pingTimeout, recovery, maxDisconnectionDuration, holdMs,
 * redis: "redis://…", exactlyOnce, pendingTimeout, cutBeforeHello, transports: ["polling"], requireHeader: "authorization:Bearer t0k",
 * cookie: "io", corsOrigin: "http://127.0.0.1:<port>", corsCredentials, logRequests, logWrites,
 * noKeepAlive, name (in messages; default "server"), startupMs (how long it may take to announce its
 * port; default 15 000) }. Resolves to the handle of startChild().
 */
export function startServer(options = {}) {
  const args = [`--port=${options.port ?? 0}`];
  if (options.namespaces) args.push(`--namespaces=${options.namespaces.join(",")}`);
  if (options.refuse) args.push(`--refuse=${options.refuse.join(",")}`);
  if (options.stall) args.push(`--stall=${options.stall.join(",")}`);
  if (options.pingInterval) args.push(`--ping-interval=${options.pingInterval}`);
  if (options.pingTimeout) args.push(`--ping-timeout=${options.pingTimeout}`);
  if (options.recovery) args.push("--recovery");
  if (options.maxDisconnectionDuration) args.push(`--max-disconnection-duration=${options.maxDisconnectionDuration}`);
  if (options.holdMs) args.push(`--hold-ms=${options.holdMs}`);
  if (options.redis) args.push(`--redis=${options.redis}`);
  if (options.exactlyOnce) args.push("--exactly-once");
  if (options.pendingTimeout) args.push(`--pending-timeout=${options.pendingTimeout}`);
  if (options.cutBeforeHello) args.push(`--cut-before-hello=${options.cutBeforeHello}`);
  if (options.transports) args.push(`--transports=${options.transports.join(",")}`);
  if (options.requireHeader) args.push(`--require-header=${options.requireHeader}`);
  if (options.cookie) args.push(`--cookie=${options.cookie}`);
  if (options.corsOrigin) args.push(`--cors-origin=${options.corsOrigin}`);
  if (options.corsCredentials) args.push("--cors-credentials");
  if (options.logRequests) args.push("--log-requests");
  if (options.logWrites) args.push("--log-writes");
  if (options.noKeepAlive) args.push("--no-keep-alive");
  // A port just released by a killed server is normally free at once; retry briefly
  // in case the kernel has not caught up.
  return startChild(SERVER_SCRIPT, args, {
    name: options.name ?? "server",
    startupMs: options.startupMs ?? 15_000,
    attempts: options.port ? 10 : 1,
  });
}

/** startServer() for the plain scenarios: named "socket.io server", 10 s to start. */
export function startSocketIoServer(options = {}) {
  return startServer({ name: "socket.io server", startupMs: 10_000, ...options });
}

/**
 * Runs `node script ...args` (or `command script ...args`), a server announcing its port
 * as above. Options: name (in messages), startupMs (how long the port line may take),
 * attempts and retryMs (tries, and the pause between them, while it exits with code 98:
 * port in use), command (the interpreter; default this node) and env (the child's
 * environment; default this process's).
 * Resolves to { name, port, pid, upAt (performance.timeOrigin + performance.now() when
 * the port line came), log, stderr, alive, waitForLog(pred, ms, what), count(pred),
 * send(command), kill(), stop() }.
 */
export async function startChild(
  script,
  args,
  { name = "server", startupMs = 15_000, attempts = 1, retryMs = 200, command = process.execPath, env } = {},
) {
  let lastError;
  for (let i = 0; i < attempts; i += 1) {
    try {
      return await spawnServer(name, command, [script, ...args], { startupMs, env });
    } catch (err) {
      lastError = err;
      if (!err.addressInUse) break;
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }
  throw lastError;
}

function spawnServer(name, command, args, { startupMs, env }) {
  const child = spawnTracked(command, args, env ? { env } : {});
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
    upAt: undefined,
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
    /** Polite stop (stdin closed, SIGTERM), then SIGKILL after 3 s. Never throws. */
    stop: () => stopChild(child),
  };

  return new Promise((resolve, reject) => {
    const fail = (message, extra = {}) => {
      clearTimeout(timer);
      handle.stop().finally(() => reject(Object.assign(new Error(`${message}; stderr: ${stderr.trim() || "(empty)"}`), extra)));
    };
    const timer = setTimeout(() => fail(`${name}: no port announced within ${startupMs / 1000} s`), startupMs);
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      let parsed;
      try {
        parsed = JSON.parse(line);
      } catch {
        return; // not ours (a stray log line): ignore
      }
      if (handle.port === undefined) {
        if (!Number.isInteger(parsed.port)) return fail(`${name}: unexpected first line ${line}`);
        handle.upAt = performance.timeOrigin + performance.now();
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
