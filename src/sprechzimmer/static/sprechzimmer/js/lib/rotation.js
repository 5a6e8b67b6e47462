// @ts-check
// Practice key rotation (docs/e2ee.md, "Key versions and rotation"): this browser makes the next
// version, wraps it to every member who keeps access, seals the previous version with it, and then
// re-encrypts the records still sealed with an older version. No DOM: the page shows progress
// through the onprogress callback.
import * as e2ee from "./e2ee.js";
import { ApiError, getJson, request } from "./api.js";
import { KeyringError, newPracticePair, openRecord, practiceKey, reloadPracticeKey, sealRecord, withCurrentRaw } from "./keyring.js";

const ROTATION_URL = "/api/schluessel/wechsel/";
const REENCRYPT_URL = "/api/schluessel/umschluesseln/";

/**
 * GET /api/schluessel/wechsel/: whom the next version goes to, and what is left to re-encrypt.
 * @typedef {object} RotationState
 * @property {number} key_version the current version
 * @property {{id: number, name: string, public_key: string}[]} members active members holding the key
 * @property {{id: number, name: string, public_key: string}[]} clients granted encrypting API clients
 * @property {number} stale records still sealed with an older version
 * @property {string | null} recovery_public_key the recovery key pair's; null until it is set up
 * @property {string | null} recovery_wrapped_key the old symmetric recovery wrap while there is no pair
 * @property {boolean} key_pair the practice has a key pair for patients' text (a new one comes with the version)
 */

/** @returns {Promise<RotationState>} */
export const rotationState = () => getJson(ROTATION_URL);

/**
 * Sets up the recovery key pair of a practice from before it existed (docs/e2ee.md): the typed
 * recovery key must open the practice's old symmetric wrap (so a typo cannot install a pair nobody
 * holds); the pair derived from it gets the current version.
 * @param {string} recoveryText as typed
 */
export async function setUpRecovery(recoveryText) {
  const state = await rotationState();
  if (state.recovery_public_key) return;
  if (!e2ee.parseRecoveryKey(recoveryText)) {
    throw new KeyringError("Das ist kein gültiger Wiederherstellungsschlüssel (32 Zeichen, z. B. ABCD-EFGH-…).");
  }
  try {
    (await e2ee.unwrapWithRecoveryKey(state.recovery_wrapped_key ?? "", recoveryText)).fill(0);
  } catch {
    throw new KeyringError("Dieser Wiederherstellungsschlüssel passt nicht zu Ihrer Praxis.");
  }
  const pair = await e2ee.recoveryKeyPair(recoveryText);
  const body = await withCurrentRaw(async (raw, keys) => ({
    recovery_public_key: pair.publicKey,
    recovery_wrapped_key: await e2ee.wrapToPublicKey(raw, pair.publicKey),
    key_version: keys.key_version,
  }));
  await request("POST", "/api/schluessel/wiederherstellung/", body);
}

/**
 * Makes and installs the next key version, wrapped to every holder and to the recovery key pair.
 * The server refuses it (ApiError 409) when the practice rotated or its members changed since the
 * state was read, or when the recovery key pair is not set up yet; nothing is changed then.
 * @returns {Promise<number>} the new version
 */
export async function rotate() {
  const state = await rotationState();
  const recoveryPublicKey = state.recovery_public_key;
  if (!recoveryPublicKey) {
    throw new KeyringError("Bitte geben Sie zuerst einmal den Wiederherstellungsschlüssel Ihrer Praxis ein.");
  }
  const fresh = e2ee.newPracticeKeyBytes();
  try {
    const body = await withCurrentRaw(async (raw, keys) => {
      if (keys.key_version !== state.key_version) {
        throw new KeyringError("Der Praxisschlüssel wurde inzwischen gewechselt. Bitte laden Sie die Seite neu.");
      }
      const next = keys.key_version + 1;
      /** @param {{id: number, public_key: string}} holder */
      const wrapFor = async (holder) => ({
        id: holder.id,
        public_key: holder.public_key,
        wrapped_practice_key: await e2ee.wrapToPublicKey(fresh, holder.public_key),
      });
      const nextKey = await e2ee.importPracticeKey(fresh);
      return {
        from_version: keys.key_version,
        wrapped_previous: await e2ee.wrapPreviousKey(nextKey, next, raw, keys.organisation_id),
        // names patients type from now on go to a pair that an old practice key cannot open
        ...(state.key_pair ? { key_pair: await newPracticePair(nextKey, next, keys.organisation_id) } : {}),
        members: await Promise.all(state.members.map(wrapFor)),
        clients: await Promise.all(state.clients.map(wrapFor)),
        recovery_wrapped_key: await e2ee.wrapToPublicKey(fresh, recoveryPublicKey),
      };
    });
    const answer = await request("POST", ROTATION_URL, body);
    await reloadPracticeKey();
    return answer.key_version;
  } finally {
    fresh.fill(0);
  }
}

/**
 * One record still sealed with an older version, as the server lists it.
 * @typedef {object} StaleItem
 * @property {string} ref
 * @property {string} context the AAD it is bound to
 * @property {string} base SHA-256 of the ciphertext: the server replaces only this exact one
 * @property {string} ciphertext
 */

/**
 * Re-encrypts every record sealed with an older version, in batches, until none is left. Safe to
 * stop at any moment (a reload) and to run again: the server's list is what remains, and a record a
 * colleague changed in between is left alone (their save is already sealed with the new version).
 * @param {(done: number, total: number) => void} [onprogress]
 * @returns {Promise<{done: number, failed: number}>} failed: records that do not open with any key
 */
export async function reencrypt(onprogress = () => {}) {
  let entry = await practiceKey();
  /** @type {Set<string>} */
  const failed = new Set();
  let done = 0;
  for (;;) {
    /** @type {{key_version: number, remaining: number, items: StaleItem[]}} */
    const batch = await getJson(REENCRYPT_URL);
    if (batch.key_version !== entry.current) {
      await reloadPracticeKey(); // rotated again meanwhile: continue with the newest version
      entry = await practiceKey();
    }
    const todo = batch.items.filter((item) => !failed.has(item.ref));
    const total = done + batch.remaining - failed.size;
    onprogress(done, total);
    if (todo.length === 0) return { done, failed: failed.size };
    let progressed = false;
    for (const item of todo) {
      try {
        const value = await openRecord(entry, item.context, item.ciphertext);
        const ciphertext = await sealRecord(entry, item.context, value);
        await request("POST", REENCRYPT_URL, { ref: item.ref, base: item.base, ciphertext });
        done += 1;
        progressed = true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 0) throw error; // offline: the next run resumes
        failed.add(item.ref);
      }
      onprogress(done, total);
    }
    if (!progressed && todo.every((item) => failed.has(item.ref))) return { done, failed: failed.size };
  }
}
