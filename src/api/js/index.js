// resocket's public JavaScript API: socket.io-client 4.x's vocabulary (io(), Manager,
// Socket, listeners, option validation) over the wasm `Connection`.
//
// These modules translate and dispatch; they decide nothing about the connection. Backoff,
// attempt limits, buffering of emits while disconnected, ack ids and ack timeouts,
// volatile drops, recovery and the per-namespace CONNECT all belong to the Rust core.
// Events come from it through one callback, synchronously and in order; listeners may
// call back into it (emit, disconnect, ...). The browser's side of the connection (the
// WebSocket, polling requests, timer and page listeners) is JS too: driver.js and the
// modules it uses.
//
// This file is the package's entry and only re-exports. One module per job, so that a
// bundler ships only what an app uses (package.json `sideEffects` lists the modules
// that must stay: this one and instance.js):
//   io.js          io() and its cache of Managers, `protocol`
//   manager.js     Manager: the connection, its reconnection events
//   engine.js      `socket.io.engine` and the packets its listeners get
//   socket.js      Socket: a namespace, emits, acks, incoming events
//   surface.js     what both kinds of socket offer alike: flagged views, emitWithAck,
//                  the listeners of every event
//   share.js       shareAcrossTabs: a page's socket on a connection shared by pages
//                  (an entry of its own, "resocket/share", which the app imports)
//   leader.js      shareAcrossTabs: the connection, in the page that holds it (loaded there)
//   persist.js     persistQueue: the emits kept, in IndexedDB (an entry of its own,
//                  "resocket/persist", which the app imports)
//   features.js    where share.js and persist.js register when imported
//   auth.js        a socket's CONNECT payload (`auth`)
//   live.js        which Managers are kept alive; the core's callback, which does not keep them
//   driver.js      the browser side of a connection: inputs to the core, its outputs
//                  carried out, event delivery, the timer and the clock
//   websocket.js   the driver's WebSocket transport
//   polling.js     the driver's long-polling transport (XMLHttpRequest)
//   page.js        the page's network and visibility events, for all connections
//   instance.js    the wasm instance (instantiated at import), traps, stats()
//   contract.js    the numbering of the wasm Connection's commands, flags and outputs
//   options.js     option checks, and the settings the core reads
//   url.js         the server, namespace and Engine.IO URLs
//   codec.js       binary payloads: attachments, Blobs
//   emitter.js     listeners, and how app code is called
//   transports.js  socket.io-client's transport exports

// Importing the package instantiates the wasm module (top-level await), whatever the app
// uses of it: `import { io } from "resocket"` needs no init call.
import "./instance.js";

export { io, io as connect, io as default, protocol } from "./io.js";
export { Manager } from "./manager.js";
export { Socket } from "./socket.js";
export { stats } from "./instance.js";
export { Fetch, NodeWebSocket, NodeXHR, Polling, WebSocket, WebTransport, XHR, transports } from "./transports.js";
