// socket.io-client's transport exports. Plain frozen values, nothing else: the options'
// checks read them by their `name` (options.js), so an app that does not import them
// ships none of this module.

// socket.io-client's transport exports, for `transports: [WebSocket, XHR]`: each names the
// Engine.IO transport it stands for. XHR, Fetch and NodeXHR are all HTTP long-polling
// here (requests go through XMLHttpRequest).
const transport = (name, title) => Object.freeze({ name, [Symbol.toStringTag]: title });
export const WebSocket = /* @__PURE__ */ transport("websocket", "WebSocket");
export const Polling = /* @__PURE__ */ transport("polling", "Polling");
export const XHR = /* @__PURE__ */ transport("polling", "XHR");
export const Fetch = /* @__PURE__ */ transport("polling", "Fetch");
export const NodeXHR = /* @__PURE__ */ transport("polling", "NodeXHR");
export const NodeWebSocket = /* @__PURE__ */ transport("websocket", "NodeWebSocket");
export const WebTransport = /* @__PURE__ */ transport("webtransport", "WebTransport");
export const transports = { websocket: WebSocket, polling: XHR, webtransport: WebTransport };
