// Keys of the logged-in member, kept as non-extractable CryptoKeys in IndexedDB so that page
// changes do not ask for the password again. Cleared at login and logout.

const DB = "sprechzimmer-keys";
const STORE = "keys";

function database() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

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

export const get = (name) => run("readonly", (s) => s.get(name));
export const put = (name, value) => run("readwrite", (s) => s.put(value, name));
export const remove = (name) => run("readwrite", (s) => s.delete(name));
export const clear = () => run("readwrite", (s) => s.clear());
