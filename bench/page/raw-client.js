// The baseline of the benchmarks: a browser WebSocket plus the browser's JSON.parse,
// speaking just enough Engine.IO v4 / Socket.IO v5 by hand to talk to a socket.io
// server on the main namespace ("/"): open, CONNECT, ping/pong, EVENT, ACK and
// BINARY_EVENT with attachments. It is what a client cannot beat: no validation, no
// queue, no recovery, no error reporting, a fixed reconnection delay. With connection
// state recovery on, it ignores the CONNECT's pid and passes the offset that ends every
// event on to the handlers as one more argument (as socket.io-client does; it parses
// the whole frame as before).
//
// It offers the small part of the socket.io-client API the benchmarks use:
//   io(url, { reconnectionDelay })   connects at once
//   socket.on/off(event, fn), socket.emit(event, ...args), socket.emitWithAck(...),
//   socket.connected, socket.id, socket.disconnect()
//   reserved events: "connect", "disconnect"(reason)
// JSON arguments only on the way out (the benchmarks send no binaries).

export class RawSocket {
  constructor(url, opts = {}) {
    const u = new URL(url, location.href);
    this.url = `${u.protocol.replace("http", "ws")}//${u.host}/socket.io/?EIO=4&transport=websocket`;
    this.delay = opts.reconnectionDelay ?? 1000;
    this.handlers = new Map();
    this.acks = new Map();
    this.nextAck = 0;
    this.connected = false;
    this.id = undefined;
    this.ws = null;
    this.timer = 0;
    this.closed = false;
    this.pending = null; // a BINARY_EVENT waiting for its attachments
    // On `offline` the socket is dead whatever it says: drop it. On `online`, retry now.
    this.onOffline = () => this.ws && this.ws.close();
    this.onOnline = () => {
      if (!this.closed && !this.ws) {
        clearTimeout(this.timer);
        this.open();
      }
    };
    addEventListener("offline", this.onOffline);
    addEventListener("online", this.onOnline);
    this.open();
  }

  open() {
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onmessage = (e) => this.frame(e.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.pending = null;
      const was = this.connected;
      this.connected = false;
      for (const [, settle] of this.acks) settle(new Error("disconnected"));
      this.acks.clear();
      if (was) this.fire("disconnect", ["transport close"]);
      if (!this.closed) this.timer = setTimeout(() => this.open(), this.delay);
    };
  }

  frame(data) {
    if (typeof data !== "string") {
      const p = this.pending;
      if (!p) return;
      p.buffers.push(data);
      if (p.buffers.length === p.count) {
        this.pending = null;
        this.packet(p.type, p.id, fill(p.payload, p.buffers));
      }
      return;
    }
    const engineType = data.charCodeAt(0);
    if (engineType === 50 /* "2" ping */) return this.ws.send("3");
    if (engineType === 48 /* "0" open */) return this.ws.send("40");
    if (engineType !== 52 /* "4" message */) return;
    const type = data.charCodeAt(1) - 48;
    let i = 2;
    let count = 0;
    if (type === 5 || type === 6) {
      const dash = data.indexOf("-", i);
      count = Number(data.slice(i, dash));
      i = dash + 1;
    }
    let id;
    let c = data.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      id = 0;
      for (; c >= 48 && c <= 57; c = data.charCodeAt(++i)) id = id * 10 + (c - 48);
    }
    const payload = i < data.length ? JSON.parse(data.slice(i)) : undefined;
    if (count) this.pending = { type, id, payload, count, buffers: [] };
    else this.packet(type, id, payload);
  }

  packet(type, id, payload) {
    switch (type) {
      case 0: // CONNECT
        this.connected = true;
        this.id = payload?.sid;
        return this.fire("connect", []);
      case 1: // DISCONNECT from the server
        this.closed = true;
        this.ws?.close();
        return;
      case 2: // EVENT
      case 5: // BINARY_EVENT
        return this.fire(payload[0], payload.slice(1));
      case 3: // ACK
      case 6: {
        const settle = this.acks.get(id);
        this.acks.delete(id);
        return settle?.(null, payload);
      }
      default:
    }
  }

  fire(name, args) {
    const list = this.handlers.get(name);
    if (list) for (const fn of list) fn(...args);
  }

  on(name, fn) {
    const list = this.handlers.get(name);
    if (list) list.push(fn);
    else this.handlers.set(name, [fn]);
    return this;
  }

  off(name, fn) {
    const list = this.handlers.get(name);
    if (list && list.includes(fn)) list.splice(list.indexOf(fn), 1);
    return this;
  }

  emit(name, ...args) {
    this.ws?.send(`42${JSON.stringify([name, ...args])}`);
    return this;
  }

  emitWithAck(name, ...args) {
    return new Promise((resolve, reject) => {
      const id = this.nextAck++;
      this.acks.set(id, (err, payload) => (err ? reject(err) : resolve(payload[0])));
      this.ws?.send(`42${id}${JSON.stringify([name, ...args])}`);
    });
  }

  disconnect() {
    this.closed = true;
    clearTimeout(this.timer);
    removeEventListener("offline", this.onOffline);
    removeEventListener("online", this.onOnline);
    if (this.ws) {
      if (this.connected) this.ws.send("41");
      this.ws.close();
    }
    return this;
  }
}

/** Puts the attachments in place of their {_placeholder: true, num} objects. */
function fill(value, buffers) {
  if (!value || typeof value !== "object") return value;
  if (value._placeholder === true) return buffers[value.num];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) value[i] = fill(value[i], buffers);
  } else {
    for (const key in value) value[key] = fill(value[key], buffers);
  }
  return value;
}

export function io(url, opts) {
  return new RawSocket(url, opts);
}
