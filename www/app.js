// The resocket demo page. One socket to the demo server (scripts/demo.mjs), a model of
// what happened to it (connection periods, backoff waits, attempts, ticks), and the
// drawings and controls around it. Plain ES module, no framework, no build step.
//
// Initial reconnection options can be given in the query string, e.g.
//   /?reconnectionDelay=300&reconnectionDelayMax=2000&randomizationFactor=0
// and `failover` there makes the socket a failover list of one URL per server node,
// io(["/?node=A", "/?node=B"]) (the demo server sends each to its node alone), and
// `persistQueue` makes it with { persistQueue: true } (in the URL, the choice survives
// the reloads it is about), and `shareAcrossTabs` with { shareAcrossTabs: true }: the
// demo opened in several tabs then holds one connection for all of them.
//
// Text from elsewhere (event payloads, node names, error messages, option values) only
// ever enters the page as text: elements are built with el() below, never from HTML
// strings, so no value can turn into markup.
import { expectedRange, fmtMs, renderBackoff, renderTimeline } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const now = () => performance.now();
const params = new URLSearchParams(location.search);
const failoverWanted = params.has("failover");
const persistWanted = params.has("persistQueue");
const shareWanted = params.has("shareAcrossTabs");

// ---- the model ------------------------------------------------------------------------

const model = {
  segments: [], // { kind: connecting|connected|outage|offline|disconnected, from, to, recovered, node }
  waits: [], // { from, to, n, via: backoff|online, result: pending|failed|ok|suspended|cancelled, cfg, expected }
  ticks: [], // { t, n, replayed }
  gaps: [], // { from, to, count }
  marks: [], // { t, label, kind }
  expect: null, // { from, lo, hi, n }: when the next attempt is due
};
const counts = { replayed: 0, missed: 0, dup: 0 };
let lastTick = null; // { n, t }
let netOffline = false; // as told by the window's offline/online events
let onlineAt = -Infinity;
let everConnected = false;
let connects = 0;
let replaying = false; // inside the synchronous dispatch that follows a recovered connect
let lastBurst = 0;
let node = null; // the server node of the current connection (from "welcome")
let outage = null; // { start, end, waits }
let lastOutage = null;
let openWait = null; // the backoff wait in progress
let inFlight = null; // the attempt in progress
let lastReason = null;
let shownState = null;
let windowMs = 60_000;
const pageStart = now();
const outages = []; // the last few, for the backoff chart
let server = null; // the last /control/status answer
let socket = null;

// ---- small helpers ------------------------------------------------------------------------

/**
 * A new `tag` element with `props.class` and `props.data` (into its dataset) and
 * `children`: elements, or strings appended as text nodes (never parsed as HTML).
 * null, undefined and false children are left out.
 */
function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  Object.assign(element.dataset, props.data);
  element.append(...children.filter((c) => c != null && c !== false).map((c) => (c instanceof Node ? c : String(c))));
  return element;
}

function clock() {
  return new Date().toLocaleTimeString([], { hour12: false });
}

function log(name, detail = "", kind = "info") {
  const list = $("log");
  const detailed = el("div", {}, el("span", { class: "ev" }, name), " ", el("span", { class: "detail" }, detail));
  list.prepend(el("li", { data: { kind } }, el("time", {}, clock()), detailed));
  while (list.children.length > 80) list.lastElementChild.remove();
}

function mark(label, kind = "action") {
  model.marks.push({ t: now(), label, kind });
}

function chip(text, cls, data = {}) {
  const box = $("ticks");
  const el = document.createElement("span");
  el.className = `chip ${cls}`;
  el.textContent = text;
  Object.assign(el.dataset, data);
  box.prepend(el);
  while (box.children.length > 320) box.lastElementChild.remove();
  return el;
}

/** Several server nodes: each gets its own row, buttons and name. */
function multi() {
  return (server?.nodes?.length ?? 0) > 1;
}

/** The node a failover list's URL names (`?node=B`), or the URL itself. */
function uriLabel(uri) {
  try {
    return new URL(uri).searchParams.get("node") ?? uri;
  } catch {
    return String(uri);
  }
}

function fatal(message) {
  $("fatal").hidden = false;
  $("fatal").textContent = message;
  $("state").dataset.state = "disconnected";
  $("state-text").textContent = "error";
  $("state-sub").textContent = message;
}

function cfg() {
  const m = socket.io;
  return { delay: m.reconnectionDelay(), max: m.reconnectionDelayMax(), rf: m.randomizationFactor() };
}

function maxAttempt(o) {
  return o ? o.waits.reduce((m, w) => Math.max(m, w.n ?? 0), 0) : 0;
}

// ---- state ------------------------------------------------------------------------------

function deriveState() {
  if (socket.connected) return "connected";
  if (!socket.active) return "disconnected";
  if (netOffline) return "offline";
  return everConnected ? "reconnecting" : "connecting";
}

const SEGMENT = { connected: "connected", connecting: "connecting", reconnecting: "outage", offline: "offline", disconnected: "disconnected" };

/** Re-reads the socket's state; starts a new timeline segment when it changed. */
function update() {
  const state = deriveState();
  if (state !== shownState) {
    const t = now();
    const last = model.segments.at(-1);
    if (last) last.to = t;
    model.segments.push({ kind: SEGMENT[state], from: t, to: null, recovered: state === "connected" && socket.recovered, node });
    shownState = state;
    const badge = $("state");
    badge.dataset.state = state;
    $("state-text").textContent = state;
    document.title = `${state} · resocket demo`;
  }
  paintCards();
}

function newOutage(t) {
  return { start: t, end: null, waits: [], clock: clock() };
}

function openNewWait(t) {
  if (openWait) return;
  openWait = { from: t, to: null, n: null, via: "backoff", result: "pending", cfg: cfg(), expected: null };
  model.waits.push(openWait);
  (outage ??= newOutage(t)).waits.push(openWait);
}

function closeOpenWait(t, result) {
  if (!openWait) return;
  openWait.to = t;
  openWait.result = result;
  openWait = null;
}

// ---- cards ------------------------------------------------------------------------------

function paintCards() {
  const t = now();
  const state = shownState;
  const seg = model.segments.at(-1);
  const since = seg ? fmtMs(t - seg.from) : "";
  let sub = [];
  if (state === "connected") {
    const shared = shareWanted ? (socket.leading ? " · this tab holds the shared connection" : " · through another tab's connection") : "";
    sub = ["id ", el("code", {}, socket.id), multi() && node ? ` · node ${node}` : "", shared, ` · for ${since}`];
  } else if (state === "reconnecting" || state === "connecting") {
    if (inFlight) sub = [`attempt ${inFlight.n} in flight…`];
    else if (model.expect) {
      const due = model.expect.from + model.expect.hi - t;
      sub = [due > 0 ? `attempt ${model.expect.n} within ${fmtMs(due)}` : `attempt ${model.expect.n} due`];
    } else sub = ["opening the WebSocket…"];
  } else if (state === "offline") {
    sub = [`suspended for ${since}: no retries until the browser is online`];
  } else if (state === "disconnected") {
    sub = lastReason === "io client disconnect" ? [el("code", {}, "socket.disconnect()"), ": no automatic reconnection"] : [`stopped${lastReason ? `: ${lastReason}` : ""}. Press Connect.`];
  }
  $("state-sub").replaceChildren(...sub);

  const shown = outage ?? lastOutage;
  const attempts = maxAttempt(shown);
  const attemptEl = $("attempt");
  attemptEl.textContent = String(attempts);
  attemptEl.dataset.attempt = String(attempts);
  attemptEl.dataset.live = String(!!outage);
  if (outage) {
    $("attempt-sub").textContent = netOffline ? `offline: suspended (outage ${fmtMs(t - outage.start)})` : `outage for ${fmtMs(t - outage.start)}`;
  } else if (lastOutage) {
    const n = maxAttempt(lastOutage);
    $("attempt-sub").textContent = `last outage: ${fmtMs(lastOutage.end - lastOutage.start)}, ${n} attempt${n === 1 ? "" : "s"}`;
  } else {
    $("attempt-sub").textContent = "no outage yet";
  }

  const rec = $("recovered");
  const value = everConnected ? String(socket.recovered) : "";
  rec.textContent = value || "–";
  rec.dataset.value = value;
  let recSub = "not connected yet";
  if (everConnected) {
    if (state !== "connected") recSub = "of the last connection";
    else if (socket.recovered) recSub = `${lastBurst} missed event${lastBurst === 1 ? "" : "s"} replayed on reconnect`;
    else recSub = connects > 1 ? "new session: events sent meanwhile are lost" : "first connection";
  }
  $("recovered-sub").textContent = recSub;

  $("last-tick").textContent = lastTick ? String(lastTick.n) : "–";
  $("count-replayed").textContent = String(counts.replayed);
  $("count-missed").textContent = String(counts.missed);
  $("count-dup").textContent = String(counts.dup);

  $("offline").disabled = netOffline;
  $("online").disabled = !netOffline;
  $("toggle").textContent = socket.active ? "Disconnect" : "Connect";
  $("uri").textContent = socket.io.uri;
}

// ---- the socket's events --------------------------------------------------------------------

function onTick(n) {
  const t = now();
  const replayed = replaying;
  if (replayed) {
    lastBurst += 1;
    counts.replayed += 1;
  }
  if (lastTick && n > lastTick.n + 1) {
    const count = n - lastTick.n - 1;
    counts.missed += count;
    model.gaps.push({ from: lastTick.t, to: t, count });
    chip(`${count} missed`, "chip-gap", { missed: String(count) });
  }
  if (lastTick && n <= lastTick.n) {
    counts.dup += 1;
    chip(String(n), "chip-dup", { dup: "true" });
  } else {
    chip(String(n), "tick", { n: String(n), replayed: String(replayed) });
    lastTick = { n, t };
  }
  model.ticks.push({ t, n, replayed });
}

function listen() {
  socket.on("connect", () => {
    const t = now();
    const recovered = socket.recovered;
    connects += 1;
    everConnected = true;
    // Events delivered in the same synchronous dispatch as a recovered "connect" are
    // the server's replay of what this client missed.
    replaying = recovered;
    lastBurst = 0;
    if (inFlight) inFlight.result = "ok";
    inFlight = null;
    closeOpenWait(t, "cancelled");
    if (outage) {
      outage.end = t;
      lastOutage = outage;
      outages.push(outage);
      if (outages.length > 20) outages.shift();
      outage = null;
    }
    const sep = chip(connects === 1 ? "connected" : recovered ? "reconnected · recovered" : "reconnected · new session", "chip-sep", {
      recovered: String(recovered),
    });
    queueMicrotask(() => {
      replaying = false;
      if (recovered) sep.textContent = `reconnected · recovered ${lastBurst}`;
      log("connect", recovered ? `session recovered, ${lastBurst} replayed` : `id ${socket.id}`, "good");
      paintCards();
    });
    update();
  });

  socket.on("disconnect", (reason) => {
    const t = now();
    lastReason = reason;
    node = null;
    inFlight = null;
    if (socket.active) outage ??= newOutage(t); // not after socket.disconnect()
    if (socket.active && !netOffline) openNewWait(t);
    chip(`✕ ${reason}`, "chip-sep", { kind: "down" });
    log("disconnect", reason, "bad");
    update();
  });

  socket.on("reconnect_attempt", (n) => {
    const t = now();
    const via = t - onlineAt < 250 ? "online" : "backoff";
    outage ??= newOutage(t);
    if (via === "online" || !openWait) {
      closeOpenWait(t, "suspended");
      openNewWait(t);
    }
    const w = openWait;
    openWait = null;
    Object.assign(w, { to: t, n, via, result: "pending", expected: via === "online" ? null : expectedRange(n, w.cfg) });
    inFlight = w;
    log("reconnect_attempt", via === "online" ? `${n} · network back: at once` : `${n} after ${fmtMs(t - w.from)}`, "warn");
    update();
  });

  socket.on("reconnect_error", (err) => {
    const t = now();
    if (inFlight) inFlight.result = "failed";
    log("reconnect_error", `${inFlight ? `attempt ${inFlight.n}: ` : ""}${err?.message ?? err}`, "bad");
    inFlight = null;
    if (socket.active && !netOffline) openNewWait(t);
    update();
  });

  socket.on("connect_error", (err) => {
    // A failed reconnection attempt is also reported by reconnect_error (above); this
    // handles the rest: a first connection (or a connect()) that failed, then backs off,
    // or a middleware's refusal, after which the socket stays down.
    if (inFlight) return;
    log("connect_error", err?.message ?? String(err), "bad");
    if (socket.active && !netOffline) openNewWait(now());
    else lastReason = `connect_error: ${err?.message ?? err}`;
    update();
  });

  socket.on("reconnect", (n) => log("reconnect", `after ${n} attempt${n === 1 ? "" : "s"}`, "good"));

  socket.on("reconnect_failed", () => {
    closeOpenWait(now(), "cancelled");
    const n = maxAttempt(outage);
    lastReason = `gave up after ${n} attempt${n === 1 ? "" : "s"} (reconnectionAttempts)`;
    log("reconnect_failed", "reconnectionAttempts exhausted", "bad");
    update();
  });

  socket.on("emit_dropped", (reason, packet) => log("emit_dropped", `${reason}: ${JSON.stringify(packet).slice(0, 60)}`, "warn"));

  // persistQueue: the emits of the page this one replaced, before they are sent. Their
  // acks died with that page, so this event is the only word of them the app gets.
  socket.on("queue_restored", (emits) => {
    const n = emits.length;
    const shown = emits.map(describeEmit);
    mark(`queue_restored ${n}`);
    log("queue_restored", `${n} emit${n === 1 ? "" : "s"} from before the reload, sent first: ${shown.join(" · ")}`, "restored");
    const box = $("restored");
    box.hidden = false;
    box.dataset.count = String(n);
    $("restored-count").textContent = `${n} emit${n === 1 ? "" : "s"}`;
    $("restored-list").replaceChildren(...shown.map((text) => el("li", {}, el("code", {}, text))));
    // They join the queue right after this event.
    queueMicrotask(paintQueue);
  });

  socket.on("welcome", (info) => {
    node = info?.node ?? null;
    const seg = model.segments.at(-1);
    if (seg?.kind === "connected" && multi()) seg.node = node;
    if (multi()) log("welcome", `from node ${node}`, "info");
    paintNodes();
  });

  socket.on("message", (msg) => log("message", `${msg?.text ?? ""}${msg?.node ? ` (via node ${msg.node})` : ""}`, "info"));
  socket.on("tick", onTick);

  // Open on another URL of the failover list than the last time.
  socket.io.on("failover", (uri, previous) => {
    mark(`failover → ${uriLabel(uri)}`);
    log("failover", `${previous} → ${uri}`, "warn");
    paintCards();
  });
}

// ---- network events (listened to before the socket exists: ours run first) --------------

addEventListener("offline", () => {
  netOffline = true;
  closeOpenWait(now(), "suspended");
  mark("offline");
  log("offline", "window event: resocket stops retrying", "warn");
  if (socket) update();
});
addEventListener("online", () => {
  netOffline = false;
  onlineAt = now();
  mark("online");
  log("online", "window event: resocket retries now", "good");
  if (socket) update();
});

// ---- the demo server: status and control ------------------------------------------------------

async function refreshServer(answer) {
  try {
    server = answer ?? (await (await fetch("/control/status", { cache: "no-store" })).json());
  } catch {
    server = null;
  }
  const pill = $("mode");
  if (!server) {
    pill.dataset.mode = "unreachable";
    $("mode-text").textContent = "demo server unreachable";
  } else if (server.mode === "cluster") {
    pill.dataset.mode = "cluster";
    $("kill").lastChild.textContent = "Kill all";
    $("restart").lastChild.textContent = "Restart all";
    $("mode-text").textContent = `cluster · ${server.nodes.length} nodes · Redis streams adapter`;
  } else if (server.mode === "failover") {
    pill.dataset.mode = "failover";
    $("kill").lastChild.textContent = "Kill all";
    $("restart").lastChild.textContent = "Restart all";
    $("mode-text").textContent = `${server.nodes.length} independent nodes · in-memory recovery each`;
  } else {
    pill.dataset.mode = "single";
    $("mode-text").textContent = "single node · in-memory recovery";
  }
  paintNodes();
}

function paintNodes() {
  const list = $("nodes");
  const nodes = server?.nodes ?? [];
  const several = multi();
  list.replaceChildren(
    ...nodes.map((n) => {
      const you = socket?.connected && node === n.name;
      const meta = n.alive ? `pid ${n.pid} · ${n.connections} connection${n.connections == 1 ? "" : "s"}${n.ticking ? " · ticking" : ""}` : "down";
      const li = el(
        "li",
        { data: { alive: String(n.alive), node: String(n.name) } },
        el("span", { class: "node-dot" }),
        el("span", { class: "node-name" }, several ? `node ${n.name}` : "socket.io server"),
        el("span", { class: "node-meta" }, meta),
        you && el("span", { class: "node-you" }, "you"),
      );
      if (several) {
        const kill = document.createElement("button");
        kill.type = "button";
        kill.className = "btn btn-danger";
        kill.textContent = "Kill";
        kill.disabled = !n.alive;
        kill.onclick = () => serverAction("kill", n.name, kill);
        const restart = document.createElement("button");
        restart.type = "button";
        restart.className = "btn";
        restart.textContent = n.alive ? "Restart" : "Start";
        restart.onclick = () => serverAction("restart", n.name, restart);
        li.append(kill, restart);
      }
      return li;
    }),
  );
  $("kill").disabled = !nodes.some((n) => n.alive);
}

async function serverAction(action, which, button) {
  const signal = $("signal").value;
  const query = new URLSearchParams({ node: which });
  if (action === "kill") query.set("signal", signal);
  const what = which === "all" ? "server" : `node ${which}`;
  const label = action === "kill" ? `${signal === "SIGKILL" ? "kill" : "stop"} ${what}` : `restart ${what}`;
  mark(label, action === "kill" ? "kill" : "action");
  log(label, action === "kill" ? signal : "", "action");
  button?.classList.add("busy");
  try {
    const res = await fetch(`/control/${action}?${query}`, { method: "POST", headers: { "x-resocket-demo": "1" } });
    const body = await res.json();
    if (!res.ok) log(label, `failed: ${body.error}`, "bad");
    await refreshServer(body.nodes ? body : undefined);
  } catch (err) {
    log(label, `failed: ${err.message}`, "bad");
  } finally {
    button?.classList.remove("busy");
  }
}

// ---- controls ---------------------------------------------------------------------------------

// Emit numbers go on across reloads of the tab: the emits a reload restores and the
// new page's own never share a name.
const EMITTED = "resocket-demo:emitted";
let emitted = Number(sessionStorage.getItem(EMITTED)) || 0;

function wireControls() {
  $("drop").onclick = () => {
    mark("drop transport");
    log("engine.close()", "drop the transport", "action");
    socket.io.engine.close();
  };
  $("kill").onclick = (e) => serverAction("kill", "all", e.currentTarget);
  $("restart").onclick = (e) => serverAction("restart", "all", e.currentTarget);
  $("failover").checked = failoverWanted;
  // The list is given to io() when the page starts: switching is a reload.
  $("failover").onchange = (e) => reloadWith("failover", e.currentTarget.checked);
  // The option is given to io() when the page starts: switching is a reload too.
  $("persist").checked = persistWanted;
  // The socket writes every emit it keeps, and without `retries` (none here) it keeps
  // no other emits than the queued ones: the count shown is the count stored.
  $("queue-stored").hidden = !persistWanted;
  $("persist").onchange = (e) => reloadWith("persistQueue", e.currentTarget.checked);
  $("share").checked = shareWanted;
  $("share").onchange = (e) => reloadWith("shareAcrossTabs", e.currentTarget.checked);
  $("offline").onclick = () => dispatchEvent(new Event("offline"));
  $("online").onclick = () => dispatchEvent(new Event("online"));
  $("toggle").onclick = () => {
    if (socket.active) {
      mark("disconnect()");
      socket.disconnect();
    } else {
      mark("connect()");
      lastReason = null;
      socket.connect();
    }
    update();
  };
  $("emit").onclick = () => {
    const k = (emitted += 1);
    sessionStorage.setItem(EMITTED, String(k));
    const queued = !socket.connected;
    socket.emit("message", `hello #${k}`, () => log("ack", `hello #${k} delivered`, "good"));
    log("emit", `hello #${k}${queued ? " (queued: not connected)" : ""}`, "action");
    paintQueue();
  };
  $("clear").onclick = () => {
    socket.clearQueue();
    paintQueue();
  };
  for (const button of $("window").querySelectorAll("button")) {
    button.onclick = () => {
      windowMs = Number(button.dataset.ms);
      for (const b of $("window").querySelectorAll("button")) b.setAttribute("aria-checked", String(b === button));
      render();
    };
  }
  wireOptions();
}

function paintQueue() {
  $("queue").textContent = String(socket.sendBuffer.length);
}

/** `event "arg", ...` of an `[event, ...args]` array, short, for the log. */
function describeEmit([event, ...args]) {
  // Any page of the origin may have stored what comes back (a BigInt, from the console).
  const show = (a) => {
    try {
      return JSON.stringify(a) ?? String(a);
    } catch {
      return String(a);
    }
  };
  return `${event} ${args.map(show).join(", ")}`.slice(0, 80);
}

const OPTIONS = ["reconnectionDelay", "reconnectionDelayMax", "randomizationFactor", "reconnectionAttempts"];

function fmtOption(name, v) {
  if (name === "reconnectionDelay" || name === "reconnectionDelayMax") return `${v} ms`;
  if (name === "randomizationFactor") return String(Math.round(v * 100) / 100);
  return String(v);
}

function paintOption(name, flash) {
  const value = socket.io[name]();
  const out = $(`opt-${name}`);
  out.textContent = fmtOption(name, value);
  out.dataset.value = String(value);
  if (flash) {
    out.classList.add("flash");
    requestAnimationFrame(() => requestAnimationFrame(() => out.classList.remove("flash")));
  }
}

function wireOptions() {
  for (const name of OPTIONS) {
    const input = $(`in-${name}`);
    input.value = String(socket.io[name]());
    paintOption(name, false);
    const apply = (final) => {
      const value = Number(input.value);
      try {
        socket.io[name](value);
        $("lastcall").replaceChildren("Applied ", el("code", {}, `socket.io.${name}(${value})`), "; read back: ", el("b", {}, fmtOption(name, socket.io[name]())), ".");
      } catch (err) {
        $("lastcall").textContent = err.message;
      }
      paintOption(name, true);
      if (final) {
        const short = { reconnectionDelay: "delay", reconnectionDelayMax: "max", randomizationFactor: "rf", reconnectionAttempts: "attempts" }[name];
        mark(`${short}=${value}`);
        log(`io.${name}(${value})`, "", "action");
      }
    };
    input.addEventListener("input", () => apply(false));
    input.addEventListener("change", () => apply(true));
  }
  $("options").addEventListener("submit", (e) => e.preventDefault());
}

// ---- drawing ------------------------------------------------------------------------------------

function render() {
  const t = now();
  // When the next attempt is due, while a backoff wait runs.
  model.expect = null;
  if (openWait && !netOffline && socket.active) {
    const n = maxAttempt(outage) + 1;
    const [lo, hi] = expectedRange(n, openWait.cfg);
    model.expect = { from: openWait.from, lo, hi, n };
  }
  renderTimeline($("timeline-svg"), $("timeline-content"), model, { now: t, windowMs, start: pageStart });
  // The backoff chart: this outage once it waits, else the last one that backed off.
  const backedOff = (o) => o.waits.some((w) => w.n != null && w.via === "backoff");
  const chart = (outage?.waits.length ? outage : null) ?? outages.findLast(backedOff) ?? lastOutage;
  $("backoff-tag").textContent = !chart ? "no outage yet" : chart === outage ? "this outage" : `outage at ${chart.clock}`;
  renderBackoff($("backoff-svg"), chart, cfg(), t);
  paintCards();
}

function prune() {
  const horizon = now() - 330_000;
  for (const key of ["ticks", "marks", "gaps"]) {
    const list = model[key];
    const keep = list.findIndex((e) => (e.to ?? e.t) >= horizon);
    if (keep > 0) list.splice(0, keep);
    else if (keep < 0) list.length = 0;
  }
  for (const key of ["segments", "waits"]) {
    const list = model[key];
    while (list.length > 1 && list[0].to != null && list[0].to < horizon) list.shift();
  }
}

// ---- start ----------------------------------------------------------------------------------

// Options given to io() when the page starts: switching one is a reload with the flag
// in the query string, or without it.
function reloadWith(flag, on) {
  const next = new URLSearchParams(location.search);
  if (on) next.set(flag, "");
  else next.delete(flag);
  location.search = next.toString();
}

function initialOptions() {
  const out = {};
  for (const name of OPTIONS) {
    const raw = params.get(name);
    if (raw !== null && raw !== "" && !Number.isNaN(Number(raw))) out[name] = Number(raw);
  }
  if (persistWanted) out.persistQueue = true;
  if (shareWanted) out.shareAcrossTabs = true;
  return out;
}

async function main() {
  let io;
  try {
    ({ io } = await import("/pkg/index.js"));
    // The opt-in features this page may use, each enabled by importing its module.
    if (persistWanted) await import("/pkg/persist.js");
    if (shareWanted) await import("/pkg/share.js");
  } catch (err) {
    fatal(`Could not load /pkg/index.js (${err?.message ?? err}). Build the package first: npm run build.`);
    return;
  }
  // A failover list: one URL per node of the demo server, in its order.
  let urls = null;
  if (failoverWanted) {
    await refreshServer();
    const names = server?.nodes?.map((n) => n.name) ?? ["A"];
    urls = names.map((name) => `${location.origin}/?${new URLSearchParams({ node: name })}`);
  }
  try {
    socket = urls ? io(urls, initialOptions()) : io(initialOptions());
  } catch (err) {
    fatal(`io() refused the options: ${err.message}`);
    return;
  }
  window.demo = { socket, model };
  listen();
  wireControls();
  update();
  if (urls) {
    log("failover list", urls.join(", "), "info");
    if (urls.length < 2) log("failover list", "one node only: start the demo with --failover (or --cluster) for two", "warn");
  }
  refreshServer();
  setInterval(refreshServer, 2000);
  setInterval(render, 100);
  setInterval(paintQueue, 500);
  setInterval(prune, 10_000);
  addEventListener("resize", render);
  render();
  document.body.dataset.ready = "true";
}

main();
