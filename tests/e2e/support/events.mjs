// Node-side helpers to read the event logs recorded in the page by e2e.record()
// (entries: { seq, src: "socket" | "manager" | "window", name, args, t, connected, active }).

/** `src:name(arg, …)`, errors shown by message: a compact line per event. */
export function describeEvent(entry) {
  const args = (entry.args ?? []).map((a) => {
    if (a && typeof a === "object" && a.$type === "Error") return `Error(${JSON.stringify(a.message)})`;
    if (a && typeof a === "object" && a.$type === "undefined") return "undefined";
    return JSON.stringify(a);
  });
  return `${entry.src}:${entry.name}(${args.join(", ")})`;
}

/** The whole log, one event a line, for assertion messages. */
export function formatLog(log) {
  return `\n    ${log.map((e) => `#${e.seq} +${Math.round(e.t)}ms ${describeEvent(e)}`).join("\n    ")}`;
}

/** The entries of `log` with source `src` and one of `names`. */
export function pick(log, src, ...names) {
  return log.filter((e) => e.src === src && names.includes(e.name));
}

/**
 * The connection lifecycle as socket.io-client reports it: the socket's connect /
 * disconnect / connect_error and the Manager's reconnect_* events (socket.io-client 4
 * emits those on the Manager only; resocket also mirrors them on the socket, which
 * the tests do not rely on), in order, as compact strings.
 */
export function lifecycle(log) {
  return log
    .filter(
      (e) =>
        (e.src === "socket" && ["connect", "disconnect", "connect_error"].includes(e.name)) ||
        (e.src === "manager" && e.name.startsWith("reconnect")),
    )
    .map((e) => {
      // The reason (first argument) is what apps look at; details/errors are noise here.
      if (e.name === "disconnect") return `disconnect(${e.args[0]})`;
      if (e.name === "reconnect_attempt" || e.name === "reconnect") return `${e.name}(${e.args[0]})`;
      return e.name;
    });
}
