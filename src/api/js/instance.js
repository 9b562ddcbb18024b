// The wasm instance new clients run on, and traps: an instance that trapped is given up
// whole and the next client gets a fresh one. The only module with side effects at
// import (besides the entry): the wasm is fetched and instantiated here, once (top-level
// await). What the connection does is the core's; every call into it goes through its
// driver (driver.js), which reports traps here.

import { live } from "./live.js";

// The module file, beside this one: bundlers (Vite) find it by this very expression.
const WASM_URL = new URL("./resocket_wasm_bg.wasm", import.meta.url);

// The module is compiled once; each instance has its own memory, so that an instance
// that trapped can be let go of whole while new clients run on a fresh one, made at once
// from the compiled module. The module imports nothing. Top-level await: an app's
// `import { io } from "resocket"` needs no explicit init call.
// The first instance is made in a function of its own: what a module's top-level code
// awaits stays reachable from the module, and its memory with it.
let inst;
const MODULE = await (async () => {
  const response = await fetch(WASM_URL);
  if (!response.ok) throw new Error(`resocket: failed to fetch Wasm: ${response.status} ${response.statusText} fetching '${response.url}'`);
  let made;
  try {
    // Compiled while it downloads.
    made = await WebAssembly.instantiateStreaming(response, {});
  } catch (e) {
    // A server that does not say `application/wasm`: compiled once downloaded.
    if (response.headers.get("Content-Type") == "application/wasm") throw e;
    made = await WebAssembly.instantiate(await (await fetch(WASM_URL)).arrayBuffer(), {});
  }
  inst = { x: made.instance.exports };
  return made.module;
})();

// The instance new clients run on: a fresh one once the last one trapped.
export const current = () => {
  if (inst.trap) {
    try {
      inst = { x: new WebAssembly.Instance(MODULE, {}).exports };
    } catch (cause) {
      // Memory still exhausted: not even a fresh instance can start (a later call tries again).
      throw Object.assign(fail(`resocket: the WebAssembly module stopped and cannot start again (${cause.message})`, "WasmTrap"), { cause });
    }
  }
  return inst;
};

/** Memory held by the wasm instance new clients run on (used by the memory test and the benchmarks). */
export const stats = () => {
  const { x } = current();
  return { wasmMemoryBytes: x.memory.buffer.byteLength, connections: x.resocket_live() };
};

/** An Error with a stable `.type` (the core's code: "TransportError", "TimeoutError", ...). */
export const fail = (message, type) => {
  const e = Object.assign(new Error(message), { type });
  // Formatted at once: until then a stack trace holds the wasm instance of its frames
  // (most errors are made in the core's callback), and so, once the instance trapped, its
  // memory, for as long as the app keeps the error.
  e.stack;
  return e;
};

// --- traps ------------------------------------------------------------------------------

// A trap (unreachable: a panic or a failed allocation; a stack overflow) stops wasm code
// halfway, leaving what it was changing half-changed. The instance is given up whole: its
// clients are told once ("WasmTrap") and never call it again, and new clients get a
// fresh instance.
export const isTrap = (e) => e instanceof WebAssembly.RuntimeError || e instanceof RangeError;

// Instance `i` trapped (in a call of Manager `m`, if any).
export const trapped = (i, cause, m) => {
  if (i.trap) return;
  const why = `resocket: the WebAssembly module stopped (${cause.message}); this client is dead: create a new one`;
  i.trap = Object.assign(fail(why, "WasmTrap"), { cause });
  // As for fail()'s errors (the app gets this one as `cause`).
  cause.stack;
  m?._dead();
  for (const x of live) if (x._i == i) x._dead();
  // Once the connections above are freed (their microtasks come first) and no call into
  // the instance can be on the stack: it is let go of, so that its memory is collected
  // even while the app keeps its dead clients.
  queueMicrotask(() => (i.x = i.views = null));
};
