// shareAcrossTabs, in the page elected to hold the shared connection: a Manager and its
// socket, like any other, whose events go to every page's socket and which makes the
// emits every page's socket posts. Loaded by share.js once its page holds the lock;
// who leads, and what each page's socket does with the messages, is share.js's.

import { OP } from "./contract.js";
import { release } from "./live.js";
import { Manager } from "./manager.js";
import { errorInfo } from "./share.js";

const REPLIES = 1000;
const MANAGER_EVENTS = ["open", "close", "error", "ping", "reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed", "failover"];
const toMessage = (v) => (v instanceof Error ? errorInfo(v) : v);

export class Leader {
  // `page`: this page's SharedSocket, which the leader serves as it serves the others.
  constructor(page) {
    this.page = page;
    // Its own id, not the page's: a page that leads again is a new leader, which has
    // none of the emits posted to the last one.
    this.id = crypto.randomUUID();
    // The server's ack requests, until a page answers (the first answer counts), the
    // newest REPLIES at most.
    this.replies = new Map();
    this.r = 0;
    // The emits the core keeps (offline, or unacknowledged), oldest first, as [page's
    // socket, number]: a drop is the oldest one's, or the one being made (`emitting`).
    this.kept = [];
    this.emitting = null;
    const m = (this.m = new Manager(page.io._uri, { ...page._o, autoConnect: false, forceNew: true }));
    const s = (this.s = m.socket(page.nsp, page._o));
    s._relay = (args, offset) => this._event(args, offset);
    s.on("connect", () => {
      if (this.handed && !s.recovered) return this._presentAgain();
      this.handed = null;
      this.pid = null;
      this._sent();
      this.out({ t: "connect", s: this.state() });
    });
    s.on("emit_dropped", (reason, data) => this._dropped(reason, data));
    s.on("disconnect", (reason) => {
      this.replies.clear();
      this.out({ t: "disconnect", reason, s: this.state() });
    });
    s.on("connect_error", (err) => this.out({ t: "connect_error", e: errorInfo(err) }));
    for (const name of MANAGER_EVENTS) m.on(name, (...args) => this.out({ t: "io", name, args: args.map(toMessage) }));
    // The session the previous leader had: the server restores it, with the events
    // missed since the last one this page delivered.
    const pid = page._pid;
    if (pid && page._last !== undefined && m._c.cmd(OP.resume, s._k, 0, 0, pid, page._last)) this.handed = [pid, page._last];
    // Every page hears of the new leader, and posts it the emits it has not seen go.
    page._leader = this;
    this.out({ t: "lead", s: this.state() });
    s.connect();
  }

  // The server did not restore the session handed over. The previous holder's transport
  // close and this connection reach it over different TCP connections, and it keeps a
  // session only once it has seen the close: this connection may have come first. Once,
  // the transport is dropped unannounced and the session presented again; the pages
  // hear of the next connection only.
  _presentAgain() {
    const [pid, offset] = this.handed;
    this.handed = null;
    const { m, s } = this;
    m._c.cmd(OP.close_transport);
    m._c.cmd(OP.resume, s._k, 0, 0, pid, offset);
    if (!s.active) s.connect();
  }

  state() {
    const s = this.s;
    return { c: s.connected, id: s.id, r: s.recovered, u: this.m.uri, p: this.m._c.ask(OP.session, s._k), o: this.last };
  }

  // A message to the pages: this one's socket hears it at once.
  out(m) {
    m.by = this.id;
    this.page._chan?.postMessage(m);
    this.page._on(m);
  }

  // An event of the connection, for every page; its offset tells them where they are,
  // and the first one of a connection the session's private id.
  _event(args, o) {
    let r, p;
    if (typeof args[args.length - 1] == "function") {
      this.replies.set((r = ++this.r), args.pop());
      if (this.replies.size > REPLIES) this.replies.delete(this.replies.keys().next().value);
    }
    if (o !== undefined) {
      this.last = o;
      if (!this.pid) p = this.pid = this.m._c.ask(OP.session, this.s._k);
    }
    this.out({ t: "ev", args, o, r, p });
  }

  // A message of a page's socket (this page's included).
  handle(m) {
    switch (m.t) {
      case "join":
        return this.out({ t: "state", to: m.from, s: this.state() });
      case "emit":
        return m.to == this.id && this._emit(m);
      case "reply": {
        if (m.to != this.id) return;
        const fn = this.replies.get(m.r);
        this.replies.delete(m.r);
        return fn?.(...m.args);
      }
      case "clear":
        return this.s.clearQueue();
      case "set":
        return this.m[m.name](m.v);
      case "drop":
        return this.m._engine.close();
      case "open":
        return this.s.active || this.s.connect();
    }
  }

  // Emits the core no longer keeps went out (sent, acknowledged): the oldest, but for
  // `more` of them.
  _sent(more = 0) {
    this.kept.splice(0, this.kept.length - this.s._waiting() - more);
  }

  // The core dropped an emit: the one being made if it was refused, else the oldest kept
  // (those gone meanwhile, acknowledged without a word to this side, trimmed first).
  _dropped(reason, data) {
    const refused = this.emitting && (reason == "too-large" || (reason == "overflow" && this.s._o.queueOverflow == "drop-newest"));
    if (!refused) this._sent(1);
    const [to, n] = (refused ? this.emitting : this.kept.shift()) ?? [];
    if (to) this.out({ t: "dropped", to, n, reason });
    else this.page._fire("emit_dropped", reason, data);
  }

  // Emit `n` of socket `from`, made with that socket's flags; its answer goes back to
  // it, always error first (the page's socket calls its own callback as it should). An
  // at-least-once emit (`retries`) is answered too, so that the page keeps it until then.
  _emit({ from, n, data, ack, f }) {
    const s = this.s;
    this._sent();
    const view = s._with(f);
    const queued = !s.connected && !f.volatile;
    const answer = (err, ...args) => {
      this._sent();
      this.out({ t: "ack", to: from, n, e: err ? errorInfo(err) : undefined, args });
    };
    answer._e = 1;
    const before = s._waiting();
    this.emitting = [from, n];
    try {
      view.emit(...data, ...(ack || s._o.retries > 0 ? [answer] : []));
    } catch (err) {
      return this.out({ t: "ack", to: from, n, e: errorInfo(err), x: 1 });
    } finally {
      this.emitting = null;
    }
    if (s._keeps(before)) this.kept.push([from, n]);
    this.out({ t: "took", to: from, n, q: queued });
  }

  /**
   * The page no longer leads. With `handover`, another page takes the session over: the
   * transport is dropped without a word, so the server keeps the session for it.
   * Otherwise no page wants the connection: it ends.
   */
  stop(handover) {
    const { m, s } = this;
    s._relay = null;
    s.off();
    m.off();
    this.replies.clear();
    if (!handover) return m.disconnect();
    release(m);
    m._c.free();
  }
}
