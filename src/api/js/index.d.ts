// Type declarations of resocket's JavaScript API, modelled on socket.io-client 4.x's own
// (and @socket.io/component-emitter's), so that typed code written for socket.io-client
// compiles unchanged.

/** Maps event names to listener types. */
export interface EventsMap {
  [event: string]: any;
}

/** Any event name, any arguments: the default when no events map is given. */
export interface DefaultEventsMap {
  [event: string]: (...args: any[]) => void;
}

export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

type ReservedOrUserEventNames<ReservedEvents extends EventsMap, UserEvents extends EventsMap> =
  | EventNames<ReservedEvents>
  | EventNames<UserEvents>;

type FallbackToUntypedListener<T> = [T] extends [never] ? (...args: any[]) => void | Promise<void> : T;

type ReservedOrUserListener<
  ReservedEvents extends EventsMap,
  UserEvents extends EventsMap,
  Ev extends ReservedOrUserEventNames<ReservedEvents, UserEvents>,
> = FallbackToUntypedListener<
  Ev extends EventNames<ReservedEvents> ? ReservedEvents[Ev] : Ev extends EventNames<UserEvents> ? UserEvents[Ev] : never
>;

/** @socket.io/component-emitter's typed emitter. */
declare class Emitter<ListenEvents extends EventsMap, EmitEvents extends EventsMap, ReservedEvents extends EventsMap = {}> {
  on<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  addEventListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  once<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  off<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  removeListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  removeEventListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  removeAllListeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(ev?: Ev): this;
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): this;
  listeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[];
  hasListeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(ev: Ev): boolean;
}

/** An Error from resocket: `type` is a stable code. */
export interface ExtendedError extends Error {
  /**
   * "TransportError" | "TimeoutError" | "ParseError" (connection failures),
   * "ServerRefused" (a middleware's `next(err)`), "AuthError" (the `auth` function
   * failed: the error is the one it threw), "DisconnectedError" (acks), "WasmTrap" (the
   * WebAssembly module stopped: this client is dead, create a new one), ...
   */
  type?: string;
  /** For "WasmTrap": what the WebAssembly module threw (a `WebAssembly.RuntimeError`). */
  cause?: unknown;
  /** For "ServerRefused": the `data` the server's middleware attached to its error. */
  data?: any;
}

export type DisconnectDescription = Error | { description: string; context?: unknown };

export interface SocketOptions {
  /**
   * The CONNECT payload, read again before every connect and reconnect: an object, a
   * function calling back with one, or a function returning (a Promise of) one.
   */
  auth?: { [key: string]: any } | ((cb: (data: object) => void) => void | object | Promise<object | null | undefined>);
  /** At-least-once emits: how many times a packet without an ack is sent again. */
  retries?: number;
  /**
   * Exactly-once emits, with `exactlyOnce()` of `resocket/server` on the server: every
   * emit (not volatile ones) reaches the server's handlers once, across resends, cut
   * transports and new sessions. Implies `retries` (unlimited unless set) and an
   * `ackTimeout` of 10 s unless set; callbacks take an error first. Without the helper
   * on the server, "connect_error" with an `ExactlyOnceError`. @default false
   */
  exactlyOnce?: boolean;
  /**
   * The emits this socket keeps (offline, or unacknowledged with `retries`) are also
   * written to IndexedDB: after a reload or a crash, the first socket made for the same
   * servers and namespace (with this option, in any page of the origin) sends them
   * first, once, in order, and fires "queue_restored". Needs `import "resocket/persist"`
   * once in the app (else a TypeError). @default false
   */
  persistQueue?: boolean;
  /**
   * One connection for every page (tab, window, iframe) of the origin that asks for the
   * same servers and namespace with this option. One page holds it (a Web Lock elects
   * it) and relays over a BroadcastChannel; each page's socket gets every event, its own
   * acks and its own `disconnect()`. When that page closes, crashes or disconnects,
   * another takes the session over at once (recovered, with connection state recovery
   * on the server). Needs Web Locks and BroadcastChannel (a secure context); without
   * them the page keeps a connection of its own and the error is reported. Not with
   * `exactlyOnce` or `persistQueue` (a TypeError). Needs `import "resocket/share"` once
   * in the app (else a TypeError).
   * @default false
   */
  shareAcrossTabs?: boolean;
  /** Default timeout (ms) of acknowledgements; with it, ack callbacks take an error first. */
  ackTimeout?: number;
  /** Most emits kept while disconnected (each one dropped is reported by "emit_dropped"). @default 1000 */
  maxQueue?: number;
  /** Oldest (ms) an emit may get while waiting for a connection; Infinity: no limit. @default 300000 */
  maxQueueAge?: number;
  /** Which emit a full queue drops. @default "drop-oldest" */
  queueOverflow?: "drop-oldest" | "drop-newest";
  /**
   * Events the server sends with `volatile`: with connection state recovery, their last
   * string argument is never taken for the server's offset. @default []
   */
  volatileEvents?: string[];
}

/** What the client accepts from a server; beyond a limit, a protocol error and a reconnection. */
export interface IncomingLimits {
  /** One WebSocket frame, text or binary, in bytes. @default 33554432 (32 MiB) */
  frameBytes?: number;
  /** Binary attachments announced by one packet. @default 1000 */
  attachments?: number;
  /** The attachments of one packet together, in bytes. @default 67108864 (64 MiB) */
  attachmentBytes?: number;
  /** Events held while a namespace waits for its CONNECT reply (a recovery replay). @default 10000 */
  earlyEvents?: number;
  /** Those events together, in bytes. @default 67108864 (64 MiB) */
  earlyBytes?: number;
}

/** Why an emit never reached the server. */
export type DropReason = "overflow" | "expired" | "cleared" | "unacknowledged" | "too-large" | "unreadable";

export interface ManagerOptions {
  /** A new Manager (connection) even if one to this server exists. @default false */
  forceNew: boolean;
  /** Share one connection per server between namespaces. @default true */
  multiplex: boolean;
  /** @default "/socket.io" */
  path: string;
  /** Add a trailing slash to the path. @default true */
  addTrailingSlash: boolean;
  /** Added to the connection URL's query (with the URL's own query). */
  query: { [key: string]: any } | string;
  /** @default true */
  reconnection: boolean;
  /** Failed attempts before "reconnect_failed"; Infinity or -1: forever; 0: never. @default Infinity */
  reconnectionAttempts: number;
  /** @default 1000 */
  reconnectionDelay: number;
  /** @default 5000 */
  reconnectionDelayMax: number;
  /** Jitter, 0..1, applied after the cap. @default 0.5 */
  randomizationFactor: number;
  /** Handshake timeout in ms (open + CONNECT reply); `false`: none. @default 20000 */
  timeout: number | false;
  /** @default true */
  autoConnect: boolean;
  /** What the client accepts from the server (resocket's own). */
  limits: IncomingLimits;

  /** The transports, in order: the connection opens with the first and may upgrade to a later one. @default ["polling", "websocket"] */
  transports: Array<"polling" | "websocket" | "webtransport" | TransportExport>;
  /** Whether a connection opened with polling moves to WebSocket. @default true */
  upgrade: boolean;
  /** After a WebSocket worked, open the next connections with it directly. @default false */
  rememberUpgrade: boolean;
  /** When the first transport cannot open, try the next ones. @default false */
  tryAllTransports: boolean;
  /** Send cookies on cross-origin polling requests. @default false */
  withCredentials: boolean;
  /** A cache-busting parameter on each request (default: polling requests only). */
  timestampRequests: boolean;
  /** @default "t" */
  timestampParam: string;
  /** Milliseconds after which a polling request fails; 0: none. @default 0 */
  requestTimeout: number;
  /** `polling.extraHeaders` and `polling.withCredentials` are read; the rest is ignored. */
  transportOptions: { polling?: { extraHeaders?: { [header: string]: string }; withCredentials?: boolean } };
  /** The WebSocket subprotocols. */
  protocols: string | string[];
  /** Without a URL: the server's host, port and scheme (default: the page's). */
  hostname: string;
  port: string | number;
  secure: boolean;
  /** Accepted and ignored. */
  closeOnBeforeunload: boolean;
  forceBase64: boolean;
  useNativeTimers: boolean;
  autoUnref: boolean;

  /** Sent with every polling request; a browser WebSocket cannot send custom headers (as with socket.io-client, they are not sent there). */
  extraHeaders: { [header: string]: string };
  /** Not supported: only the default parser exists (throws a TypeError). */
  parser: never;
}

export interface SocketReservedEvents {
  connect: () => void;
  connect_error: (err: ExtendedError) => void;
  disconnect: (reason: Socket.DisconnectReason, description?: DisconnectDescription) => void;
  /** The manager's reconnection events, also emitted by each of its sockets. */
  reconnect_attempt: (attempt: number) => void;
  reconnect: (attempt: number) => void;
  reconnect_error: (err: ExtendedError) => void;
  reconnect_failed: () => void;
  /** An emit that never reached the server, as `[event, ...args]`, and why. */
  emit_dropped: (reason: DropReason, packet: any[]) => void;
  /** persistQueue: the emits of a page gone before they went out, as `[event, ...args]` arrays, about to be sent (their acks did not survive). */
  queue_restored: (emits: any[][]) => void;
}

export interface ManagerReservedEvents {
  open: () => void;
  error: (err: ExtendedError) => void;
  ping: () => void;
  /** Each Socket.IO packet received: `{ type, nsp, id?, data? }` (binary attachments stay placeholders). */
  packet: (packet: { type: number; nsp: string; id?: number; data?: any }) => void;
  close: (reason: string, description?: DisconnectDescription) => void;
  reconnect_failed: () => void;
  reconnect_attempt: (attempt: number) => void;
  reconnect_error: (err: ExtendedError) => void;
  reconnect: (attempt: number) => void;
  /** Open on another server of the failover list than the last time. */
  failover: (uri: string, previous: string) => void;
}

type PrependTimeoutError<T extends any[]> = {
  [K in keyof T]: T[K] extends (...args: infer Params) => infer Result ? (err: Error, ...args: Params) => Result : T[K];
};

/** Ack callbacks take an error first once a timeout is set. */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result ? (...args: PrependTimeoutError<Params>) => Result : E[K];
};

export type Last<T extends any[]> = T extends [...infer H, infer L] ? L : any;
export type AllButLast<T extends any[]> = T extends [...infer H, infer L] ? H : any[];
export type FirstArg<T> = T extends (arg: infer Param) => infer Result ? Param : any;

/** socket.io-client's transport exports, usable in `transports`. */
export interface TransportExport {
  readonly name: "polling" | "websocket" | "webtransport";
}
export declare const WebSocket: TransportExport;
export declare const Polling: TransportExport;
export declare const XHR: TransportExport;
export declare const Fetch: TransportExport;
export declare const NodeXHR: TransportExport;
export declare const NodeWebSocket: TransportExport;
export declare const WebTransport: TransportExport;
export declare const transports: { websocket: TransportExport; polling: TransportExport; webtransport: TransportExport };

/** socket.io-client's `socket.io.engine`: events "open", "close", "upgrade", "upgradeError", "packet" and "packetCreate" (`{ type, data }`), "drain". */
export interface Engine extends Emitter<DefaultEventsMap, DefaultEventsMap> {
  /** The transport of the open connection (`null` before the first). */
  readonly transport: { readonly name: "polling" | "websocket" } | null;
  readonly readyState: "open" | "closed";
  /** The Engine.IO session id while a connection is open, else `null`. */
  readonly id: string | null;
  /** Drops the transport as a network failure would: the sockets reconnect (and may recover). */
  close(): void;
}

export declare class Manager<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends Emitter<{}, {}, ManagerReservedEvents> {
  /** `undefined` until the Manager first starts connecting (as socket.io-client's). */
  readonly engine: Engine;
  /** The options given, without `auth`: credentials live on the socket only (`socket.auth`). */
  opts: Partial<ManagerOptions>;
  /** The server's URL the connection is on, or tries next (one of a failover list). */
  readonly uri: string;
  constructor(opts?: Partial<ManagerOptions>);
  /** A list of URLs is a failover list: each failed attempt moves to the next. */
  constructor(uri?: string | URL | (string | URL)[], opts?: Partial<ManagerOptions>);
  reconnection(v: boolean): this;
  reconnection(): boolean;
  reconnectionAttempts(v: number): this;
  reconnectionAttempts(): number;
  reconnectionDelay(v: number): this;
  reconnectionDelay(): number;
  reconnectionDelayMax(v: number): this;
  reconnectionDelayMax(): number;
  randomizationFactor(v: number): this;
  randomizationFactor(): number;
  timeout(v: number | false): this;
  timeout(): number | false;
  /** Connects the active sockets; `fn` hears about the next "open" or "error". */
  open(fn?: (err?: Error) => void): this;
  connect(fn?: (err?: Error) => void): this;
  socket(nsp: string, opts?: Partial<SocketOptions>): Socket;
  /** Disconnects every socket of this manager. */
  disconnect(): void;
  _close(): void;
}

export declare class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends Emitter<ListenEvents, EmitEvents, SocketReservedEvents> {
  readonly io: Manager<ListenEvents, EmitEvents>;
  /** The namespace. */
  readonly nsp: string;
  /** The session id; `undefined` while not connected. */
  readonly id: string | undefined;
  readonly connected: boolean;
  readonly disconnected: boolean;
  /** Whether the socket wants a connection (and reconnects by itself). */
  readonly active: boolean;
  /** Whether the last connection recovered the previous session (connection state recovery). */
  readonly recovered: boolean;
  /** With `shareAcrossTabs`: whether this page holds the shared connection (`undefined` without the option). */
  readonly leading?: boolean;
  /** The CONNECT payload (read again before every connect). */
  auth: SocketOptions["auth"];
  constructor(io: Manager, nsp: string, opts?: Partial<SocketOptions>);
  connect(): this;
  open(): this;
  disconnect(): this;
  close(): this;
  send(...args: any[]): this;
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): this;
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstArg<Last<EventParams<EmitEvents, Ev>>>>;
  /**
   * Declares an emit that restores server-side state (a room join, a subscription): sent
   * now if connected, and again after every (re)connection that did not recover the
   * session, in declaration order, before the emits queued offline. Returns a function
   * that stops re-sending it.
   */
  rejoin<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): () => void;
  /** The emits waiting for a connection, oldest first, as `[event, ...args]`. */
  /** Assigning `[]` drops the queue (each emit reported by "emit_dropped", as clearQueue()). */
  sendBuffer: any[][];
  /** Drops every emit waiting for a connection (each reported by "emit_dropped"). */
  clearQueue(): this;
  /** Accepted for compatibility (no effect). */
  compress(compress: boolean): this;
  /** The next emit is dropped if the socket is not connected (never buffered). */
  readonly volatile: this;
  /** The next emit's ack callback gets an error first if no answer came within `timeout` ms. */
  timeout(timeout: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
  onAny(listener: (...args: any[]) => void): this;
  prependAny(listener: (...args: any[]) => void): this;
  offAny(listener?: (...args: any[]) => void): this;
  listenersAny(): ((...args: any[]) => void)[];
  onAnyOutgoing(listener: (...args: any[]) => void): this;
  prependAnyOutgoing(listener: (...args: any[]) => void): this;
  offAnyOutgoing(listener?: (...args: any[]) => void): this;
  listenersAnyOutgoing(): ((...args: any[]) => void)[];
}

export declare namespace Socket {
  type DisconnectReason =
    | "io server disconnect"
    | "io client disconnect"
    | "ping timeout"
    | "transport close"
    | "transport error"
    | "parse error"
    /** The app closed the connection (`socket.io.engine.close()`). */
    | "forced close";
}

/** A list of URLs (of one namespace) is a failover list: each failed attempt moves to the next. */
declare function lookup(uri?: string | URL | (string | URL)[], opts?: Partial<ManagerOptions & SocketOptions>): Socket;
declare function lookup(opts?: Partial<ManagerOptions & SocketOptions>): Socket;

/** Socket.IO protocol version. */
export declare const protocol: 5;

/**
 * Diagnostics: the wasm linear memory, in bytes, and how many connections (Managers) are
 * alive in it, of the instance new clients run on (a fresh one after a "WasmTrap").
 */
export declare function stats(): { wasmMemoryBytes: number; connections: number };

export { lookup as io, lookup as connect, lookup as default };
