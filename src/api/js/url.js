// URLs: what the app gave (or the page's location) to the server and namespace, and the
// Engine.IO endpoint's URL with the app's `path` and `query`. Functions of their
// arguments (and the page's location): when a URL is used, and re-read, is the
// Manager's business.

// The URL to connect to (its pathname is the namespace), and the scheme of its Engine.IO
// endpoint, http: or https: (WebSockets go to the ws: or wss: twin). Without a URL: the
// page's origin, or socket.io-client's `hostname`, `port` and `secure` options.
export const target = (uri, o) => {
  const loc = globalThis.location;
  if (uri == null) {
    const secure = o.secure ?? loc?.protocol == "https:";
    const port = o.port ?? (o.hostname ? "" : loc?.port);
    uri = `${secure ? "https:" : "http:"}//${o.hostname ?? loc?.hostname}${port ? `:${port}` : ""}`;
  }
  uri = String(uri);
  if (uri[0] != "/" && !/^(https?|wss?):\/\//i.test(uri)) uri = `${loc ? loc.protocol : "https:"}//${uri}`;
  const url = new URL(uri, loc?.href);
  const http = url.protocol.replace("ws", "http");
  if (!/^https?:$/.test(http)) throw new TypeError(`resocket: cannot connect to "${uri}" (http, https, ws or wss only)`);
  return [url, http];
};

// The targets of a URL or of a failover list of URLs (`io([a, b])`), in its order. The
// URLs of a list name one namespace: the sockets are the same wherever they connect.
export const targets = (uri, o) => {
  const list = Array.isArray(uri) ? uri : [uri];
  if (!list.length) throw new TypeError("resocket: the list of URLs is empty");
  const all = list.map((u) => target(u, o));
  if (all.some(([u]) => u.pathname != all[0][0].pathname)) throw new TypeError("resocket: the URLs of a failover list must name the same namespace");
  return all;
};

// The servers of `targets`' answer with the app's `path`, as one string: what a
// connection is to (io()'s cache of Managers).
export const servers = (all, o) => all.map(([url, http]) => `${http}//${url.host}`).join(" ") + (o.path || "/socket.io");

// The same with the namespace: what a socket is to (persistQueue's storage key,
// shareAcrossTabs' lock and channel).
export const socketKey = (all, o, nsp) => `${servers(all, o)} ${nsp}`;

// The Engine.IO URL of `target`'s answer, from `opts` (`o`) as they are now:
// socket.io-client reads `opts.query` afresh for every connection (a token refreshed in
// `reconnect_attempt`, say).
export const engineUrl = ([url, http], o) => {
  const q = new URLSearchParams(url.search);
  const extra = typeof o.query == "string" ? new URLSearchParams(o.query) : Object.entries(o.query || {});
  for (const [k, v] of extra) q.set(k, v);
  q.set("EIO", "4");
  const path = (o.path || "/socket.io").replace(/\/$/, "") + (o.addTrailingSlash === false ? "" : "/");
  return `${http}//${url.host}${path}?${q}`;
};
