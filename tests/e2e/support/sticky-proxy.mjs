// An HTTP-aware loopback proxy (node:http, 127.0.0.1, port 0) in front of Socket.IO
// nodes, as a load balancer with sticky sessions would be. HTTP long-polling sends every
// packet of an Engine.IO session as a separate request, and only the node that made the
// session knows it: so a request whose query names a session (`sid=…`) goes to the node
// that answered that session's handshake (learnt from the handshake's body,
// `0{"sid":…}`), and so does a WebSocket upgrade naming it. Requests that name no session
// (handshakes, WebSocket-only connections) go round-robin over the nodes in rotation,
// failing over to the next one when a node refuses the connection (a crashed node);
// a request for a session whose node is gone gets a 502, as from a real balancer.
// With `sticky: false` every request goes round-robin: the failure that stickiness
// prevents.
import { request as httpRequest, createServer } from "node:http";
import { connect } from "node:net";

// Connection-level headers, never forwarded (node sets its own framing).
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);
const MAX_BODY = 16 * 1024 * 1024;
const MAX_LOG = 5000;

/**
 * Starts the proxy. `targets`: node ports on 127.0.0.1, all in rotation at first.
 * Resolves to { port, sessions, routes, requests, errors, upgrades, stats,
 * setRotation(ports), close() }:
 *   sessions  Map of Engine.IO sid -> the port of the node that made it
 *   routes    the node port of each handshake that made a session, in order
 *   requests  [{ method, sid, transport, target, status }] every HTTP request answered
 *             (status 502 when its node was gone), in order
 *   errors    [{ method, sid, target, status, body }] the answers with status >= 400
 *   upgrades  [{ sid, target }] every WebSocket upgrade proxied
 *   stats     { requests, handshakes, upgrades, failovers (a node refused, the next one
 *             was tried), badGateway (answered 502) }
 */
export async function startStickyProxy({ targets, sticky = true }) {
  let rotation = [...targets];
  let next = 0;
  const sessions = new Map();
  const routes = [];
  const requests = [];
  const errors = [];
  const upgrades = [];
  const stats = { requests: 0, handshakes: 0, upgrades: 0, failovers: 0, badGateway: 0 };
  const tunnels = new Set(); // upgraded connections: [client socket, node socket]
  const inFlight = new Set(); // upstream HTTP requests

  const push = (list, entry) => {
    if (list.length < MAX_LOG) list.push(entry);
  };

  /** The nodes to try, in order: the session's own node, or the rotation from `next`. */
  function order(sid) {
    if (sticky && sid && sessions.has(sid)) return { ports: [sessions.get(sid)], failover: false };
    if (rotation.length === 0) return { ports: [], failover: true };
    const start = next % rotation.length;
    next = (start + 1) % rotation.length;
    return { ports: [...rotation.slice(start), ...rotation.slice(0, start)], failover: true };
  }

  function sidOf(req) {
    const query = new URL(req.url, "http://proxy").searchParams;
    return { sid: query.get("sid"), transport: query.get("transport") };
  }

  function forwardHeaders(req, body) {
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers["content-length"] = String(body.length);
    return headers;
  }

  /** Reads the request body (polling payloads are small), so that a refused node can be retried. */
  function readBody(req) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      req.on("data", (chunk) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          reject(new Error("request body too large"));
          req.destroy();
        } else chunks.push(chunk);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  function answerBadGateway(res, entry) {
    stats.badGateway += 1;
    entry.status = 502;
    push(requests, entry);
    push(errors, { ...entry, body: "bad gateway" });
    // Readable cross-origin, as the nodes' own answers are: the page sees a 502, not a
    // CORS failure.
    if (!res.headersSent) {
      res.writeHead(502, { "content-type": "text/plain", "access-control-allow-origin": "*" }).end("bad gateway\n");
    }
    else res.destroy();
  }

  async function onRequest(req, res) {
    stats.requests += 1;
    const { sid, transport } = sidOf(req);
    const entry = { method: req.method, sid, transport, target: null, status: null };
    let body;
    try {
      body = await readBody(req);
    } catch {
      res.destroy();
      return;
    }
    const headers = forwardHeaders(req, body);
    // A handshake's answer is read here: ask for it uncompressed.
    if (!sid) delete headers["accept-encoding"];
    const { ports, failover } = order(sid);

    const tryNode = (i) => {
      if (res.destroyed) return;
      if (i >= ports.length) return answerBadGateway(res, entry);
      const target = ports[i];
      entry.target = target;
      let answered = false;
      const upstream = httpRequest({ host: "127.0.0.1", port: target, method: req.method, path: req.url, headers, agent: false });
      inFlight.add(upstream);
      upstream.on("close", () => inFlight.delete(upstream));
      // The browser gave up on the request (a poll cut short by a close): so does the node.
      res.on("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.on("error", (err) => {
        if (answered) {
          res.destroy();
          return;
        }
        if (failover && err.code === "ECONNREFUSED") {
          stats.failovers += 1;
          tryNode(i + 1);
          return;
        }
        answerBadGateway(res, entry);
      });
      upstream.on("response", (up) => {
        answered = true;
        entry.status = up.statusCode;
        push(requests, entry);
        const outHeaders = {};
        for (const [name, value] of Object.entries(up.headers)) {
          if (!HOP_BY_HOP.has(name)) outHeaders[name] = value;
        }
        up.on("error", () => res.destroy()); // the node died mid-answer
        const readIt = !sid || up.statusCode >= 400;
        if (!readIt) {
          res.writeHead(up.statusCode, outHeaders);
          up.pipe(res);
          return;
        }
        // Read whole before it is passed on, so that the session is known before the
        // client can send its next request.
        const chunks = [];
        up.on("data", (chunk) => chunks.push(chunk));
        up.on("end", () => {
          const data = Buffer.concat(chunks);
          const text = up.headers["content-encoding"] ? "" : data.toString("utf8");
          if (up.statusCode >= 400) push(errors, { ...entry, body: text.slice(0, 1000) });
          if (!sid && up.statusCode === 200 && text.startsWith("0{")) {
            try {
              const open = JSON.parse(text.slice(1).split("\x1e")[0]);
              if (typeof open.sid === "string") {
                sessions.set(open.sid, target);
                routes.push(target);
                stats.handshakes += 1;
              }
            } catch {
              // not an Engine.IO handshake: nothing to learn
            }
          }
          outHeaders["content-length"] = String(data.length);
          res.writeHead(up.statusCode, outHeaders).end(data);
        });
      });
      upstream.end(body);
    };
    tryNode(0);
  }

  function onUpgrade(req, client, head) {
    stats.upgrades += 1;
    const { sid } = sidOf(req);
    const { ports, failover } = order(sid);
    const tunnel = [client, null];
    tunnels.add(tunnel);
    const drop = () => {
      tunnels.delete(tunnel);
      client.destroy();
      tunnel[1]?.destroy();
    };
    client.on("error", drop);
    client.on("close", drop);

    const tryNode = (i) => {
      if (client.destroyed) return;
      if (i >= ports.length) {
        stats.badGateway += 1;
        client.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      const target = ports[i];
      const node = connect({ host: "127.0.0.1", port: target });
      let connected = false;
      node.once("connect", () => {
        connected = true;
        if (client.destroyed) {
          node.destroy();
          return;
        }
        tunnel[1] = node;
        push(upgrades, { sid, target });
        node.setNoDelay(true);
        client.setNoDelay(true);
        // The request as the browser sent it (its Connection and Upgrade headers are what
        // the node must see), then the bytes both ways.
        let raw = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
        for (let k = 0; k < req.rawHeaders.length; k += 2) raw += `${req.rawHeaders[k]}: ${req.rawHeaders[k + 1]}\r\n`;
        node.write(`${raw}\r\n`);
        if (head.length) node.write(head);
        node.on("close", drop);
        node.pipe(client);
        client.pipe(node);
      });
      node.on("error", (err) => {
        if (connected) drop();
        else if (failover && err.code === "ECONNREFUSED") {
          stats.failovers += 1;
          tryNode(i + 1);
        } else {
          stats.badGateway += 1;
          client.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        }
      });
    };
    tryNode(0);
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch(() => res.destroy());
  });
  server.on("upgrade", onUpgrade);
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });

  return {
    port: server.address().port,
    sessions,
    routes,
    requests,
    errors,
    upgrades,
    stats,
    /** Which nodes new sessions go to (requests of existing sessions keep their node). */
    setRotation(ports) {
      rotation = [...ports];
      next = 0;
    },
    async close() {
      for (const upstream of [...inFlight]) upstream.destroy();
      for (const [client, node] of [...tunnels]) {
        client.destroy();
        node?.destroy();
      }
      tunnels.clear();
      const closed = new Promise((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
