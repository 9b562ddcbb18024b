// Where the time goes: Chromium's sampling CPU profiler (over CDP) around one
// measurement, and a summary of the profile by owner (resocket's wasm, its JS API, socket.io-client, the page, the browser's own work) and by function.
// Used by `node bench/run.mjs --profile`; no dependency, plain data in and out.

/** Runs `fn` under the profiler of `cdp` (a page's CDP session); resolves to [result, profile]. */
export async function profiled(cdp, fn, intervalMicros = 50) {
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: intervalMicros });
  await cdp.send("Profiler.start");
  let stopped = null;
  try {
    const result = await fn();
    stopped = await cdp.send("Profiler.stop");
    return [result, stopped.profile];
  } finally {
    if (!stopped) await cdp.send("Profiler.stop").catch(() => {});
    await cdp.send("Profiler.disable").catch(() => {});
  }
}

// Owners, by the script a sampled function comes from.
const OWNERS = [
  [(url) => url.endsWith(".wasm"), "resocket wasm"],
  // Every module of the package.
  [(url) => /\/pkg\/[^/]+\.js$/.test(url), "resocket JS API"],
  [(url) => url.includes("/vendor/"), "socket.io-client"],
  [(url) => url.endsWith("/raw-client.js"), "raw baseline"],
  [(url) => url.includes("/bench/"), "bench page"],
];

function ownerOf(node) {
  const { url, functionName } = node.callFrame;
  for (const [test, owner] of OWNERS) if (test(url)) return owner;
  // (program), (garbage collector), (idle), and built-ins such as JSON.parse.
  if (functionName.startsWith("(")) return functionName;
  return "browser built-ins";
}

/**
 * Self time per owner and per function, from a CDP Profiler profile. Idle time is left
 * out of the shares: they are shares of the time the page was busy.
 */
export function summarizeProfile(profile, top = 12) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const owners = new Map();
  const functions = new Map();
  let busy = 0;
  for (const [id, micros] of self) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === "(idle)") continue;
    busy += micros;
    const owner = ownerOf(node);
    owners.set(owner, (owners.get(owner) ?? 0) + micros);
    const name = `${node.callFrame.functionName || "(anonymous)"} [${owner}]`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
  }
  const sorted = (map) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([name, micros]) => ({ name, ms: micros / 1000, share: busy ? micros / busy : 0 }));
  return { busyMs: busy / 1000, owners: sorted(owners), functions: sorted(functions).slice(0, top) };
}

/** Markdown of one summary. */
export function profileMarkdown(title, summary) {
  const pct = (s) => `${(s * 100).toFixed(1)} %`;
  const rows = (list) => list.map((r) => `| ${r.name} | ${r.ms.toFixed(1)} | ${pct(r.share)} |`);
  return [
    `### ${title}`,
    "",
    `Busy (not idle): ${summary.busyMs.toFixed(1)} ms.`,
    "",
    "| owner | self ms | share |",
    "|---|---:|---:|",
    ...rows(summary.owners),
    "",
    "| function | self ms | share |",
    "|---|---:|---:|",
    ...rows(summary.functions),
    "",
  ].join("\n");
}
