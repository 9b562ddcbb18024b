// A long-polling transport of the driver: the XMLHttpRequests the core asks for (a GET
// that waits for the server's packets, POSTs of the client's), their outcome reported to
// the driver as the core's inputs. Owns the requests in flight; close() aborts the GET
// and stops listening to the POSTs (one already sent may still deliver its packets).
// What a body means is the core's.

import { OP } from "./contract.js";

export class PollingTransport {
  // `http`: { headers, withCredentials, timeout } (socket.io-client's extraHeaders,
  // withCredentials, requestTimeout); `limit`: the largest body taken, in UTF-16 units.
  constructor(d, conn, http, limit) {
    Object.assign(this, { d, conn, http, limit, get: null, posts: new Set() });
  }

  // Sends a request to `url`: a POST of `body`, or the GET when it is undefined. Whether
  // the browser took it.
  send(url, body) {
    const post = body !== undefined;
    try {
      const x = new XMLHttpRequest();
      x.open(post ? "POST" : "GET", url, true);
      for (const [name, value] of this.http.headers) x.setRequestHeader(name, value);
      x.withCredentials = this.http.withCredentials;
      x.timeout = this.http.timeout;
      x.onloadend = () => this._done(x, post);
      x.send(post ? body : null);
      if (post) this.posts.add(x);
      else this.get = x;
      return true;
    } catch {
      return false;
    }
  }

  _done(x, post) {
    const { d, conn } = this;
    if (post) this.posts.delete(x);
    else this.get = null;
    const body = x.status == 200 && (post || x.response);
    // A failure: a network error, an HTTP status other than 200, the timeout, or a body
    // over the limit (not handed to the core).
    if (typeof body == "string" && body.length <= this.limit) d.input(OP.polled, conn, 0, body, undefined, body);
    else if (body === true) d.input(OP.posted, conn);
    else d.input(OP.request_failed, conn, post ? 1 : 0);
  }

  close() {
    if (this.get) {
      this.get.onloadend = null;
      this.get.abort();
    }
    for (const x of this.posts) x.onloadend = null;
    this.posts.clear();
  }
}
