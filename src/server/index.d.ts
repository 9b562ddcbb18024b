// Types of resocket/server (./index.js): the server half of exactly-once emits. Owns
// the declarations of that module only; the client's API is ../api/js/index.d.ts.
// Needs socket.io's own types (the app that uses this has socket.io installed).
import type { Namespace, Server } from "socket.io";

/** What a store knows of an emit, by (namespace, client, seq). */
export type Claim =
  /** Never seen (or forgotten): it is now claimed, pending; the handler is to run. */
  | { status: "new" }
  /** Seen and answered: this is the handler's reply (`[]` when none was asked for). */
  | { status: "done"; reply: unknown[] }
  /** Seen, not answered yet: claimed at `at` (ms since the epoch). */
  | { status: "pending"; at: number }
  /** Older than the last emit seen of that client. */
  | { status: "stale" };

/**
 * Where the last emit of each (namespace, client) is kept. Every method is async: the
 * helper waits for `claim` before it hands a packet on, so every event of a socket
 * waits, in order, for the store's answers on the exactly-once emits before it.
 */
export interface ExactlyOnceStore {
  /** Claims `seq` if it is newer than the last one seen of the client, else says what it is. */
  claim(nsp: string, client: string, seq: number, now: number): Promise<Claim>;
  /** Records the reply of the pending claim of `seq`; does nothing if there is none. */
  finish(nsp: string, client: string, seq: number, reply: unknown[]): Promise<void>;
  /** Drops the pending claim of `seq` (its socket closed before the event was handed on). */
  release(nsp: string, client: string, seq: number): Promise<void>;
}

export interface ExactlyOnceOptions {
  /** Default: `memoryStore({ ttl, maxClients })`; `redisStore()` for several nodes. */
  store?: ExactlyOnceStore;
  /** For the default store (not with `store`): ms an idle client is remembered. Default 6 h. */
  ttl?: number;
  /** For the default store (not with `store`): clients remembered at most. Default 50 000. */
  maxClients?: number;
  /**
   * Ms after which a copy of an emit whose handler has not answered is acknowledged with
   * no arguments (and the emit counts as done). Default 30 000.
   */
  pendingTimeout?: number;
}

/**
 * Attaches the helper to a Server (every namespace, present and future) or a Namespace,
 * at once (not as `io.use()` middleware, which connection state recovery may skip).
 * Returns the function that detaches it.
 */
export function exactlyOnce(target: Server<any, any, any, any> | Namespace<any, any, any, any>, options?: ExactlyOnceOptions): () => void;

/**
 * In this process's memory (one node). At most `maxClients` entries (default 50 000),
 * each idle for at most `ttl` ms (default 6 h): about maxClients × (300 bytes + client id
 * + namespace + the JSON of the largest reply, binary as base64) of memory.
 */
export function memoryStore(options?: { ttl?: number; maxClients?: number }): ExactlyOnceStore;

/** What redisStore uses of a node-redis v4 client (`createClient()`, connected). */
export interface RedisEvalClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** In Redis, shared by every node on the same Redis and prefix (default "resocket:eo:"); keys expire `ttl` ms (default 6 h) after their last use. */
export function redisStore(client: RedisEvalClient, options?: { prefix?: string; ttl?: number }): ExactlyOnceStore;
