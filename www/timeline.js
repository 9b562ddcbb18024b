// SVG drawings of the demo page: the timeline (connection periods, backoff waits and
// attempts, ticks, actions) and the backoff chart of the last outage. Both are redrawn
// from the page's model several times a second; nothing here keeps state.
//
// The drawings are markup strings set with innerHTML, so every piece of them is written
// with the markup`` tag, which escapes each value put into it. Most values are numbers
// computed here (coordinates, fmtMs), but labels carry node names, attempt numbers and
// option values that come from the server or the library: none can become markup.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Tag of a template literal: its text as written, each interpolated value escaped. */
function markup(strings, ...values) {
  let out = strings[0];
  values.forEach((value, i) => {
    out += String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]) + strings[i + 1];
  });
  return out;
}
const r1 = (v) => Math.round(v * 10) / 10;

/** "620 ms", "1.4 s", "12 s". */
export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return "∞";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
}

/** The delay range the backoff formula allows before attempt `n`: [base·(1−rf), base]. */
export function expectedRange(n, cfg) {
  const base = Math.min(cfg.max, cfg.delay * 2 ** Math.min(n - 1, 60));
  return [base * (1 - cfg.rf), base];
}

// Vertical layout of the timeline (px).
const L = {
  left: 96,
  right: 16,
  marks: 2,
  conn: { y: 40, h: 26 },
  wait: { y: 80, h: 34, bar: 12 },
  events: { y: 124, h: 30 },
  axis: 170,
  height: 190,
};

/**
 * Redraws the timeline into `g` (the <g> inside `svg`), `windowMs` up to `now` plus a
 * little of the future (when the next attempt is due); `start`: when the page started.
 * model: { segments, waits, ticks, gaps, marks, expect } (times from performance.now()).
 */
export function renderTimeline(svg, g, model, { now, windowMs, start }) {
  const width = Math.max(320, svg.clientWidth || 800);
  svg.setAttribute("viewBox", `0 0 ${width} ${L.height}`);
  // A young page zooms in on what it has (at least 20 s), up to the chosen window.
  const span = Math.min(windowMs, Math.max(20_000, now - start + 4000));
  const future = span * 0.1;
  const t0 = now - span;
  const t1 = now + future;
  const x0 = L.left;
  const x1 = width - L.right;
  const x = (t) => x0 + ((t - t0) / (t1 - t0)) * (x1 - x0);
  const clampX = (t) => Math.min(x1, Math.max(x0, x(t)));
  const out = [];

  // Lanes, labels, the future area, the grid.
  const lanes = [
    ["connection", L.conn.y, L.conn.h],
    ["backoff", L.wait.y, L.wait.h],
    ["ticks", L.events.y, L.events.h],
  ];
  for (const [label, y, h] of lanes) {
    out.push(markup`<rect class="tl-lane-bg" x="${x0}" y="${y}" width="${x1 - x0}" height="${h}" rx="6"/>`);
    out.push(markup`<text class="tl-lane-label" x="${x0 - 12}" y="${y + h / 2 + 4}" text-anchor="end">${label}</text>`);
  }
  out.push(markup`<text class="tl-lane-label" x="${x0 - 12}" y="${L.marks + 15}" text-anchor="end">actions</text>`);
  const xNow = x(now);
  out.push(markup`<rect class="tl-future" x="${r1(xNow)}" y="${L.conn.y}" width="${r1(x1 - xNow)}" height="${L.events.y + L.events.h - L.conn.y}" rx="6"/>`);
  const step = [1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000].find((s) => span / s <= 8) ?? 120_000;
  for (let k = 0; k * step <= span; k += 1) {
    const t = now - k * step;
    const xx = r1(x(t));
    out.push(markup`<line class="tl-grid" x1="${xx}" x2="${xx}" y1="${L.conn.y - 4}" y2="${L.axis - 10}"/>`);
    const label = step < 60_000 ? `${(k * step) / 1000} s` : `${(k * step) / 60_000} min`;
    if (k > 0) out.push(markup`<text class="tl-axis" x="${xx}" y="${L.axis + 4}" text-anchor="middle">−${label}</text>`);
  }

  // Connection periods.
  for (const seg of model.segments) {
    const end = seg.to ?? now;
    if (end < t0) continue;
    const a = clampX(seg.from);
    const b = clampX(end);
    const w = Math.max(1.5, b - a);
    const { y, h } = L.conn;
    out.push(
      markup`<rect class="seg seg-${seg.kind}" data-kind="${seg.kind}" x="${r1(a)}" y="${y}" width="${r1(w)}" height="${h}" rx="4"><title>${seg.kind} · ${fmtMs(end - seg.from)}</title></rect>`,
    );
    const text = segmentLabel(seg, end - seg.from);
    if (text && w > text.length * 6.4 + 14) {
      out.push(markup`<text class="seg-label seg-label-${seg.kind}" x="${r1(a + 8)}" y="${y + h / 2 + 4}">${text}</text>`);
    }
  }

  // Backoff waits and attempts.
  const barY = L.wait.y + L.wait.h - L.wait.bar - 5;
  if (model.expect) {
    const { from, lo, hi, n } = model.expect;
    const a = x(from + lo);
    const b = Math.max(a + 2, x(from + hi));
    if (b > x0 && a < x1) {
      out.push(markup`<rect class="expect" x="${r1(a)}" y="${barY - 3}" width="${r1(b - a)}" height="${L.wait.bar + 6}" rx="3"><title>attempt ${n} expected between ${fmtMs(lo)} and ${fmtMs(hi)}</title></rect>`);
      out.push(markup`<text class="expect-label" x="${r1(Math.min(x1 - 2, (a + b) / 2))}" y="${barY - 6}" text-anchor="middle">#${n} due</text>`);
    }
  }
  for (const wait of model.waits) {
    const end = wait.to ?? now;
    if (end < t0) continue;
    const a = clampX(wait.from);
    const b = clampX(end);
    const w = b - a;
    const cls = wait.result === "suspended" ? "wait wait-suspended" : wait.to == null ? "wait wait-pending" : "wait";
    if (w >= 0.5) out.push(markup`<rect class="${cls}" x="${r1(a)}" y="${barY}" width="${r1(w)}" height="${L.wait.bar}" rx="3"/>`);
    if (wait.n != null && wait.via !== "online" && w > 34) {
      out.push(markup`<text class="wait-label" x="${r1((a + b) / 2)}" y="${barY - 4}" text-anchor="middle">${fmtMs(end - wait.from)}</text>`);
    }
    if (wait.n != null && wait.to != null && wait.to >= t0) {
      const cx = r1(x(wait.to));
      const cls2 = wait.via === "online" && wait.result === "pending" ? "att-online" : `att-${wait.result === "ok" ? "ok" : wait.result === "failed" ? "failed" : "pending"}`;
      out.push(
        markup`<g class="attempt" data-n="${wait.n}" data-via="${wait.via}" data-result="${wait.result}"><circle class="att ${cls2}" cx="${cx}" cy="${barY + L.wait.bar / 2}" r="8"/><text class="att-num" x="${cx}" y="${barY + L.wait.bar / 2 + 3.4}" text-anchor="middle">${wait.via === "online" ? "⚡" : wait.n}</text><title>attempt ${wait.n}${wait.via === "online" ? " (network back: at once)" : ` after ${fmtMs(wait.to - wait.from)}`}: ${wait.result}</title></g>`,
      );
    }
  }

  // Ticks, replayed ones taller and violet, gaps as red spans.
  for (const gap of model.gaps) {
    if (gap.to < t0) continue;
    const a = clampX(gap.from);
    const b = clampX(gap.to);
    const { y, h } = L.events;
    out.push(markup`<rect class="tk-gap" x="${r1(a)}" y="${y + 4}" width="${r1(Math.max(2, b - a))}" height="${h - 8}" rx="3"><title>${gap.count} ticks missed</title></rect>`);
    if (b - a > 56) out.push(markup`<text class="tk-gap-label" x="${r1((a + b) / 2)}" y="${y + h / 2 + 3.5}" text-anchor="middle">${gap.count} missed</text>`);
  }
  const ticks = [];
  const replayed = [];
  for (const tick of model.ticks) {
    if (tick.t < t0) continue;
    const xx = r1(x(tick.t));
    if (tick.replayed) replayed.push(xx);
    else ticks.push(xx);
  }
  const { y: ey, h: eh } = L.events;
  if (ticks.length) out.push(markup`<path class="tk" d="${ticks.map((xx) => `M${xx} ${ey + 9}V${ey + eh - 9}`).join("")}"/>`);
  // Replayed ticks arrive in one burst: fan them out a little so that they can be counted.
  replayed.forEach((xx, i) => {
    const dx = r1(xx + (i % 12) * 2.2);
    out.push(markup`<line class="tk tk-replayed" x1="${dx}" x2="${dx}" y1="${ey + 3}" y2="${ey + eh - 3}"/>`);
  });

  // Actions: a pin at the top, a dashed line down; labels on two rows when crowded.
  const rowEnd = [-Infinity, -Infinity];
  for (const mark of model.marks) {
    if (mark.t < t0) continue;
    const xx = x(mark.t);
    const cls = mark.kind === "kill" ? " mark-kill" : "";
    out.push(markup`<line class="mark-line${cls}" x1="${r1(xx)}" x2="${r1(xx)}" y1="${L.conn.y - 2}" y2="${L.events.y + L.events.h}"/>`);
    const w = mark.label.length * 6.1 + 12;
    const left = Math.min(x1 - w, xx - 6);
    const row = left > rowEnd[0] + 4 ? 0 : left > rowEnd[1] + 4 ? 1 : -1;
    if (row < 0) continue;
    rowEnd[row] = left + w;
    const y = L.marks + row * 17 - (row ? 0 : 0);
    out.push(
      markup`<g class="mark${cls}"><rect class="mark-pill" x="${r1(left)}" y="${y}" width="${r1(w)}" height="15" rx="7.5"/><text class="mark-text" x="${r1(left + 6)}" y="${y + 11}">${mark.label}</text></g>`,
    );
  }

  // Now.
  out.push(markup`<line class="tl-now" x1="${r1(xNow)}" x2="${r1(xNow)}" y1="${L.conn.y - 4}" y2="${L.axis - 8}"/>`);
  out.push(markup`<text class="tl-now-label" x="${r1(xNow)}" y="${L.axis + 4}" text-anchor="middle">now</text>`);

  g.innerHTML = out.join("");
}

function segmentLabel(seg, ms) {
  switch (seg.kind) {
    case "connected":
      return ["connected", seg.node && `node ${seg.node}`, seg.recovered && "recovered"].filter(Boolean).join(" · ");
    case "outage":
      return `outage ${fmtMs(ms)}`;
    case "offline":
      return `offline ${fmtMs(ms)}`;
    case "disconnected":
      return "disconnected";
    case "connecting":
      return "connecting";
    default:
      return "";
  }
}

/**
 * Redraws the backoff chart: one bar per attempt of `outage` (its waits), on the range
 * the formula allowed at that attempt, and the cap then in force (`cfg`, the current
 * options, when the outage has no wait yet).
 */
export function renderBackoff(svg, outage, cfg, now) {
  const width = Math.max(260, svg.clientWidth || 360);
  const height = 210;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const pad = { left: 46, right: 10, top: 16, bottom: 26 };
  const waits = (outage?.waits ?? []).filter((w) => w.n != null || w.to == null).slice(-10);
  if (!waits.length) {
    svg.innerHTML = markup`<text class="bo-empty" x="${width / 2}" y="${height / 2 - 8}" text-anchor="middle">No outage yet.</text><text class="bo-empty" x="${width / 2}" y="${height / 2 + 12}" text-anchor="middle">Kill the server to watch the delays grow.</text>`;
    return;
  }
  const values = waits.map((w) => ((w.to ?? now) - w.from));
  const his = waits.map((w) => (w.expected ? w.expected[1] : 0));
  // The cap in force during this outage (the options may have changed since).
  const cap = waits.findLast((w) => w.cfg)?.cfg.max ?? cfg.max;
  const top = Math.max(cap, ...values, ...his, 100) * 1.12;
  const plotH = height - pad.top - pad.bottom;
  const y = (v) => pad.top + plotH * (1 - Math.min(v, top) / top);
  const out = [];

  const gridStep = niceStep(top / 4);
  for (let v = 0; v <= top; v += gridStep) {
    const yy = r1(y(v));
    out.push(markup`<line class="bo-grid" x1="${pad.left}" x2="${width - pad.right}" y1="${yy}" y2="${yy}"/>`);
    out.push(markup`<text class="bo-axis" x="${pad.left - 6}" y="${yy + 3.5}" text-anchor="end">${fmtMs(v)}</text>`);
  }

  const slots = Math.max(waits.length, 5);
  const slotW = (width - pad.left - pad.right) / slots;
  const barW = Math.min(26, slotW * 0.46);
  waits.forEach((w, i) => {
    const cx = pad.left + slotW * (i + 0.5);
    // The wait under way: its attempt number is the next one.
    const n = w.n ?? (waits[i - 1]?.n ?? 0) + 1;
    const expected = w.expected ?? (w.to == null && w.cfg ? expectedRange(n, w.cfg) : null);
    if (expected) {
      const [lo, hi] = expected;
      out.push(markup`<rect class="bo-range" x="${r1(cx - slotW * 0.38)}" y="${r1(y(hi))}" width="${r1(slotW * 0.76)}" height="${r1(Math.max(2, y(lo) - y(hi)))}" rx="3"><title>allowed: ${fmtMs(lo)} – ${fmtMs(hi)}</title></rect>`);
    }
    const v = values[i];
    const pending = w.to == null;
    const kind = pending ? "pending" : w.via === "online" ? "online" : w.result === "ok" ? "ok" : "failed";
    const yy = y(v);
    out.push(markup`<rect class="bo-bar bo-bar-${kind}" x="${r1(cx - barW / 2)}" y="${r1(yy)}" width="${r1(barW)}" height="${r1(Math.max(1.5, y(0) - yy))}" rx="3"/>`);
    const label = w.via === "online" ? "⚡ at once" : fmtMs(v);
    out.push(markup`<text class="bo-val" x="${r1(cx)}" y="${r1(yy - 5)}" text-anchor="middle">${label}</text>`);
    out.push(markup`<text class="bo-n" x="${r1(cx)}" y="${height - 8}" text-anchor="middle">#${n}${pending ? " …" : ""}</text>`);
  });

  const yc = r1(y(cap));
  out.push(markup`<line class="bo-cap" x1="${pad.left}" x2="${width - pad.right}" y1="${yc}" y2="${yc}"/>`);
  out.push(markup`<text class="bo-cap-label" x="${width - pad.right}" y="${yc - 5}" text-anchor="end">cap ${fmtMs(cap)}</text>`);
  svg.innerHTML = out.join("");
}

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
