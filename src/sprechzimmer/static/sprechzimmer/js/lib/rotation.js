// @ts-check
// Practice key rotation (docs/e2ee.md, "Key versions and rotation"): this browser makes the next
// version, wraps it to every member who keeps access, seals the previous version with it, and then
// re-encrypts the records still sealed with an older version. No DOM: the page shows progress
// through the onprogress callback.
import * as e2ee from "./e2ee.js";
import { ApiError, getJson, request } from "./api.js";
import { KeyringError, openRecord, practiceKey, reloadPracticeKey, sealRecord, withCurrentRaw } from "./keyring.js";

const ROTATION_URL = "/api/schluessel/wechsel/";
const REENCRYPT_URL = "/api/schluessel/umschluesseln/";

/**
 * GET /api/schluessel/wechsel/: whom the next version goes to, and what is left to re-encrypt.
 * @typedef {object} RotationState
 * @property {number} key_version the current version
 * @property {{id: number, name: string, public_key: string}[]} members active members holding the key
 * @property {{id: number, name: string, public_key: string}[]} clients granted encrypting API clients
 * @property {number} stale records still sealed with an older version
 */

/** @returns {Promise<RotationState>} */
export const rotationState = () => getJson(ROTATION_URL);

/**
 * Makes and installs the next key version. The server refuses it (ApiError 409) when the practice
 * rotated or its members changed since the state was read; nothing is changed then.
 * @param {(raw: Uint8Array<ArrayBuffer>, version: number) => Promise<Record<string, string>>} [extraWraps]
 *   further wraps of the new raw key sent with the rotation (the recovery key's, docs/e2ee.md)
 * @returns {Promise<number>} the new version
 */
export async function rotate(extraWraps) {
  const state = await rotationState();
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
      return {
        from_version: keys.key_version,
        wrapped_previous: await e2ee.wrapPreviousKey(await e2ee.importPracticeKey(fresh), next, raw, keys.organisation_id),
        members: await Promise.all(state.members.map(wrapFor)),
        clients: await Promise.all(state.clients.map(wrapFor)),
        ...(extraWraps ? await extraWraps(fresh, next) : {}),
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
