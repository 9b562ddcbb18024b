// persistQueue: the emits a socket keeps (offline, or at-least-once and not yet
// acknowledged) are also written to IndexedDB, so that a reload or a crash of the page
// does not lose them; the first socket made afterwards, in any page of the origin, for
// the same servers and namespace sends them, once. This module owns the database, the
// page's liveness lock and the claim of a gone page's emits. What is kept, sent or
// dropped is the core's (socket.js mirrors it here by count), and when to send is
// socket.js's. An app enables the option by importing this module ("resocket/persist"),
// which registers it in features.js.
//
// One record per emit, { k: socket key, p: "<page>/<socket>", n: number, d: [event,
// ...args] }, keyed [k, p, n]: each socket of each page writes its own. A page holds the
// Web Lock "resocket:<page>" for its whole life, so the records of a page whose lock is
// free belong to a page that is gone (reloaded, closed, crashed): a restoring socket
// takes those, and only those, in one transaction, so two pages restoring at once never
// both get an emit.

import { report } from "./emitter.js";
import { features } from "./features.js";

const STORE = "queue";
const PAGE = crypto.randomUUID();
const LOCK = "resocket:";
let sockets = 0;

let ready;
// The database, once this page holds its lock (no record of it exists before).
const open = () =>
  (ready ??= new Promise((held, fail) => {
    if (!globalThis.navigator?.locks || !globalThis.indexedDB) return fail(new Error("resocket: persistQueue needs IndexedDB and Web Locks (a secure context)"));
    // Held until the page goes: the promise given to the lock never settles.
    navigator.locks.request(LOCK + PAGE, () => (held(), new Promise(() => {}))).catch(fail);
  }).then(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open("resocket", 1);
        request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: ["k", "p", "n"] });
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      }),
  ));

const done = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = tx.onabort = () => reject(tx.error);
  });

// Every record of socket key `k` (all pages), or of one writer `p` of it: arrays sort
// after strings, so [k, []] and [k, p, []] close the ranges.
const all = (k) => IDBKeyRange.bound([k], [k, []]);
const writer = (k, p) => IDBKeyRange.bound([k, p], [k, p, []]);

/** The persisted queue of socket key `k`, written by one socket of this page. */
export class Persisted {
  static async open(k) {
    return new Persisted(k, await open());
  }

  constructor(k, db) {
    Object.assign(this, { k, db, p: `${PAGE}/${++sockets}`, first: 1, next: 1, tx: null });
  }

  /**
   * Takes the emits of the gone pages for this key, removing them from storage:
   * `[[event, ...args], ...]`, each writer's in order.
   */
  async claim() {
    const alive = new Set((await navigator.locks.query()).held.map((lock) => lock.name));
    const tx = this.db.transaction(STORE, "readwrite");
    const store = tx.objectStore(STORE);
    const taken = [];
    store.getAll(all(this.k)).onsuccess = (event) => {
      const gone = new Set();
      for (const record of event.target.result) {
        if (alive.has(LOCK + record.p.split("/")[0])) continue;
        taken.push(record.d);
        gone.add(record.p);
      }
      for (const p of gone) store.delete(writer(this.k, p));
    };
    await done(tx);
    return taken;
  }

  // Runs `write` on the store in one transaction for the writes of the current task
  // (IndexedDB commits it once the task is over, and before any transaction made later);
  // a failed transaction is reported once.
  _write(write) {
    if (this.tx) {
      try {
        return write(this.tx.objectStore(STORE));
      } catch (err) {
        // The task it was made in is over after all: a new one.
        if (err.name != "TransactionInactiveError") throw err;
      }
    }
    const tx = (this.tx = this.db.transaction(STORE, "readwrite"));
    queueMicrotask(() => this.tx === tx && (this.tx = null));
    done(tx).catch(report);
    write(tx.objectStore(STORE));
  }

  /**
   * Writes `data` as the newest kept emit: the write is issued when this returns. Throws
   * what IndexedDB throws for a value it cannot store.
   */
  add(data) {
    const record = { k: this.k, p: this.p, n: this.next, d: data };
    this._write((store) => store.put(record));
    this.next += 1;
  }

  /** Keeps the newest `count` emits only: the older ones went for good (sent or dropped). */
  keep(count) {
    const last = this.next - 1 - count;
    if (last < this.first) return;
    const gone = IDBKeyRange.bound([this.k, this.p, this.first], [this.k, this.p, last]);
    this._write((store) => store.delete(gone));
    this.first = last + 1;
  }
}

features.persist = Persisted;
