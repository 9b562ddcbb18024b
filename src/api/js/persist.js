// persistQueue: the emits a socket keeps (offline, or at-least-once and not yet
// acknowledged) are also written to IndexedDB, so that a reload or a crash of the page
// does not lose them; the first socket made afterwards, in any page of the origin, for
// the same servers and namespace sends them, once. This module owns the database, the
// page's liveness lock and the claim of a gone page's emits. What is kept, sent or
// dropped is the core's (socket.js mirrors it here by count), and when to send is
// socket.js's. Loaded by socket.js only for a socket with the option.
//
// One record per emit, { k: socket key, p: page id, n: number, d: [event, ...args] },
// keyed [k, p, n]: each page writes its own. A page holds the Web Lock "resocket:<page>"
// for its whole life, so the records of a page whose lock is free belong to a page that
// is gone (reloaded, closed, crashed): a restoring page takes those, and only those, in
// one transaction, so two pages restoring at once never both get an emit.

const STORE = "queue";
const PAGE = crypto.randomUUID();
const LOCK = "resocket:";

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

/** The persisted queue of socket key `k` in this page. */
export class Persisted {
  static async open(k) {
    return new Persisted(k, await open());
  }

  constructor(k, db) {
    Object.assign(this, { k, db, first: 1, next: 1 });
  }

  /**
   * Takes the emits of the gone pages for this key, oldest page first, each page's in
   * order, removing them from storage: `[[event, ...args], ...]`.
   */
  async claim() {
    const alive = new Set((await navigator.locks.query()).held.map((lock) => lock.name));
    const tx = this.db.transaction(STORE, "readwrite");
    const taken = [];
    // Every page's records of this key: [k] sorts before [k, p, n], and [k, []] after.
    tx.objectStore(STORE).openCursor(IDBKeyRange.bound([this.k], [this.k, []])).onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      if (!alive.has(LOCK + cursor.value.p)) {
        taken.push(cursor.value.d);
        cursor.delete();
      }
      cursor.continue();
    };
    await done(tx);
    return taken;
  }

  /** Writes `data` as the newest kept emit; the write is under way when this returns. */
  add(data) {
    const tx = this.db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).put({ k: this.k, p: PAGE, n: this.next++, d: data });
    return done(tx);
  }

  /** Keeps the newest `count` emits only: the older ones went for good (sent or dropped). */
  keep(count) {
    const last = this.next - 1 - count;
    if (last < this.first) return;
    const tx = this.db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).delete(IDBKeyRange.bound([this.k, PAGE, this.first], [this.k, PAGE, last]));
    this.first = last + 1;
    return done(tx);
  }
}
