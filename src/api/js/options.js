// The checks of the app's options (a TypeError naming the option) and their translation
// into the settings the core reads by name. Only the shape of values is checked here:
// what they mean (limits, timings) is the core's, and the URL is url.js's.

import { features } from "./features.js";

const need = (name, ok, what) => {
  if (!ok) throw new TypeError(`resocket: option "${name}" must be ${what}`);
};
const unsupported = (name, why) => {
  throw new TypeError(`resocket: option "${name}" is not supported: ${why}`);
};
const nonNegative = (v) => typeof v == "number" && v >= 0;
const NON_NEGATIVE = "a non-negative number";

// Live reconnection settings: [default, valid?, what a valid value is]. The core reads
// them by name (see `settings` below).
export const SETTINGS = {
  reconnection: [true, (v) => typeof v == "boolean", "a boolean"],
  reconnectionAttempts: [Infinity, (v) => v === -1 || nonNegative(v), "a non-negative number, Infinity or -1"],
  reconnectionDelay: [1000, nonNegative, NON_NEGATIVE],
  reconnectionDelayMax: [5000, nonNegative, NON_NEGATIVE],
  randomizationFactor: [0.5, (v) => nonNegative(v) && v <= 1, "a number between 0 and 1"],
  timeout: [20000, (v) => v === false || nonNegative(v), "a non-negative number or false"],
};
export const setting = (name, v) => {
  const [, ok, what] = SETTINGS[name];
  need(name, ok(v), what);
  return v;
};
// The settings a connection starts with: the app's options, each checked, else the defaults.
export const initialSettings = (opts) => {
  const cfg = {};
  for (const k in SETTINGS) cfg[k] = setting(k, opts[k] ?? SETTINGS[k][0]);
  return cfg;
};
// socket.io-client's getter-setters of the settings (`reconnectionDelay(v?)`, ...) on
// `Class`, whose `_set(name, v)` reads the setting when `v` is undefined, else sets it.
export const withSettings = (Class) => {
  for (const name in SETTINGS) Class.prototype[name] = function (v) {
    return this._set(name, v);
  };
};
// The settings as the core reads them (by name; Infinity becomes null in JSON, which
// the core reads as unlimited): -1 attempts and `timeout: false` mean no limit.
export const settings = (c) => ({ ...c, reconnectionAttempts: c.reconnectionAttempts < 0 ? Infinity : c.reconnectionAttempts, timeout: c.timeout === false ? Infinity : c.timeout });

const transportName = (t) => (typeof t == "string" ? t : t?.name);
// The transport options as the core reads them (by name).
// The core's transport settings.
export const transportOptions = (o) => ({
  transports: (o.transports ?? ["polling", "websocket"]).map(transportName).filter((n) => n != "webtransport"),
  upgrade: o.upgrade !== false,
  rememberUpgrade: !!o.rememberUpgrade,
  tryAllTransports: !!o.tryAllTransports,
  timestampRequests: o.timestampRequests ?? null,
  timestampParam: o.timestampParam ?? "t",
});

// The polling requests' settings, the driver's (polling.js).
export const httpOptions = (o) => {
  const polling = o.transportOptions?.polling ?? {};
  const headers = { ...o.extraHeaders, ...polling.extraHeaders };
  return {
    headers: Object.entries(headers).map(([k, v]) => [k, String(v)]),
    withCredentials: !!(polling.withCredentials ?? o.withCredentials),
    timeout: o.requestTimeout || 0,
  };
};

export const checkManager = (o) => {
  for (const k of ["autoConnect", "forceNew", "multiplex", "addTrailingSlash"]) need(k, o[k] == null || typeof o[k] == "boolean", "a boolean");
  need("path", o.path == null || typeof o.path == "string", "a string");
  need("query", o.query == null || typeof o.query == "object" || typeof o.query == "string", "an object or a string");
  const t = o.transports;
  need("transports", t == null || (Array.isArray(t) && t.every((x) => ["polling", "websocket", "webtransport"].includes(transportName(x)))), 'an array of "polling", "websocket" (or the transport exports)');
  if (t != null && !t.some((x) => transportName(x) != "webtransport"))
    unsupported("transports", 'it must include "polling" or "websocket" (resocket has no WebTransport)');
  if (o.parser != null) unsupported("parser", "resocket speaks the default Socket.IO parser (JSON with binary attachments) only");
  // extraHeaders go with every polling request; a browser WebSocket cannot send them (as
  // with socket.io-client, they are not sent there).
  for (const k of ["extraHeaders", "transportOptions"]) need(k, o[k] == null || typeof o[k] == "object", "an object");
  for (const k of ["upgrade", "rememberUpgrade", "tryAllTransports", "withCredentials", "secure", "useNativeTimers"]) need(k, o[k] == null || typeof o[k] == "boolean", "a boolean");
  need("timestampRequests", o.timestampRequests == null || typeof o.timestampRequests == "boolean", "a boolean");
  need("timestampParam", o.timestampParam == null || typeof o.timestampParam == "string", "a string");
  need("requestTimeout", o.requestTimeout == null || nonNegative(o.requestTimeout), NON_NEGATIVE);
  need("protocols", o.protocols == null || typeof o.protocols == "string" || (Array.isArray(o.protocols) && o.protocols.every((p) => typeof p == "string")), "a string or an array of strings");
  const l = o.limits;
  // Its fields are checked by the core, which names them.
  need("limits", l == null || (typeof l == "object" && !Array.isArray(l)), "an object");
};

export const withoutAuth = (o) => {
  const copy = { ...o };
  delete copy.auth;
  return copy;
};

export const checkSocket = (o) => {
  const a = o.auth;
  need("auth", a == null || typeof a == "function" || (typeof a == "object" && !Array.isArray(a)), "an object or a function");
  for (const k of ["ackTimeout", "retries", "maxQueueAge"]) need(k, o[k] == null || nonNegative(o[k]), NON_NEGATIVE);
  need("maxQueue", o.maxQueue == null || (Number.isInteger(o.maxQueue) && o.maxQueue >= 0), "a non-negative integer");
  need("queueOverflow", o.queueOverflow == null || o.queueOverflow == "drop-oldest" || o.queueOverflow == "drop-newest", '"drop-oldest" or "drop-newest"');
  for (const k of ["exactlyOnce", "persistQueue", "shareAcrossTabs"]) need(k, o[k] == null || typeof o[k] == "boolean", "a boolean");
  // A page taking a shared connection over would send other pages' persisted emits a
  // second time, and give resent emits a new exactly-once identity.
  if (o.shareAcrossTabs && (o.exactlyOnce || o.persistQueue)) unsupported("shareAcrossTabs", "it cannot be combined with exactlyOnce or persistQueue yet");
  for (const [k, m] of [["shareAcrossTabs", "share"], ["persistQueue", "persist"]]) {
    if (o[k] && !features[m]) throw new TypeError(`resocket: option "${k}" needs its module: import "resocket/${m}" once in the app`);
  }
  const v = o.volatileEvents;
  need("volatileEvents", v == null || (Array.isArray(v) && v.every((n) => typeof n == "string")), "an array of event names");
};
