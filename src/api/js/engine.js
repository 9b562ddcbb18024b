// socket.io-client's `socket.io.engine` (transport, state, events) and the packets its
// listeners get, rebuilt from what the core reports. Reporting only: the transport is
// the core's, which this module asks for packets only once someone listens.

import { OP } from "./contract.js";
import { Emitter } from "./emitter.js";

// Packets cost a crossing each: the core reports them once the app listens to one of
// these events (of the engine; "packet" of the Manager too).
const PACKET_EVENTS = ["packet", "packetCreate", "drain"];
const ENGINE_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];

// An Engine.IO packet as socket.io-client's engine hands it to listeners.
export const enginePacket = (data) => (typeof data == "string" ? { type: ENGINE_TYPES[data[0]], data: data.slice(1) || undefined } : { type: "message", data });

// The Socket.IO packet of an Engine.IO message, as socket.io-client's Manager hands it to
// "packet" listeners: { type, nsp, id, data } (binary attachments stay placeholders).
export const socketPacket = (text) => {
  const m = /^(\d)(?:\d+-)?(\/[^,]*,)?(\d+)?([^]*)$/.exec(text);
  if (!m) return undefined;
  const packet = { type: +m[1], nsp: m[2] ? m[2].slice(0, -1) : "/" };
  if (m[3]) packet.id = +m[3];
  if (m[4]) packet.data = JSON.parse(m[4]);
  return packet;
};

export class Engine extends Emitter {
  constructor(manager) {
    super();
    const c = manager._c;
    Object.assign(this, { transport: null, readyState: "closed", close: () => c.cmd(OP.close_transport), _m: manager });
  }

  get id() {
    return this._m._c.ask(OP.engine_id) ?? null;
  }

  on(ev, fn) {
    if (PACKET_EVENTS.includes(ev)) this._m._packets();
    return super.on(ev, fn);
  }
}
