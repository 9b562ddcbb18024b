// A dedicated module Web Worker of the bench page (bench/page/bench.js creates it with
// `new Worker("/bench/worker.js?client=<name>", { type: "module" })`), running one
// client off the main thread.
//
// It imports the client's module, then posts { type: "ready" }, or { type: "loadError",
// error } with the exact error if the module cannot load in a worker. Then, for every
// { id, what: "inbound" | "outbound", args } (measure.js's function and its arguments
// after the module), it runs it and posts { id, result } or { id, error }.
import { MODULES, inbound, outbound } from "./measure.js";

const RUNS = { inbound, outbound };
const client = new URL(self.location.href).searchParams.get("client");
let lib = null;

self.onmessage = async (e) => {
  const { id, what, args } = e.data;
  try {
    if (!lib) throw new Error(`${client}: not loaded`);
    if (!Object.hasOwn(RUNS, what)) throw new Error(`unknown run ${what}`);
    const result = await RUNS[what](lib, client, ...args);
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};

try {
  if (!Object.hasOwn(MODULES, client)) throw new Error(`unknown client ${client}`);
  lib = await import(MODULES[client]);
  self.postMessage({ type: "ready" });
} catch (err) {
  self.postMessage({ type: "loadError", error: String(err?.stack ?? err) });
}
