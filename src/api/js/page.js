// The page's word on the network: online, offline, the page visible again, a restore
// from the back/forward cache, numbered as the core's NetworkEvent (contract.js). One set
// of listeners for all connections, added for the first subscriber and removed with the
// last. What to do about them is the core's.

import { NETWORK } from "./contract.js";

const subscribers = new Set();
let unlisten;

const broadcast = (name) => {
  const event = NETWORK.indexOf(name);
  for (const hear of [...subscribers]) hear(event);
};

const listen = () => {
  const w = globalThis.window;
  const d = globalThis.document;
  if (!w) return () => {};
  const handlers = [
    [w, "online", () => broadcast("online")],
    [w, "offline", () => broadcast("offline")],
    [d, "visibilitychange", () => d.visibilityState == "visible" && broadcast("visible")],
    [w, "pageshow", (e) => e.persisted && broadcast("page_show")],
  ];
  for (const [target, name, fn] of handlers) target?.addEventListener(name, fn);
  return () => {
    for (const [target, name, fn] of handlers) target?.removeEventListener(name, fn);
  };
};

// `hear(event)` hears the page's events until the function returned is called.
export const subscribe = (hear) => {
  if (!subscribers.size) unlisten = listen();
  subscribers.add(hear);
  return () => {
    if (subscribers.delete(hear) && !subscribers.size) unlisten();
  };
};
