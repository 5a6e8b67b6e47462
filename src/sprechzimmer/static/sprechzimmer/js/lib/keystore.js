// @ts-check
// Keys of the logged-in member, kept as non-extractable CryptoKeys in IndexedDB so that page
// changes do not ask for the password again. Cleared at login and logout.

const DB = "sprechzimmer-keys";
const STORE = "keys";

/** @returns {Promise<IDBDatabase>} */
function database() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * One transaction on the store; resolves with the request's result once the transaction is
 * complete (so a put is on disk before the caller goes on).
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest} fn
 * @returns {Promise<any>}
 */
async function run(mode, fn) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req && req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/**
 * What is stored: the key-wrapping key between login and the first unlock ("kek"), then the
 * unwrapped private key ("private") and practice key ("practice") with the user they belong to.
 * @typedef {"kek" | "private" | "practice"} Name
 */

/** @type {(name: Name) => Promise<any>} undefined when nothing is stored under the name */
export const get = (name) => run("readonly", (s) => s.get(name));
/** @type {(name: Name, value: unknown) => Promise<void>} */
export const put = (name, value) => run("readwrite", (s) => s.put(value, name));
/** @type {(name: Name) => Promise<void>} */
export const remove = (name) => run("readwrite", (s) => s.delete(name));
/** @type {() => Promise<void>} */
export const clear = () => run("readwrite", (s) => s.clear());
/**
 * Stores `value` under `name` and deletes `gone` in one transaction: both happen or neither, so a
 * page left in between (a click on a link) cannot keep the key-wrapping key beside the key it opened.
 * @type {(name: Name, value: unknown, gone: Name) => Promise<void>}
 */
export const replace = (name, value, gone) =>
  run("readwrite", (s) => {
    s.delete(gone);
    return s.put(value, name);
  });
