// @ts-check
// The logged-in member's keys: unlock the practice key once per login, grant it to colleagues.
import * as e2ee from "./e2ee.js";
import * as keystore from "./keystore.js";
import { ApiError, getJson, request } from "./api.js";
import { pageMeta } from "./meta.js";

/** A German message for the member: the keys are not there or do not open. */
export class KeyringError extends Error {}

/**
 * GET /api/schluessel/: the member's own key material (accounts/views.py, api_keys).
 * @typedef {object} MemberKeys
 * @property {number} user_id
 * @property {number} organisation_id
 * @property {string} public_key SPKI, base64url
 * @property {string} wrapped_private_key envelope under the password-derived key
 * @property {string | null} wrapped_practice_key envelope to public_key; null until a colleague grants it
 * @property {number | null} practice_key_version the version wrapped_practice_key holds
 * @property {number} key_version the practice's current version: new records are sealed with it
 * @property {{version: number, wrapped_previous: string}[]} keyring each version ≤ ours sealing the one before
 */

/**
 * The unlocked practice key, as kept in the key store for the member who unlocked it.
 * @typedef {object} PracticeKey
 * @property {CryptoKey} key AES-256-GCM, not extractable: the newest version this member holds
 * @property {number} version which version `key` is
 * @property {number} current the practice's current version when the key was loaded
 * @property {Record<number, CryptoKey>} keys every version this member can open, for reading
 * @property {number} organisationId the practice (record contexts name it)
 * @property {string} userId whose key it is: another member's login in this browser does not use it
 */

/**
 * GET /api/schluessel/freigaben/: a member waiting for the practice key.
 * @typedef {object} PendingMember
 * @property {number} id
 * @property {string} name
 * @property {string} email
 * @property {string} role as shown ("Arzt/Ärztin" …)
 * @property {string} public_key SPKI, base64url
 * @property {string} fingerprint of public_key, for comparing by eye
 */

/**
 * The practice's own key pair, unlocked.
 * @typedef {object} PracticeKeyPair
 * @property {string} publicKey SPKI, base64url: what patients' browsers encrypt to
 * @property {CryptoKey} privateKey
 * @property {{public_key: string, wrapped_private_key: string}[]} previous pairs replaced by key
 *   rotations, newest first (their private keys sealed with the version of their time)
 * @property {() => Promise<PracticeKey>} entry the practice key that opens them
 */

function currentUserId() {
  return pageMeta("sz-user");
}

/**
 * @param {MemberKeys} keys
 * @returns {Promise<CryptoKey>}
 */
async function privateKey(keys) {
  const cached = await keystore.get("private");
  if (cached && cached.userId === String(keys.user_id)) return cached.key;
  const kek = await keystore.get("kek");
  if (!kek) {
    throw new KeyringError(
      "Ihre Schlüssel sind in diesem Browser nicht entsperrt. Bitte melden Sie sich ab und erneut an.",
    );
  }
  let key;
  try {
    key = await e2ee.unwrapPrivateKey(keys.wrapped_private_key, kek);
  } catch {
    throw new KeyringError("Ihr privater Schlüssel lässt sich nicht entsperren. Bitte melden Sie sich erneut an.");
  }
  await keystore.replace("private", { userId: String(keys.user_id), key }, "kek");
  return key;
}

/** @type {Promise<PracticeKey> | null} an unlock under way: two modules of one page share it */
let unlocking = null;

/**
 * The practice key for encrypting and decrypting records. Several modules of one page may ask at
 * once (the start page's note and appointments): they share one unlock, which would otherwise
 * race for the key-wrapping key that the first unlock removes.
 * @returns {Promise<PracticeKey>}
 */
export function practiceKey() {
  unlocking ??= loadPracticeKey().finally(() => (unlocking = null));
  return unlocking;
}

/** @returns {Promise<PracticeKey>} */
async function loadPracticeKey() {
  /** @type {PracticeKey | undefined} */
  const cached = await keystore.get("practice");
  // The page names the practice's current key version: after a rotation the cached keys are reloaded.
  const pageVersion = Number(pageMeta("sz-key-version") || 0);
  if (cached && cached.userId === currentUserId() && cached.keys && (!pageVersion || cached.current >= pageVersion)) {
    return cached;
  }
  /** @type {MemberKeys} */
  const keys = await getJson("/api/schluessel/");
  if (!keys.wrapped_practice_key) {
    throw new KeyringError(
      "Sie haben noch keinen Zugriff auf die verschlüsselten Praxisdaten. Ein Kollege Ihrer Praxis muss " +
        "Ihnen den Praxisschlüssel freigeben (Seite „Mitglieder“).",
    );
  }
  const raw = await e2ee.unwrapFromPublicKey(keys.wrapped_practice_key, await privateKey(keys), keys.public_key);
  const version = keys.practice_key_version ?? 1;
  const entry = await openKeyring(raw, version, keys.key_version, keys.organisation_id, keys.keyring, String(keys.user_id));
  await keystore.put("practice", entry);
  return entry;
}

/**
 * Walks the server's chain from the version this member holds back to version 1: each step's key
 * opens the raw key of the version before it (docs/e2ee.md, "Key versions").
 * @param {Uint8Array<ArrayBuffer>} raw the held version's raw key; zeroed here
 * @param {number} version
 * @param {number} current
 * @param {number} organisationId
 * @param {{version: number, wrapped_previous: string}[]} chain
 * @param {string} userId
 * @returns {Promise<PracticeKey>}
 */
async function openKeyring(raw, version, current, organisationId, chain, userId) {
  /** @type {Record<number, CryptoKey>} */
  const keys = {};
  let step = raw;
  try {
    keys[version] = await e2ee.importPracticeKey(step);
    for (let v = version; v > 1; v--) {
      const link = chain.find((entry) => entry.version === v);
      if (!link) throw new KeyringError("Die Schlüsselkette der Praxis ist unvollständig. Bitte laden Sie die Seite neu.");
      const previous = await e2ee.openPreviousKey(keys[v], link.wrapped_previous, organisationId, v - 1);
      step.fill(0);
      step = previous;
      keys[v - 1] = await e2ee.importPracticeKey(step);
    }
  } finally {
    step.fill(0);
  }
  return { userId, organisationId, version, current, key: keys[version], keys };
}

/**
 * Refuses to seal anything with a version older than the practice's current one (the server would
 * refuse it too), with the German message that says what to do.
 * @param {PracticeKey} entry
 */
function mustHoldCurrent(entry) {
  if (entry.version < entry.current) {
    throw new KeyringError(
      "Die Praxis hat ihren Schlüssel gewechselt; Sie haben die neue Version noch nicht. Ein Kollege muss Ihnen " +
        "den Zugriff erneut freigeben (Seite „Mitglieder“).",
    );
  }
}

/**
 * Seals a record with the practice key's current version (the server refuses older ones).
 * @param {PracticeKey} entry
 * @param {string} context from e2ee.recordContext
 * @param {unknown} value
 * @returns {Promise<string>} envelope
 */
export function sealRecord(entry, context, value) {
  mustHoldCurrent(entry);
  return e2ee.encryptRecord(entry.key, context, value, entry.version);
}

/**
 * Opens a record with whichever version sealed it.
 * @param {PracticeKey} entry
 * @param {string} context
 * @param {string | import("./e2ee.js").Envelope} envelope
 * @returns {Promise<any>}
 */
export function openRecord(entry, context, envelope) {
  const key = entry.keys[e2ee.envelopeKid(envelope)];
  if (!key) throw new KeyringError("Dieser Eintrag ist mit einer Version des Praxisschlüssels verschlüsselt, die Sie nicht haben.");
  return e2ee.decryptRecord(key, context, envelope);
}

/**
 * Members waiting for the practice key, each with the fingerprint of their public key.
 * @returns {Promise<PendingMember[]>}
 */
export async function pendingGrants() {
  return (await getJson("/api/schluessel/freigaben/")).members;
}

/**
 * Wraps the practice key to one waiting member's public key and stores it on the server.
 * @param {PendingMember} member
 */
export async function grant(member) {
  const { wrapped, version } = await wrapPracticeKeyFor(member.public_key);
  await request("POST", "/api/schluessel/freigaben/", {
    member_id: member.id,
    public_key: member.public_key,
    wrapped_practice_key: wrapped,
    key_version: version,
  });
}

/**
 * Wraps the practice key to an encrypting API client's public key (docs/api.md) and stores it:
 * the same ECIES wrap as for a colleague, granted by the main user after comparing fingerprints.
 * @param {string} url the client's grant address (from the page)
 * @param {string} publicKey the client's public key as the page showed it
 */
export async function grantClient(url, publicKey) {
  const { wrapped, version } = await wrapPracticeKeyFor(publicKey);
  await request("POST", url, { public_key: publicKey, wrapped_practice_key: wrapped, key_version: version });
}

/**
 * The practice key's current version wrapped to someone else's public key (ECIES), opened with
 * this member's keys.
 * @param {string} publicKey SPKI, base64url
 * @returns {Promise<{wrapped: string, version: number}>} envelope and the version it holds
 */
async function wrapPracticeKeyFor(publicKey) {
  return withCurrentRaw(async (raw, keys) => ({ wrapped: await e2ee.wrapToPublicKey(raw, publicKey), version: keys.key_version }));
}

/**
 * Runs `use` with the raw bytes of the practice key's current version, zeroed afterwards; for
 * wrapping it to someone (grant, rotation, recovery).
 * @template T
 * @param {(raw: Uint8Array<ArrayBuffer>, keys: MemberKeys) => Promise<T>} use
 * @returns {Promise<T>}
 */
export async function withCurrentRaw(use) {
  /** @type {MemberKeys} */
  const keys = await getJson("/api/schluessel/");
  if (!keys.wrapped_practice_key || (keys.practice_key_version ?? 1) !== keys.key_version) {
    throw new KeyringError("Sie haben selbst keinen Zugriff auf den aktuellen Praxisschlüssel.");
  }
  const raw = await e2ee.unwrapFromPublicKey(keys.wrapped_practice_key, await privateKey(keys), keys.public_key);
  try {
    return await use(raw, keys);
  } finally {
    raw.fill(0);
  }
}

/** Drops the unlocked practice key from this browser's store: the next practiceKey() loads it anew. */
export const reloadPracticeKey = () => keystore.remove("practice");

export const forget = () => keystore.clear();

/**
 * Locks the keys away (lock screen, docs/e2ee.md): the private key, the practice key and any
 * key-wrapping key leave the browser's key store, and the server holds the session on the lock
 * page until unlock() succeeds.
 */
export async function lock() {
  await keystore.clear();
  await request("POST", "/api/sperren/", {});
}

/**
 * Unlocks after the lock screen with the typed password, derived as at login: the server checks
 * the authentication secret (a wrong password throws ApiError with its German message), then the
 * key-wrapping key opens the private key and the practice key again.
 * @param {string} email
 * @param {string} password
 */
export async function unlock(email, password) {
  const { authSecret, kek } = await e2ee.deriveLoginSecrets(email, password);
  await request("POST", "/api/entsperren/", { secret: authSecret });
  await keystore.clear();
  await keystore.put("kek", kek);
  try {
    await practiceKey();
  } catch (error) {
    // A member still waiting for the practice key is unlocked all the same (as after login).
    if (!(error instanceof KeyringError)) throw error;
  }
}

const PRACTICE_PAIR_CONTEXT = "sprechzimmer/v1/practice-private-key";

/**
 * The practice's own ECDH key pair, made by the first member's browser that needs it: patients
 * encrypt what they type (their name) to its public key; its private key is sealed with the
 * practice key, so only members can read it.
 * @returns {Promise<PracticeKeyPair>}
 */
export async function practiceKeyPair() {
  const entry = await practiceKey();
  /** @type {{public_key: string | null, wrapped_private_key: string | null}} */
  /** @type {{public_key: string | null, wrapped_private_key: string | null, previous?: {public_key: string, wrapped_private_key: string}[]}} */
  let pair = await getJson("/api/praxis/schluesselpaar/");
  if (!pair.public_key) {
    mustHoldCurrent(entry);
    const body = await newPracticePair(entry.key, entry.version, entry.organisationId);
    try {
      await request("POST", "/api/praxis/schluesselpaar/", body);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 409) throw error; // a colleague was quicker: use theirs
    }
    pair = await getJson("/api/praxis/schluesselpaar/");
  }
  if (!pair.public_key || !pair.wrapped_private_key) throw new KeyringError("Das Schlüsselpaar der Praxis fehlt. Bitte laden Sie die Seite neu.");
  return {
    publicKey: pair.public_key,
    privateKey: await openPairKey(entry, pair.wrapped_private_key),
    previous: pair.previous ?? [],
    entry: practiceKey,
  };
}

/**
 * The private key of a practice key pair, opened with whichever version sealed it.
 * @param {PracticeKey} entry
 * @param {string} wrapped
 * @returns {Promise<CryptoKey>}
 */
async function openPairKey(entry, wrapped) {
  const { pkcs8 } = await openRecord(entry, `${PRACTICE_PAIR_CONTEXT}/${entry.organisationId}`, wrapped);
  return crypto.subtle.importKey("pkcs8", e2ee.unb64u(pkcs8), { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
}

/**
 * A fresh key pair for what patients type, its private key sealed with `key` as version `kid`: at
 * the practice's first need, and with every key rotation (lib/rotation.js), so that someone who
 * kept an old practice key cannot open what patients type afterwards.
 * @param {CryptoKey} key the practice key version that seals the private key
 * @param {number} kid its number
 * @param {number} organisationId
 * @returns {Promise<{public_key: string, wrapped_private_key: string}>}
 */
export async function newPracticePair(key, kid, organisationId) {
  const fresh = await e2ee.generateKeyPair();
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", fresh.privateKey));
  try {
    return {
      public_key: await e2ee.exportPublicKey(fresh.publicKey),
      wrapped_private_key: await e2ee.encryptRecord(key, `${PRACTICE_PAIR_CONTEXT}/${organisationId}`, { pkcs8: e2ee.b64u(pkcs8) }, kid),
    };
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * Reads a text a patient encrypted to the practice key pair (e.g. the typed name); one sealed
 * to a pair a key rotation has since replaced opens with that pair.
 * @param {string} envelope from e2ee.wrapToPublicKey in the patient's browser
 * @param {PracticeKeyPair} pair
 * @returns {Promise<string>}
 */
export async function openFromPatient(envelope, pair) {
  try {
    return new TextDecoder().decode(await e2ee.unwrapFromPublicKey(envelope, pair.privateKey, pair.publicKey));
  } catch (error) {
    if (!pair.previous.length) throw error;
    const entry = await pair.entry();
    for (const old of pair.previous) {
      try {
        const privateKey = await openPairKey(entry, old.wrapped_private_key);
        return new TextDecoder().decode(await e2ee.unwrapFromPublicKey(envelope, privateKey, old.public_key));
      } catch {
        // sealed to another pair: try the next
      }
    }
    throw error;
  }
}
