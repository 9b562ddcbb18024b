// The trap app of the packaging tests (../../../packaging.test.mjs), bundled as an app
// would be: connects to the socket.io server named by `?server=<url>`, grows the wasm
// memory to its limit (found through window.wasmMemories, which ../note-wasm-memories.js
// keeps) so that an emit too big for what is left traps the module, waits for the
// "WasmTrap" reports, then connects a new client with io() and has the server send it
// an event. Reports in `window.app` ({ done, error, result }) and on the page; keeps the
// dead client (window.deadClient) and WeakRefs to the dead memory and its buffer
// (window.exhausted), for the test to see that memory released all the same.
import { io, stats } from "resocket";

import { exhaustMemory } from "../exhaust-memory.js";

const within = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);


const connected = (socket) =>
  within(
    new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    }),
    5000,
    "connect",
  );

async function run() {
  const app = (window.app = { done: false, error: null, result: null });
  const status = document.getElementById("status");
  try {
    const server = new URLSearchParams(location.search).get("server");
    const opts = { reconnection: false, timeout: 5000 };
    const first = io(server, opts);
    await connected(first);

    const reports = [];
    let told;
    const all = new Promise((resolve) => (told = resolve));
    const report = (what, err) => {
      reports.push(`${what}:${err?.type}`);
      if (reports.length == 2) told();
    };
    first.on("disconnect", (reason, err) => report(`disconnect:${reason}`, err));
    first.io.on("error", (err) => report("error", err));

    window.deadClient = first;
    const grown = exhaustMemory();
    first.emit("echo", "x".repeat(64 << 20));
    await within(all, 5000, "the trap's reports");

    // The same URL as the dead client: io() must not hand out its Manager again.
    const fresh = io(server, opts);
    await connected(fresh);
    const news = within(new Promise((resolve) => fresh.once("news", resolve)), 5000, "the event");
    fresh.emit("emit-to-me", "news", 42);
    app.result = { grown, reports, news: await news, fresh: fresh.id, dead: first.active, memory: stats().wasmMemoryBytes };
    fresh.disconnect();
    status.textContent = `ok: ${JSON.stringify(app.result)}`;
  } catch (err) {
    app.error = String(err?.stack ?? err);
    status.textContent = `failed: ${app.error}`;
  } finally {
    app.done = true;
  }
}

run();
