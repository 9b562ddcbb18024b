// The python-socketio server of ./python/server.py as a child process of the e2e tests,
// with the same contract and handle as the node servers of ./processes.mjs ({"port": n}
// as its first stdout line, then one JSON object a line; it exits when its stdin closes;
// stopped, or SIGKILLed, by PID). Its interpreter is the one of the virtualenv that
// scripts/setup.sh makes (target/python-venv, packages pinned in
// ./python/requirements.txt); PYTHON_SOCKETIO_PYTHON names another one.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { exited, spawnTracked, stopChild, waitExit } from "../../../scripts/children.mjs";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./python/server.py", import.meta.url));
export const PYTHON = process.env.PYTHON_SOCKETIO_PYTHON || join(ROOT, "target", "python-venv", "bin", "python");

export function pythonAvailable() {
  return existsSync(PYTHON);
}

/**
 * Starts ./python/server.py. `options`: { port, pingInterval, pingTimeout, name (in
 * messages; default "python-socketio server"), startupMs (default 15 000) }. A busy
 * `port` is retried for ~2 s (a server just killed may still hold it). Resolves to
 * { name, port, pid, log, stderr, alive, waitForLog(pred, ms, what), count(pred),
 * kill(), stop() }, as startChild() of ./processes.mjs does.
 */
export async function startPythonServer(options = {}) {
  const args = [SCRIPT, `--port=${options.port ?? 0}`];
  if (options.pingInterval) args.push(`--ping-interval=${options.pingInterval}`);
  if (options.pingTimeout) args.push(`--ping-timeout=${options.pingTimeout}`);
  const name = options.name ?? "python-socketio server";
  const attempts = options.port ? 10 : 1;
  let lastError;
  for (let i = 0; i < attempts; i += 1) {
    try {
      return await spawn(name, args, options.startupMs ?? 15_000);
    } catch (err) {
      lastError = err;
      if (!err.addressInUse) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw lastError;
}

function spawn(name, args, startupMs) {
  // Unbuffered, so that each log line reaches the test when it is written.
  const child = spawnTracked(PYTHON, args, { env: { ...process.env, PYTHONUNBUFFERED: "1" } });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    if (stderr.length < 10_000) stderr += chunk;
  });
  child.stdin.on("error", () => {}); // a killed child's pipe

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
    async kill() {
      if (exited(child)) return;
      process.kill(child.pid, "SIGKILL");
      if (!(await waitExit(child, 5000))) throw new Error(`${name} pid ${child.pid} survived SIGKILL for 5 s`);
    },
    stop: () => stopChild(child),
  };

  return new Promise((resolve, reject) => {
    const fail = (message, extra = {}) => {
      clearTimeout(timer);
      handle.stop().finally(() => reject(Object.assign(new Error(`${message}; stderr: ${stderr.trim() || "(empty)"}`), extra)));
    };
    const timer = setTimeout(() => fail(`${name}: no port announced within ${startupMs / 1000} s`), startupMs);
    createInterface({ input: child.stdout }).on("line", (line) => {
      let parsed;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
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
