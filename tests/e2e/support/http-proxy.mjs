// An HTTP-aware loopback proxy (node:http, 127.0.0.1, port 0) in front of one server:
// plain HTTP requests (the long-polling GETs and POSTs, CORS preflights) are forwarded
// as they are, while what happens to a WebSocket handshake (`Upgrade: websocket`) is up
// to the test:
//   "forward"                       passed through, as a transparent proxy would;
//   "refuse"                        answered 403 and closed, as a proxy or firewall that
//                                   does not allow WebSocket would;
//   { cutAfter: { from, frames } }  passed through until `frames` complete WebSocket
//                                   frames sent by `from` ("client" or "server") have
//                                   been forwarded, then both sides of that connection
//                                   are destroyed (frames: 0 with from "server": right
//                                   after the 101 answer), so that an upgrade can be
//                                   broken at a chosen step of its probe.
// A policy object may also hold `after`, a promise: the handshake waits for it before
// going to the server (the browser sees a WebSocket still connecting meanwhile), so
// that a test decides when a probe may start.
// A plain request for which `hold({ method, url, n })` is true (n counts plain requests
// from 1) is neither forwarded nor answered: the browser waits for it until it gives up,
// as behind a stalled proxy.
// Frames are counted, never decoded or changed: the proxy knows nothing of Engine.IO.
import { Agent, createServer, request } from "node:http";
import { connect } from "node:net";

/**
 * Counts complete WebSocket frames in a byte stream fed chunk by chunk. `feed(chunk)`
 * returns, for each frame completed in that chunk, the offset just after its last byte.
 */
function frameCounter() {
  let header = Buffer.alloc(0); // the bytes of a frame header read so far
  let payloadLeft = -1; // payload bytes still to come of the current frame; -1: in its header
  return function feed(chunk) {
    const ends = [];
    let i = 0;
    while (i < chunk.length) {
      if (payloadLeft < 0) {
        header = Buffer.concat([header, chunk.subarray(i, i + 1)]);
        i += 1;
        const need = headerLength(header);
        if (need === null || header.length < need) continue;
        payloadLeft = payloadLength(header);
        header = Buffer.alloc(0);
      } else {
        const take = Math.min(payloadLeft, chunk.length - i);
        i += take;
        payloadLeft -= take;
      }
      if (payloadLeft === 0) {
        ends.push(i);
        payloadLeft = -1;
      }
    }
    return ends;
  };
}

/** The full length of a frame header from its first bytes, or null if not known yet. */
function headerLength(h) {
  if (h.length < 2) return null;
  const len7 = h[1] & 0x7f;
  const masked = (h[1] & 0x80) !== 0;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
}

function payloadLength(h) {
  const len7 = h[1] & 0x7f;
  if (len7 === 126) return h.readUInt16BE(2);
  if (len7 === 127) return Number(h.readBigUInt64BE(2));
  return len7;
}

/** The request line and headers of `req`, as they came (raw header names and order). */
function requestHead(req) {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/**
 * Starts the proxy in front of 127.0.0.1:`target`. `upgrade`: a policy above, or a
 * function (n) => policy for the n-th WebSocket handshake (from 1); `hold`: the
 * predicate above (none by default). Resolves to { port, stats, setUpgrade(policy),
 * setHold(pred), close() }; `stats`: { requests (plain HTTP requests seen), held,
 * upgrades (WebSocket handshakes seen), refused, forwarded (handed to the server), cut
 * (destroyed by a cutAfter policy) }.
 */
export async function startHttpProxy({ target, upgrade = "forward", hold = null }) {
  let policy = upgrade;
  let holdIf = hold;
  const stats = { requests: 0, held: 0, upgrades: 0, refused: 0, forwarded: 0, cut: 0 };
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set();

  const server = createServer((req, res) => {
    stats.requests += 1;
    if (holdIf?.({ method: req.method, url: req.url, n: stats.requests })) {
      stats.held += 1;
      req.resume(); // its body is read and dropped; the answer never comes
      return;
    }
    const upstream = request(
      { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: req.headers, agent },
      (upRes) => {
        // Raw headers keep repeated ones (Set-Cookie) as they came.
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.rawHeaders);
        upRes.pipe(res);
        upRes.on("error", () => res.destroy());
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { connection: "close" }).end();
      else res.destroy();
    });
    req.on("error", () => upstream.destroy());
    // The browser gave up on the request (a timeout, an abort): so does the proxy.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });

  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  server.on("upgrade", (req, client, head) => {
    stats.upgrades += 1;
    const chosen = typeof policy === "function" ? policy(stats.upgrades) : policy;
    client.on("error", () => {});
    if (chosen === "refuse") {
      stats.refused += 1;
      client.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const cutAfter = chosen && typeof chosen === "object" ? chosen.cutAfter : null;
    const after = chosen && typeof chosen === "object" ? chosen.after : null;
    if (after) {
      client.pause();
      Promise.resolve(after).then(
        () => !client.destroyed && pass(req, client, head, cutAfter),
        () => client.destroy(),
      );
    } else pass(req, client, head, cutAfter);
  });

  /** Hands a WebSocket handshake to the server, counting frames for `cutAfter`. */
  function pass(req, client, head, cutAfter) {
    const upstream = connect({ host: "127.0.0.1", port: target });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    upstream.setNoDelay(true);
    client.setNoDelay(true);

    let stopped = false; // nothing more passes, in either direction
    let destroyed = false;
    const cutNow = () => {
      if (destroyed) return;
      destroyed = true;
      stats.cut += 1;
      client.destroy();
      upstream.destroy();
    };
    // Forwards `chunk` from `from` to `to`; with a cutAfter policy on that direction,
    // only up to the end of the chosen frame, then cuts once it is flushed.
    const counters = { client: frameCounter(), server: frameCounter() };
    const seen = { client: 0, server: 0 };
    const forward = (from, to, chunk) => {
      if (stopped) return;
      if (!cutAfter || cutAfter.from !== from) {
        to.write(chunk);
        return;
      }
      for (const end of counters[from](chunk)) {
        seen[from] += 1;
        if (seen[from] >= cutAfter.frames) {
          stopped = true;
          to.write(chunk.subarray(0, end), cutNow);
          return;
        }
      }
      to.write(chunk);
    };

    upstream.once("connect", () => {
      stats.forwarded += 1;
      upstream.write(requestHead(req));
      if (head?.length) forward("client", upstream, head);
      client.on("data", (chunk) => forward("client", upstream, chunk));
      client.resume();
      // The server's answer head (101 or an error) passes whole; frames follow it.
      let answer = Buffer.alloc(0);
      upstream.on("data", (chunk) => {
        if (stopped) return;
        if (answer === null) return forward("server", client, chunk);
        answer = Buffer.concat([answer, chunk]);
        const end = answer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const rest = answer.subarray(end + 4);
        const switched = / 101 /.test(answer.subarray(0, answer.indexOf("\r\n")).toString("latin1"));
        client.write(answer.subarray(0, end + 4), () => {
          if (switched && cutAfter?.from === "server" && cutAfter.frames === 0) cutNow();
        });
        answer = null;
        if (switched && cutAfter?.from === "server" && cutAfter.frames === 0) {
          stopped = true;
          return;
        }
        if (rest.length) forward("server", client, rest);
      });
    });
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });

  return {
    port: server.address().port,
    stats,
    /** The policy for the WebSocket handshakes to come. */
    setUpgrade(next) {
      policy = next;
    },
    /** The predicate for the plain requests to come (null: forward them all). */
    setHold(pred) {
      holdIf = pred;
    },
    async close() {
      for (const socket of [...sockets]) socket.destroy();
      sockets.clear();
      agent.destroy();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
