// A socket's CONNECT payload: its `auth`, read anew for each attempt and handed to the
// core, or the attempt failed. The error for "connect_error" is left on the socket
// (`_authError`), whose events are socket.js's; when to ask is the core's.

import { OP } from "./contract.js";

// The core needs the CONNECT payload (before every connect and reconnect). `auth` is
// an object, or a function that calls back with one or returns (a Promise of) one.
// If the function throws, rejects or gives something else than an object, NO CONNECT
// is sent (never one without the credentials the app meant to send): the attempt fails
// at once, "connect_error" carries that error, and the normal reconnection asks again.
// socket.io-client has no answer for this case (its connection hangs until the server
// drops it).
export const sendAuth = (s, token) => {
  const auth = s.auth;
  let done;
  // The attempt fails at once: "connect_error" carries the app's own error (with
  // `.type` "AuthError"), and the usual reconnection asks again.
  const no = (err) => {
    if (!done) {
      done = 1;
      s._authError = err instanceof Error ? err : new Error(String(err));
      s.io._c.cmd(OP.auth_failed, s._k, token);
    }
  };
  const ok = (v) => {
    if (done) return;
    try {
      if (v != null && (typeof v != "object" || Array.isArray(v))) throw new TypeError('resocket: "auth" must give an object');
      done = 1;
      s.io._c.cmd(OP.auth, s._k, token, 0, v == null ? undefined : JSON.stringify(v));
    } catch (err) {
      no(err);
    }
  };
  if (typeof auth != "function") return ok(auth);
  try {
    const r = auth.call(s, ok);
    if (typeof r?.then == "function") r.then(ok, (err) => no(err ?? new Error("auth failed")));
    else if (r && typeof r == "object") ok(r);
  } catch (err) {
    no(err);
  }
};
