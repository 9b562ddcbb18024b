// Turns the benchmark's per-round numbers into the markdown table (medians and ratios)
// and the SVG chart of the throughput ratios. No dependency: plain strings.

export const CLIENTS = ["resocket", "socket.io-client", "raw"];

const WORKER_NA = "the client cannot load in a Web Worker";
// The clients that queue emits made offline (the raw baseline drops them).
const OFFLINE = ["resocket", "socket.io-client"];

/**
 * What is measured. `better`: which way is good (for reading the ratios); `chart`: in
 * the throughput chart; `only`: the clients it applies to (default all); `canBeNa`: why
 * a client may have no number at all for it (then shown as n/a, with the error in the
 * notes, and accepted by the smoke check): only a client that cannot load in a Web
 * Worker, for the worker rows. `{q}` in a label: the number of emits per offline queue
 * (markdownTable's `q`).
 */
export const METRICS = [
  { key: "inSmall", label: "inbound small JSON `[\"tick\",{\"n\":1}]`", unit: "events/s", better: "higher", chart: true },
  { key: "in1k", label: "inbound 1 KB JSON", unit: "events/s", better: "higher", chart: true },
  { key: "inBinary", label: "inbound 1 KB binary attachment", unit: "events/s", better: "higher", chart: true },
  { key: "inSmallRec", label: "inbound small JSON, recovery on", unit: "events/s", better: "higher", chart: true },
  { key: "in1kRec", label: "inbound 1 KB JSON, recovery on", unit: "events/s", better: "higher", chart: true },
  { key: "inBinaryRec", label: "inbound 1 KB binary, recovery on", unit: "events/s", better: "higher", chart: true },
  { key: "outSmall", label: "outbound small emits (until the server has all)", unit: "emits/s", better: "higher", chart: true },
  { key: "outLoop", label: "outbound: the `emit()` loop alone (socket.io-client only queues there)", unit: "emits/s", better: "higher" },
  { key: "inSmallWorker", label: "inbound small JSON, in a Web Worker", unit: "events/s", better: "higher", chart: true, canBeNa: WORKER_NA },
  { key: "outSmallWorker", label: "outbound small emits, in a Web Worker (until the server has all)", unit: "emits/s", better: "higher", chart: true, canBeNa: WORKER_NA },
  { key: "inSmallCpu", label: "inbound small JSON: page main-thread CPU per 1 000 events", unit: "ms", better: "lower" },
  { key: "in1kCpu", label: "inbound 1 KB JSON: page main-thread CPU per 1 000 events", unit: "ms", better: "lower" },
  { key: "inBinaryCpu", label: "inbound 1 KB binary: page main-thread CPU per 1 000 events", unit: "ms", better: "lower" },
  { key: "inSmallRecCpu", label: "inbound small JSON, recovery on: page main-thread CPU per 1 000 events", unit: "ms", better: "lower" },
  { key: "in1kRecCpu", label: "inbound 1 KB JSON, recovery on: page main-thread CPU per 1 000 events", unit: "ms", better: "lower" },
  { key: "inBinaryRecCpu", label: "inbound 1 KB binary, recovery on: page main-thread CPU per 1 000 events", unit: "ms", better: "lower" },
  { key: "outSmallCpu", label: "outbound small emits: page main-thread CPU per 1 000 emits", unit: "ms", better: "lower" },
  { key: "offlineCpu", label: "offline small emits (queued, no server): page main-thread CPU per 1 000 emits", unit: "ms", better: "lower", only: OFFLINE },
  {
    key: "offlinePersistCpu",
    label: "offline small emits, resocket with `persistQueue` (socket.io-client: in memory, as above): page main-thread CPU per 1 000 emits, until written",
    unit: "ms",
    better: "lower",
    only: OFFLINE,
  },
  { key: "persistOwnCpu", label: "`persistQueue`'s own cost: the row above minus the one before, per 1 000 emits", unit: "ms", better: "lower", only: ["resocket"] },
  { key: "persistWrittenMs", label: "`persistQueue`: first of {q} offline emits → all {q} in IndexedDB", unit: "ms", better: "lower", only: ["resocket"] },
  { key: "restoreCpu", label: "restore of {q} persisted emits in a new page: main-thread CPU, `io()` → all queued and written again", unit: "ms", better: "lower", only: ["resocket"] },
  { key: "restoreMs", label: "restore of {q} persisted emits: `io()` → `queue_restored`", unit: "ms", better: "lower", only: ["resocket"] },
  { key: "restoreWrittenMs", label: "restore of {q} persisted emits: `io()` → all queued and written again", unit: "ms", better: "lower", only: ["resocket"] },
  {
    key: "shareFollowerCpu",
    label: "`shareAcrossTabs`, inbound small JSON: follower page's main-thread CPU per 1 000 events",
    unit: "ms",
    better: "lower",
    only: ["resocket"],
  },
  {
    key: "shareLeaderCpu",
    label: "`shareAcrossTabs`, inbound small JSON: leading page's main-thread CPU per 1 000 events",
    unit: "ms",
    better: "lower",
    only: ["resocket"],
  },
  {
    key: "handOverDisconnect",
    label: "`shareAcrossTabs`: the leading page's `disconnect()` → the other page connected (session taken over)",
    unit: "ms",
    better: "lower",
    only: ["resocket"],
  },
  {
    key: "handOverClose",
    label: "`shareAcrossTabs`: the leading page closed → the other page connected (session taken over)",
    unit: "ms",
    better: "lower",
    only: ["resocket"],
  },
  { key: "ackP50", label: "ack round trip p50", unit: "ms", better: "lower" },
  { key: "ackP99", label: "ack round trip p99", unit: "ms", better: "lower" },
  { key: "restart", label: "server back up → `connect`", unit: "ms", better: "lower" },
  { key: "online", label: "`online` → `connect`", unit: "ms", better: "lower" },
  { key: "heapPerSocket", label: "JS heap per connected socket", unit: "bytes", better: "lower" },
  { key: "wasmPerSocket", label: "wasm memory per connected socket", unit: "bytes", better: "lower", only: ["resocket"] },
  { key: "memPerSocket", label: "JS heap + wasm per connected socket", unit: "bytes", better: "lower" },
  { key: "sizeJs", label: "shipped JS, min+gzip", unit: "bytes", better: "lower", once: true },
  { key: "sizeWasm", label: "shipped wasm, gzip", unit: "bytes", better: "lower", once: true, only: ["resocket"] },
  { key: "sizeTotal", label: "what an app ships, min+gzip (JS + wasm)", unit: "bytes", better: "lower", once: true },
];

export const applies = (metric, client) => !metric.only || metric.only.includes(client);

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * { [metric]: { [client]: median } } from { [metric]: { [client]: [values] } }; null
 * (n/a) where the metric does not apply, or where `unavailable[metric][client]` says
 * why the client could not be measured at all (see `canBeNa`) and no round has a number.
 * A metric no round measured (a run with --only) is left out.
 */
export function summarize(rounds, unavailable = {}) {
  const out = {};
  for (const m of METRICS) {
    // Not measured in this run (--only).
    if (CLIENTS.every((c) => !rounds[m.key]?.[c]?.length)) continue;
    out[m.key] = {};
    for (const c of CLIENTS) {
      const value = applies(m, c) ? median(rounds[m.key]?.[c] ?? []) : null;
      out[m.key][c] = m.canBeNa && value !== null && !Number.isFinite(value) && unavailable[m.key]?.[c] ? null : value;
    }
  }
  return out;
}

const group = (s) => s.replace(/\B(?=(\d{3})+(?!\d))/g, " ");

export function formatValue(value, unit) {
  if (value === null) return "n/a";
  if (!Number.isFinite(value)) return "**failed**";
  if (unit === "ms") return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : group(value.toFixed(0));
  if (unit === "bytes") return group(value.toFixed(0));
  return group(value.toFixed(0));
}

export function ratio(a, b) {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

const formatRatio = (r) => (r === null ? "–" : `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`);

/** The markdown table of medians and ratios; `q` fills in the labels' `{q}`. */
export function markdownTable(summary, { q = "Q" } = {}) {
  const lines = [
    "| measurement | unit | better | resocket | socket.io-client 4.8.4 | raw WebSocket | resocket / socket.io-client | resocket / raw |",
    "|---|---|---|--:|--:|--:|--:|--:|",
  ];
  for (const m of METRICS) {
    const v = summary[m.key];
    if (!v) continue;
    const cells = CLIENTS.map((c) => formatValue(v[c], m.unit));
    lines.push(
      `| ${m.label.replaceAll("{q}", String(q))} | ${m.unit} | ${m.better} | ${cells.join(" | ")} | ${formatRatio(ratio(v.resocket, v["socket.io-client"]))} | ${formatRatio(ratio(v.resocket, v.raw))} |`,
    );
  }
  return lines.join("\n");
}

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A horizontal bar chart (SVG) of resocket's throughput ratios; 1.0 = as fast. */
export function ratioChart(summary, subtitle = "") {
  const rows = METRICS.filter((m) => m.chart && summary[m.key]).map((m) => ({
    label: `${m.label.replace(/`/g, "")}`,
    vsSioc: ratio(summary[m.key].resocket, summary[m.key]["socket.io-client"]),
    vsRaw: ratio(summary[m.key].resocket, summary[m.key].raw),
    // No ratio: "n/a" if a side was not measurable at all, else "failed".
    naSioc: summary[m.key].resocket === null || summary[m.key]["socket.io-client"] === null,
    naRaw: summary[m.key].resocket === null || summary[m.key].raw === null,
  }));
  const max = Math.max(1.2, ...rows.flatMap((r) => [r.vsSioc ?? 0, r.vsRaw ?? 0])) * 1.1;
  const left = 330;
  const width = 900;
  const plot = width - left - 60;
  const barH = 18;
  const rowH = 2 * barH + 22;
  const top = 70;
  const height = top + rows.length * rowH + 50;
  const x = (r) => left + (r / max) * plot;
  const colors = { vsSioc: "#3b6fd4", vsRaw: "#e08a2c" };
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600">resocket throughput ratios (higher is better; 1.0 = as fast)</text>`,
    `<text x="${width / 2}" y="44" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`,
  ];
  // Grid: every 0.5 (or 1 when the scale is wide).
  const step = max > 4 ? 1 : 0.5;
  for (let g = 0; g <= max; g += step) {
    out.push(`<line x1="${x(g)}" y1="${top - 8}" x2="${x(g)}" y2="${height - 40}" stroke="${g === 1 ? "#222" : "#ddd"}" stroke-width="${g === 1 ? 1.5 : 1}"${g === 1 ? ' stroke-dasharray="4 3"' : ""}/>`);
    out.push(`<text x="${x(g)}" y="${height - 24}" text-anchor="middle" fill="#555">${g.toFixed(1)}×</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${left - 10}" y="${y + barH + 4}" text-anchor="end">${esc(r.label)}</text>`);
    for (const [j, key] of ["vsSioc", "vsRaw"].entries()) {
      const value = r[key];
      const by = y + j * barH;
      if (value === null) {
        const na = key === "vsSioc" ? r.naSioc : r.naRaw;
        out.push(`<text x="${left + 4}" y="${by + barH - 4}" fill="#a00">${na ? "n/a" : "failed"}</text>`);
        continue;
      }
      out.push(`<rect x="${left}" y="${by}" width="${Math.max(1, x(value) - left)}" height="${barH - 3}" fill="${colors[key]}"/>`);
      out.push(`<text x="${x(value) + 4}" y="${by + barH - 5}" stroke="#fff" stroke-width="4" paint-order="stroke">${value.toFixed(2)}×</text>`);
    }
  });
  const ly = height - 8;
  out.push(`<rect x="${left}" y="${ly - 10}" width="12" height="10" fill="${colors.vsSioc}"/><text x="${left + 16}" y="${ly}">resocket / socket.io-client 4.8.4</text>`);
  out.push(`<rect x="${left + 260}" y="${ly - 10}" width="12" height="10" fill="${colors.vsRaw}"/><text x="${left + 276}" y="${ly}">resocket / raw WebSocket + JSON.parse</text>`);
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
