// Node-side analysis of a numbered stream as the page recorded it with e2e.trace():
// entries { k: "connect", recovered, id, t } | { k: "disconnect", reason, t } |
// { k: "event", args, t } (the streamed event's arguments, in delivery order).
//
// The stream is 1, 2, 3, … in the server's order. Between two consecutive numbers the
// client received (prev, cur):
//   - if no connect happened between them, or only connects with recovered === true,
//     they are in the same recovered session: cur must be prev + 1. A larger cur is a
//     LOSS inside a recovered session (cur - prev - 1 numbers), a cur <= prev is a
//     DUPLICATE (or reordering) inside a recovered session;
//   - if a connect with recovered === false happened between them, the session was
//     lost and the app knows it (recovered false): cur - prev - 1 is the GAP the app
//     was told about (not an error), a cur <= prev is counted as a duplicate across a
//     new session.
// Every event must carry exactly one argument, a number (no recovery offset leaking).

/**
 * Returns { received, distinct, first, last, connects, recoveredConnects, freshConnects,
 * lostInRecovered, dupInRecovered, lossesInRecovered: [...], dupsInRecovered: [...],
 * gapAtFresh, gapsAtFresh: [...], dupAcrossFresh, badArgs: [...], tailLost }.
 * `lastSent` (optional): the last number the server emitted, to count a lost tail.
 */
export function analyzeStream(trace, { lastSent } = {}) {
  const out = {
    received: 0,
    distinct: 0,
    first: null,
    last: null,
    connects: 0,
    recoveredConnects: 0,
    freshConnects: 0,
    disconnects: 0,
    lostInRecovered: 0,
    dupInRecovered: 0,
    lossesInRecovered: [],
    dupsInRecovered: [],
    gapAtFresh: 0,
    gapsAtFresh: [],
    dupAcrossFresh: 0,
    badArgs: [],
    tailLost: 0,
  };
  const seen = new Set();
  let prev = null;
  let between = []; // connects since the previous number
  let index = 0;
  for (const entry of trace) {
    index += 1;
    if (entry.k === "connect") {
      out.connects += 1;
      if (entry.recovered) out.recoveredConnects += 1;
      else out.freshConnects += 1;
      between.push(entry.recovered ? "recovered" : "fresh");
      continue;
    }
    if (entry.k === "disconnect") {
      out.disconnects += 1;
      continue;
    }
    if (entry.k !== "event") continue;
    const args = entry.args;
    if (!Array.isArray(args) || args.length !== 1 || typeof args[0] !== "number") {
      if (out.badArgs.length < 10) out.badArgs.push({ index, args });
      else out.badArgs.push(null);
      continue;
    }
    const v = args[0];
    out.received += 1;
    if (!seen.has(v)) {
      seen.add(v);
      out.distinct += 1;
    }
    out.first ??= v;
    if (prev !== null) {
      const fresh = between.includes("fresh");
      const where = { prev, cur: v, index, reconnects: between.join(",") || "none" };
      if (v <= prev) {
        if (fresh) out.dupAcrossFresh += 1;
        else {
          out.dupInRecovered += 1;
          if (out.dupsInRecovered.length < 20) out.dupsInRecovered.push(where);
        }
      } else if (v > prev + 1) {
        const gap = v - prev - 1;
        if (fresh) {
          out.gapAtFresh += gap;
          out.gapsAtFresh.push({ ...where, gap });
        } else {
          out.lostInRecovered += gap;
          if (out.lossesInRecovered.length < 20) out.lossesInRecovered.push({ ...where, gap });
        }
      }
    }
    prev = prev === null ? v : Math.max(prev, v);
    between = [];
  }
  out.last = prev;
  if (lastSent !== undefined && prev !== null && lastSent > prev) out.tailLost = lastSent - prev;
  return out;
}

/** One line per figure, for console.log. */
export function formatStreamReport(label, r) {
  return [
    `${label}: ${r.received} events received (${r.distinct} distinct, ${r.first ?? "-"}..${r.last ?? "-"})`,
    `  connects ${r.connects} (recovered ${r.recoveredConnects}, not recovered ${r.freshConnects}), disconnects ${r.disconnects}`,
    `  inside recovered sessions: lost ${r.lostInRecovered}, duplicated ${r.dupInRecovered}`,
    `  at not-recovered connects: gap ${r.gapAtFresh} events (${r.gapsAtFresh.length} gaps), duplicates ${r.dupAcrossFresh}`,
    `  events with wrong arguments: ${r.badArgs.length}, tail lost: ${r.tailLost}`,
  ].join("\n");
}
