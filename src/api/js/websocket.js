// A WebSocket transport of the driver: the browser's WebSocket, its four events reported
// to the driver as the core's inputs, frames sent as the core asks. Owns the WebSocket
// and its handlers, which close() removes: a transport closed by the core reports
// nothing more. What a frame means is the core's.

import { OP } from "./contract.js";

export class WebSocketTransport {
  // Throws when the browser refuses to create the WebSocket (a bad URL, say).
  constructor(d, conn, url, protocols, limit) {
    const ws = (this.ws = protocols.length ? new WebSocket(url, protocols) : new WebSocket(url));
    ws.binaryType = "arraybuffer";
    // The latest text frame, and the binary frames since: a binary frame that completes
    // an event completes that text's, and those frames are its attachments.
    this.text = undefined;
    this.bins = [];
    ws.onopen = () => d.input(OP.transport_open, conn);
    ws.onclose = () => d.input(OP.transport_closed, conn, 0);
    ws.onerror = () => d.input(OP.transport_closed, conn, 1);
    // Stamped with the event's own timeStamp (the same clock as performance.now(), read by
    // the browser on arrival), which costs less than reading the clock.
    ws.onmessage = (e) => {
      const data = e.data;
      const binary = typeof data != "string";
      if ((binary ? data.byteLength : data.length) > limit) return d.input(OP.frame_too_large, conn);
      if (binary) this.bins.push(data);
      else {
        this.text = data;
        this.bins = [];
      }
      d.input(binary ? OP.binary_frame : OP.text_frame, conn, 0, binary ? undefined : data, binary ? new Uint8Array(data) : undefined, this.text, e.timeStamp, this.bins);
    };
  }

  // Whether the browser took the frame (a string or an ArrayBuffer).
  send(frame) {
    if (this.ws.readyState != 1) return false;
    try {
      this.ws.send(frame);
      return true;
    } catch {
      return false;
    }
  }

  close() {
    const ws = this.ws;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (ws.readyState < 2) ws.close(1000);
  }
}
