// A raw WebSocket server (npm `ws`, in-process, 127.0.0.1, port 0) that speaks just
// enough Engine.IO v4 / Socket.IO v5 to let a client in, and then misbehaves on purpose.
//
// Every connection gets the Engine.IO open packet (unless `handshake(index)` returns
// other frames to send instead), and a CONNECT reply `40{"sid":…}` to its CONNECT of
// the main namespace, followed by `afterConnect(index)` frames (strings are sent as
// text frames, Buffers as binary frames). Whatever the connection, it answers
// `42["echo",…]` with `42["echo",…]` and `42<id>["echo",…]` with `43<id>[…]`, so that a
// client can show that it works after the misbehaviour; `42<id>["bad-ack"]` gets an
// acknowledgement that is not JSON. `index` counts connections from 1.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const OPEN = '0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';

/** Resolves to { port, connections: [{ index, received: [] }], close() }. */
export async function startRawEngineServer({ handshake = () => null, afterConnect = () => [] } = {}) {
  const http = createServer((req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, maxPayload: 2_000_000 });
  const connections = [];

  wss.on("connection", (ws) => {
    const conn = { index: connections.length + 1, received: [] };
    connections.push(conn);
    const send = (frames) => {
      for (const frame of frames) {
        if (ws.readyState === ws.OPEN) ws.send(frame, { binary: typeof frame !== "string" });
      }
    };
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? null : data.toString("utf8");
      if (conn.received.length < 100) conn.received.push(isBinary ? `<binary ${data.length} bytes>` : text);
      if (text === null) return;
      if (/^40(\{.*)?$/s.test(text)) {
        send([`40{"sid":"y${conn.index}"}`, ...afterConnect(conn.index)]);
        return;
      }
      const event = /^42(\d*)(\[.*)$/s.exec(text);
      if (!event) return;
      let args;
      try {
        args = JSON.parse(event[2]);
      } catch {
        return;
      }
      if (Array.isArray(args) && args[0] === "bad-ack" && event[1]) return send([`43${event[1]}[1,}`]);
      if (!Array.isArray(args) || args[0] !== "echo") return;
      if (event[1]) send([`43${event[1]}${JSON.stringify(args.slice(1))}`]);
      else send([`42${JSON.stringify(args)}`]);
    });
    send(handshake(conn.index) ?? [OPEN]);
  });

  await new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", resolve);
  });
  return {
    port: http.address().port,
    connections,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => {
          http.closeAllConnections?.();
          http.close(() => resolve());
        });
      }),
  };
}
