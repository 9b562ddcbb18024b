// The browser side of one wasm Connection (src/api/connection.rs): everything the core
// cannot do itself. Owns the transports the core asked for (by their id), the one timer
// armed for the core's next deadline, the clock, the page subscription and the queue of
// events not yet delivered; free() releases them all. It makes no decision of its own:
// every input goes to the core, and what the core asks for comes back as the records of
// the command (wasm.js), read once it has run.
//
// Delivery rule: events are queued as their records are read, and delivered once the
// command has returned, so that a listener may call back into it (emit, disconnect,
// ...). What the browser reports is delivered at once; a command's events wait for
// deliver(), which the caller makes once it has the command's result (an emit's ack id:
// an ack refused inside the emit then finds its callback). Each delivery takes the
// queue as it is, so the events of a command made by a listener are delivered by that
// command, before the next listener of the outer event runs, as socket.io-client's
// emitter does: `disconnect()` called in a `connect` listener has fired `disconnect`
// when it returns. A transport the core asks for is opened once the events before it
// are delivered (a `reconnect_attempt` listener may still change the URL), by the
// outermost delivery only.
//
// Traps: every call into the wasm instance goes through run(); one that traps gives up
// the instance (see instance.js), and the calls after it answer as a closed connection
// would.

import { BAD_PLACEHOLDER, decode } from "./codec.js";
import { DELIVER, KINDS, OP } from "./contract.js";
import { report } from "./emitter.js";
import { isTrap, trapped } from "./instance.js";
import { subscribe } from "./page.js";
import { PollingTransport } from "./polling.js";
import { Connection } from "./wasm.js";
import { WebSocketTransport } from "./websocket.js";

const [EVENT, ACK, ACK_ERROR, OPEN, CLOSE, TRANSMIT, REQUEST, TIMER, DIRECT] = ["event", "ack", "ack_error", "open_transport", "close_transport", "transmit", "request", "timer", "direct"].map((k) =>
  KINDS.indexOf(k),
);
// A frame's timeStamp later than this is not performance.now()'s (an old browser's epoch
// time): the clock is read instead.
const MAX_STAMP = 1e11;
// A wall clock ahead of the monotonic one by less than this is noise, not a sleep.
const GAP_MS = 1000;

export class Driver {
  // `port`: the Manager's (see live.js), `sink(kind, key, a, b, c, d)` its events, `i` the
  // wasm instance, `url` the Engine.IO endpoint, `http` the polling requests' settings,
  // `protocols` the WebSocket's, `timers` [setTimeout, clearTimeout] to use instead of
  // the page's current ones (socket.io-client's useNativeTimers).
  constructor(port, sink, i, url, http, protocols, timers) {
    Object.assign(this, { port, sink, i, url, http, protocols, timers });
    this.c = new Connection(i, (kind, key, a, b, c, d) => this._out(kind, key, a, b, c, d));
    this.t = new Map(); // transport id -> transport
    this.q = []; // events not yet delivered
    this.opening = []; // [id, kind, query, limit] of the transports to open
    this.busy = 0; // a delivery is under way
    this.frame = undefined; // the text whose events' payloads are read in place
    this.bins = undefined; // the binary frames since it
    this.from = undefined; // the transport of the input running
    this.text = undefined; // the text of the command running
    this.refused = []; // [op, id, n]: what the browser refused, reported once the command is done
    this.armed = undefined; // the timer's handle
    this.directs = []; // by socket: [transport id, event head, largest frame] (see direct())
    this._gap(performance.now());
    this.unsubscribe = subscribe((event) => {
      const now = performance.now();
      const gap = this._gap(now);
      if (gap) this.input(OP.time_gap, 0, gap, undefined, undefined, undefined, now);
      this.input(OP.network, 0, event, undefined, undefined, undefined, now);
    });
  }

  // Runs command `op` (see `Op` in src/api/connection.rs); with the DELIVER flag, its
  // events are delivered before it returns, else they wait for deliver().
  run(op, key = 0, n = 0, flags = 0, text, extra, now = performance.now()) {
    const i = this.i;
    let result, error;
    if (this.c && !i.trap) {
      try {
        this.text = text;
        result = this.c.run(op, key, n, flags, text, extra, now);
      } catch (e) {
        if (isTrap(e)) trapped(i, e, this._m());
        else error = e;
      }
      this.text = undefined;
      // A frame or request the browser refused fails its transport.
      while (this.refused.length && !i.trap) this.run(...this.refused.shift());
    }
    // A dead instance's clients are told once; a freed connection answers as a closed one.
    if (i.trap) this._m()?._dead();
    if (i.trap || !this.c) return op == OP.queued ? "[]" : undefined;
    if (flags & DELIVER) this.deliver();
    if (error) throw error;
    return result;
  }

  cmd(op, key, n, flags = 0, text, extra) {
    return this.run(op, key, n, flags | DELIVER, text, extra);
  }

  ask(op, key) {
    return this.run(op, key);
  }

  // What the browser reports about transport `key`: `frame` is the text whose events'
  // payloads are read in place, `bins` the binary frames since (the attachments of an
  // event a binary frame completes), `time` when the browser stamped the input.
  input(op, key, n, text, extra, frame, time, bins) {
    this.frame = frame;
    this.bins = bins;
    this.from = key;
    this.run(op, key, n, DELIVER, text, extra, time < MAX_STAMP ? time : performance.now());
    this.frame = this.bins = this.from = undefined;
  }

  // Delivers the events not yet delivered; the outermost delivery then opens the
  // transports the core asked for.
  deliver() {
    const outermost = !this.busy;
    this.busy = 1;
    while (this.q.length) {
      const q = this.q;
      this.q = [];
      for (const e of q) {
        try {
          this.sink(...e);
        } catch (err) {
          report(err);
        }
      }
    }
    if (!outermost) return;
    this.busy = 0;
    while (this.opening.length && this.c) this._open(...this.opening.shift());
  }

  // Writes the emit of `data` ([event, ...args], no binary values) of socket `key`
  // straight to its WebSocket, when the core said that it would write it at once, as its
  // event head and the JSON, and do nothing else (a `direct` record, valid until the
  // next command): an emit then costs no call into wasm. False, and nothing written, for
  // an emit the core must see: a name it checks, a frame that may be too large.
  direct(key, data) {
    const d = this.directs[key];
    const name = data[0];
    if (!d || this.i.trap || (typeof name != "string" && typeof name != "number")) return false;
    const json = JSON.stringify(data);
    // At most 3 UTF-8 bytes per UTF-16 unit.
    if (d[1].length + json.length * 3 > d[2]) return false;
    if (this.t.get(d[0])?.send(d[1] + json) === false) this.input(OP.transport_closed, d[0], 1);
    return true;
  }

  // The Engine.IO endpoint of the transports opened from now on (the query may change
  // between attempts).
  setUrl(url) {
    this.url = url;
  }

  free() {
    const c = this.c;
    if (!c) return;
    this.c = null;
    this.unsubscribe();
    this._arm(undefined);
    for (const t of this.t.values()) t.close();
    this.t.clear();
    this.q = [];
    this.directs = [];
    try {
      c.free();
    } catch {
      // the instance is dead: nothing more to release
    }
  }

  _m() {
    return this.port.m || this.port.w.deref();
  }

  // One record of what the core asks for (see `Kind` in src/api/events.rs).
  _out(kind, key, a, b, c, d) {
    switch (kind) {
      case OPEN:
        return void this.opening.push([a, b, c, d]);
      case CLOSE:
        this.opening = this.opening.filter((o) => o[0] != a);
        this.t.get(a)?.close();
        return void this.t.delete(a);
      // A transport already gone takes the frame: the core hears of its end anyway. A
      // frame that ends with the JSON of the emit or ack running comes as its head alone.
      case TRANSMIT:
        if (this.t.get(a)?.send(c ? b + this.text : b) === false) this.refused.push([OP.transport_closed, a, 1]);
        return;
      case REQUEST:
        if (this.t.get(a)?.send(this._url("polling", b), c) === false) this.refused.push([OP.request_failed, a, c === undefined ? 0 : 1]);
        return;
      case TIMER:
        return void this._arm(a);
      case DIRECT:
        return void (this.directs[key] = a === undefined ? undefined : [a, b, c]);
    }
    if (kind == EVENT || kind == ACK) return this._payload(kind, key, a, b, c, d);
    this.q.push([kind, key, a, b, c, d]);
  }

  // An event ([text, start, attachments, ack id or -1]) or an ack ([id, text,
  // attachments, start]) is parsed here, the payload being `text` from `start` on (no
  // text: the driver's own string of the frame), the attachments an array of
  // ArrayBuffers or a count (the binary frames the transport received since that
  // string, which are what the core counted). The core checked only its outline (a
  // binary one's JSON, not its placeholders): one that does not parse, or whose
  // placeholder names no attachment, fails its transport once the command is done, and
  // is not delivered (an ack's callback gets the error).
  _payload(kind, key, a, b, c, d) {
    const event = kind == EVENT;
    const text = (event ? a : b) ?? this.frame;
    const start = event ? b : d;
    let args;
    try {
      args = decode(start ? text.slice(start) : text, typeof c == "number" ? this.bins : c);
    } catch (e) {
      this.refused.push([OP.unparsable_payload, this.from ?? -1, e === BAD_PLACEHOLDER ? 1 : 0]);
      if (!event) this.q.push([ACK_ERROR, key, a, "the acknowledgement is malformed", "ParseError"]);
      return;
    }
    this.q.push(event ? [kind, key, args, d] : [kind, key, a, args]);
  }

  _url(kind, query) {
    const url = kind == "websocket" ? "ws" + this.url.slice(4) : this.url;
    return url + (url.includes("?") ? "&" : "?") + query;
  }

  // Opens transport `id`: a WebSocket, or a polling transport and its first GET (the
  // handshake). A browser that refuses is a failure of the transport.
  _open(id, kind, query, limit) {
    const url = this._url(kind, query);
    if (kind == "polling") {
      const p = new PollingTransport(this, id, this.http, limit);
      if (!p.send(url)) return this.input(OP.request_failed, id, 0);
      this.t.set(id, p);
      return;
    }
    try {
      this.t.set(id, new WebSocketTransport(this, id, url, this.protocols, limit));
    } catch {
      this.input(OP.transport_closed, id, 1);
    }
  }

  // Arms the timer `delay` ms from now, or disarms it (undefined).
  _arm(delay) {
    const [set, clear] = this.timers || [setTimeout, clearTimeout];
    if (this.armed !== undefined) clear(this.armed);
    this.armed = delay === undefined ? undefined : set(() => this._fire(), delay);
  }

  // Browsers throttle timers in background tabs: the core handles everything overdue at
  // once, told how far the wall clock went meanwhile.
  _fire() {
    // The timeout that fired may be one cleared before, not the one armed: that one goes.
    this._arm(undefined);
    const now = performance.now();
    this.input(OP.timeout, 0, this._gap(now), undefined, undefined, undefined, now);
  }

  // How much further the wall clock went than the monotonic one since the last look (a
  // sleep, during which the monotonic clock may stand still), if that is more than noise.
  _gap(now) {
    const wall = Date.now();
    const gap = this.wall === undefined ? 0 : wall - this.wall - (now - this.mono);
    this.wall = wall;
    this.mono = now;
    return gap >= GAP_MS ? gap : 0;
  }
}
