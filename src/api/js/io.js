// socket.io-client's `io(uri?, opts?)` and its cache of Managers, one per server. Picks
// or makes a Manager and asks it for the namespace's socket; it knows nothing else of
// either.

import { Manager } from "./manager.js";
import { features } from "./features.js";
import { checkSocket } from "./options.js";
import { Socket } from "./socket.js";
import { servers, socketKey, targets } from "./url.js";

export const protocol = 5;

const cache = Object.create(null);

/**
 * socket.io-client's `io(uri?, opts?)`: the socket of the URL's namespace, on a Manager
 * shared per server (scheme, host, port and path; per list of servers for a failover
 * list of URLs) unless `forceNew`, `multiplex: false`, or the shared one already has that
 * namespace. With `shareAcrossTabs`, the page's socket on the connection it shares with
 * the other pages of its origin (share.js, which the app imports to enable it).
 */
export function io(uri, opts) {
  if (uri && typeof uri == "object" && !(uri instanceof URL) && !Array.isArray(uri)) [uri, opts] = [undefined, uri];
  opts = opts || {};
  checkSocket(opts);
  const all = targets(uri, opts);
  const nsp = all[0][0].pathname || "/";
  if (opts.shareAcrossTabs) return features.share(uri, opts, socketKey(all, opts, nsp), nsp);
  const id = servers(all, opts);
  const cached = cache[id]?._i.trap ? undefined : cache[id];
  const manager =
    opts.forceNew || opts.multiplex === false || (cached && nsp in cached._n)
      ? new Manager(uri, opts)
      : (cache[id] = cached || new Manager(uri, opts));
  return manager.socket(nsp, opts);
}

Object.assign(io, { Manager, Socket, io, connect: io });
