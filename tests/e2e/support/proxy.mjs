// A loopback TCP proxy (node:net, 127.0.0.1, port 0) between the browser and one or
// more servers: round-robin over the targets in rotation, failing over to the next one
// when a target refuses the connection (a crashed node), and able to cut every current
// connection at once (both sockets destroyed: the client and the server each see their
// TCP connection die, as when a network path breaks).
import { createServer, connect } from "node:net";

/** A small seeded PRNG (mulberry32): chaos runs can be replayed from the printed seed. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Starts the proxy. `targets`: ports on 127.0.0.1, all in rotation at first.
 * Resolves to { port, stats, routes, live(), cutAll(), setRotation(ports),
 * startChaos(opts), close() }. `routes` lists each proxied connection's target port,
 * in order; `stats`: { accepted, proxied, failovers (a target refused, the next one
 * was tried), refused (every target refused), cuts, cutConnections }.
 */
export async function startProxy({ targets }) {
  const all = [...targets];
  let rotation = [...targets];
  let next = 0;
  const pairs = new Set();
  const routes = [];
  const stats = { accepted: 0, proxied: 0, failovers: 0, refused: 0, cuts: 0, cutConnections: 0 };

  function pickOrder() {
    if (rotation.length === 0) return [];
    const start = next % rotation.length;
    next = (start + 1) % rotation.length;
    return [...rotation.slice(start), ...rotation.slice(0, start)];
  }

  const server = createServer((client) => {
    stats.accepted += 1;
    client.setNoDelay(true);
    client.pause();
    const pair = { client, upstream: null, target: null };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on("error", drop);
    client.on("close", drop);

    const order = pickOrder();
    const tryTarget = (i) => {
      if (client.destroyed) return;
      if (i >= order.length) {
        stats.refused += 1;
        drop();
        return;
      }
      const upstream = connect({ host: "127.0.0.1", port: order[i] });
      upstream.setNoDelay(true);
      let connected = false;
      upstream.once("connect", () => {
        connected = true;
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        pair.upstream = upstream;
        pair.target = order[i];
        routes.push(order[i]);
        stats.proxied += 1;
        upstream.on("close", drop);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on("error", () => {
        if (connected) drop();
        else {
          stats.failovers += 1; // refused (a dead node): fail over to the next target
          tryTarget(i + 1);
        }
      });
    };
    tryTarget(0);
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });

  let chaosTimer = null;

  const proxy = {
    port: server.address().port,
    stats,
    routes,
    /** The current proxied connections: [{ target }]. */
    live() {
      return [...pairs].filter((p) => p.upstream).map((p) => ({ target: p.target }));
    },
    /** Destroys every current connection (both sides); returns how many there were. */
    cutAll() {
      const n = pairs.size;
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      stats.cuts += 1;
      stats.cutConnections += n;
      return n;
    },
    /** Which targets new connections go to (existing connections are left alone). */
    setRotation(ports) {
      for (const port of ports) if (!all.includes(port)) all.push(port);
      rotation = [...ports];
      next = 0;
    },
    /**
     * Cuts all connections at random intervals in [minMs, maxMs] until `durationMs`
     * has passed. Resolves when it ends, with the number of cuts made.
     */
    startChaos({ minMs = 100, maxMs = 600, durationMs, random = Math.random }) {
      const started = Date.now();
      let made = 0;
      return new Promise((resolve) => {
        const step = () => {
          if (Date.now() - started >= durationMs) {
            chaosTimer = null;
            resolve(made);
            return;
          }
          chaosTimer = setTimeout(() => {
            proxy.cutAll();
            made += 1;
            step();
          }, minMs + Math.floor(random() * (maxMs - minMs + 1)));
        };
        step();
      });
    },
    async close() {
      if (chaosTimer) clearTimeout(chaosTimer);
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      pairs.clear();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
