// The python-socketio server of ./python/server.py as a child process of the e2e tests,
// started by startChild() of ./processes.mjs, so with the contract and handle of its node
// servers ({"port": n} as its first stdout line, then one JSON object a line; it exits
// when its stdin closes; stopped, or SIGKILLed, by PID). Its interpreter is the one of
// the virtualenv that scripts/setup.sh makes (target/python-venv, packages pinned in
// ./python/requirements.txt); PYTHON_SOCKETIO_PYTHON names another one.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { startChild } from "./processes.mjs";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./python/server.py", import.meta.url));
export const PYTHON = process.env.PYTHON_SOCKETIO_PYTHON || join(ROOT, "target", "python-venv", "bin", "python");

export function pythonAvailable() {
  return existsSync(PYTHON);
}

/**
 * Starts ./python/server.py. `options`: { port, pingInterval, pingTimeout, name (in
 * messages; default "python-socketio server"), startupMs (default 15 000) }. A busy
 * `port` is retried for ~2 s (a server just killed may still hold it). Resolves to the
 * handle of startChild() of ./processes.mjs.
 */
export function startPythonServer(options = {}) {
  const args = [`--port=${options.port ?? 0}`];
  if (options.pingInterval) args.push(`--ping-interval=${options.pingInterval}`);
  if (options.pingTimeout) args.push(`--ping-timeout=${options.pingTimeout}`);
  return startChild(SCRIPT, args, {
    name: options.name ?? "python-socketio server",
    startupMs: options.startupMs ?? 15_000,
    attempts: options.port ? 10 : 1,
    command: PYTHON,
    // Unbuffered, so that each log line reaches the test when it is written.
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
}
