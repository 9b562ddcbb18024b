// The wasm instance new clients run on, and traps: an instance that trapped is given up
// whole and the next client gets a fresh one. The only module with side effects at
// import (besides the entry): the wasm is instantiated here, once (top-level await).
// What the connection does is the core's; every call into a Connection goes through its
// driver (driver.js), which reports traps here.

import glue from "./resocket_wasm.js";
import { live } from "./live.js";

// Each instance of the wasm module comes with a glue of its own (the glue module exports
// a factory): its own memory, table of JS values, closures and Connection class. So an
// instance that trapped can be let go of whole, its memory with it, while new clients run
// on a fresh one. The module is compiled once, by the first glue (which fetches it from
// beside its code); later instances are made from it synchronously, so a fresh one is
// there as soon as a client needs it. Top-level await: `import { io } from "resocket"`
// needs no explicit init call. The first instance is made in a function of its own: what
// a module's top-level code awaits stays reachable from the module, and its memory with it.
const first = glue();
let inst = await (async () => (await first.default(), { g: first, memory: first.wasmMemory() }))();
const MODULE = first.module();

// The instance new clients run on: a fresh one once the last one trapped.
export const current = () => {
  if (inst.trap) {
    try {
      const g = glue();
      g.initSync({ module: MODULE });
      inst = { g, memory: g.wasmMemory() };
    } catch (cause) {
      // Memory still exhausted: not even a fresh instance can start (a later call tries again).
      throw Object.assign(fail(`resocket: the WebAssembly module stopped and cannot start again (${cause.message})`, "WasmTrap"), { cause });
    }
  }
  return inst;
};

/** Memory held by the wasm instance new clients run on (used by the memory test and the benchmarks). */
export const stats = () => {
  const { g, memory } = current();
  return { wasmMemoryBytes: memory.buffer.byteLength, connections: g.liveConnections() };
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
  // the instance can be on the stack: its glue lets go of it, so that its memory is
  // collected even while the app keeps its dead clients, or a connection that could not
  // be freed keeps listeners (which from then on do nothing).
  queueMicrotask(() => {
    i.g.drop();
    i.g = i.memory = null;
  });
};
