// Child processes stopped by PID, for the demo (./demo.mjs), the end-to-end tests
// (tests/e2e/) and the benchmarks (bench/). A tracked child is remembered until it has
// exited, and any still alive when this process exits is SIGKILLed by PID (a last
// resort: callers stop their own children).
import { spawn } from "node:child_process";
import { createServer } from "node:net";

const live = new Set();
let hooked = false;

/** Sends `signal` to `pid`; false if there is no such process (already gone). Signal 0 only asks. */
export function killPid(pid, signal) {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Remembers `child` until it exits (SIGKILLed by PID if this process exits first); returns it. */
export function track(child) {
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const c of live) killPid(c.pid, "SIGKILL");
    });
  }
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** `spawn(cmd, args, options)`, every stdio piped unless `options.stdio` says otherwise, tracked. */
export function spawnTracked(cmd, args, options = {}) {
  return track(spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...options }));
}

export function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once `child` has exited, false if it is still running after `ms`. */
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

/**
 * Closes the child's stdin (when piped) and sends it `signal` by PID; SIGKILL if it is
 * still alive after `graceMs`. Never throws.
 */
export async function stopChild(child, signal = "SIGTERM", graceMs = 3000) {
  if (exited(child)) return;
  child.stdin?.end();
  killPid(child.pid, signal);
  if (await waitExit(child, graceMs)) return;
  killPid(child.pid, "SIGKILL");
  await waitExit(child, 3000);
}

/** A loopback port that was free a moment ago and on which nothing listens now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
