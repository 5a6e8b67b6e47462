// @ts-check
// Patient data of an appointment: one record encrypted with the practice key in the browser.
import * as e2ee from "./e2ee.js";
import { openFromPatient, openRecord, practiceKeyPair, sealRecord } from "./keyring.js";

const KIND = "appointment-patient";
/** The envelope of an online booking: ECIES to the practice's public key, made in the patient's browser. */
const BOOKED_ALG = "ECDH-P256-HKDF-A256GCM";
/** @type {PatientData} */
const EMPTY = { name: "", birth_date: "", email: "", phone: "", note: "" };

/**
 * What the practice knows of the patient of an appointment; the server sees only its ciphertext.
 * @typedef {object} PatientData
 * @property {string} name
 * @property {string} birth_date YYYY-MM-DD or ""
 * @property {string} email
 * @property {string} phone
 * @property {string} note
 */

/**
 * @param {import("./keyring.js").PracticeKey} keyEntry
 * @param {PatientData} data
 * @returns {Promise<string>} envelope
 */
export function encryptPatient(keyEntry, data) {
  return sealRecord(keyEntry, e2ee.recordContext(keyEntry.organisationId, KIND), data);
}

/**
 * @param {import("./keyring.js").PracticeKey | null} keyEntry null when the key is not unlocked
 * @param {string} envelope
 * @returns {Promise<PatientData>} with the name "(nicht lesbar)" when it does not open
 */
export async function decryptPatient(keyEntry, envelope) {
  try {
    if (!keyEntry) throw new Error("practice key not unlocked");
    if (JSON.parse(envelope).alg === BOOKED_ALG) {
      // booked by the patient on the public page: encrypted to the practice's key pair (docs/booking.md)
      return { ...EMPTY, ...JSON.parse(await openFromPatient(envelope, await practiceKeyPair())) };
    }
    return await openRecord(keyEntry, e2ee.recordContext(keyEntry.organisationId, KIND), envelope);
  } catch {
    return { name: "(nicht lesbar)", birth_date: "", email: "", phone: "", note: "" };
  }
}
