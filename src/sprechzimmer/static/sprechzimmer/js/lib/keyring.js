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
 */

/**
 * The unlocked practice key, as kept in the key store for the member who unlocked it.
 * @typedef {object} PracticeKey
 * @property {CryptoKey} key AES-256-GCM, not extractable
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
  if (cached && cached.userId === currentUserId()) return cached;
  /** @type {MemberKeys} */
  const keys = await getJson("/api/schluessel/");
  if (!keys.wrapped_practice_key) {
    throw new KeyringError(
      "Sie haben noch keinen Zugriff auf die verschlüsselten Praxisdaten. Ein Kollege Ihrer Praxis muss " +
        "Ihnen den Praxisschlüssel freigeben (Seite „Mitglieder“).",
    );
  }
  const raw = await e2ee.unwrapFromPublicKey(keys.wrapped_practice_key, await privateKey(keys), keys.public_key);
  /** @type {PracticeKey} */
  const entry = { userId: String(keys.user_id), organisationId: keys.organisation_id, key: await e2ee.importPracticeKey(raw) };
  await keystore.put("practice", entry);
  return entry;
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
  await request("POST", "/api/schluessel/freigaben/", {
    member_id: member.id,
    public_key: member.public_key,
    wrapped_practice_key: await wrapPracticeKeyFor(member.public_key),
  });
}

/**
 * Wraps the practice key to an encrypting API client's public key (docs/api.md) and stores it:
 * the same ECIES wrap as for a colleague, granted by the main user after comparing fingerprints.
 * @param {string} url the client's grant address (from the page)
 * @param {string} publicKey the client's public key as the page showed it
 */
export async function grantClient(url, publicKey) {
  await request("POST", url, { public_key: publicKey, wrapped_practice_key: await wrapPracticeKeyFor(publicKey) });
}

/**
 * The practice key wrapped to someone else's public key (ECIES), opened with this member's keys.
 * @param {string} publicKey SPKI, base64url
 * @returns {Promise<string>} envelope
 */
async function wrapPracticeKeyFor(publicKey) {
  /** @type {MemberKeys} */
  const keys = await getJson("/api/schluessel/");
  if (!keys.wrapped_practice_key) throw new KeyringError("Sie haben selbst keinen Zugriff auf den Praxisschlüssel.");
  const raw = await e2ee.unwrapFromPublicKey(keys.wrapped_practice_key, await privateKey(keys), keys.public_key);
  try {
    return await e2ee.wrapToPublicKey(raw, publicKey);
  } finally {
    raw.fill(0);
  }
}

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
  const { key, organisationId } = await practiceKey();
  const context = `${PRACTICE_PAIR_CONTEXT}/${organisationId}`;
  /** @type {{public_key: string | null, wrapped_private_key: string | null}} */
  let pair = await getJson("/api/praxis/schluesselpaar/");
  if (!pair.public_key) {
    const fresh = await e2ee.generateKeyPair();
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", fresh.privateKey));
    const body = {
      public_key: await e2ee.exportPublicKey(fresh.publicKey),
      wrapped_private_key: await e2ee.encryptRecord(key, context, { pkcs8: e2ee.b64u(pkcs8) }),
    };
    try {
      await request("POST", "/api/praxis/schluesselpaar/", body);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 409) throw error; // a colleague was quicker: use theirs
    }
    pair = await getJson("/api/praxis/schluesselpaar/");
  }
  if (!pair.public_key || !pair.wrapped_private_key) throw new KeyringError("Das Schlüsselpaar der Praxis fehlt. Bitte laden Sie die Seite neu.");
  const { pkcs8 } = await e2ee.decryptRecord(key, context, pair.wrapped_private_key);
  const privateKey = await crypto.subtle.importKey("pkcs8", e2ee.unb64u(pkcs8), { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  return { publicKey: pair.public_key, privateKey };
}

/**
 * Reads a text a patient encrypted to the practice key pair (e.g. the typed name).
 * @param {string} envelope from e2ee.wrapToPublicKey in the patient's browser
 * @param {PracticeKeyPair} pair
 * @returns {Promise<string>}
 */
export async function openFromPatient(envelope, pair) {
  const bytes = await e2ee.unwrapFromPublicKey(envelope, pair.privateKey, pair.publicKey);
  return new TextDecoder().decode(bytes);
}
