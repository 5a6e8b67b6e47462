// @ts-check
// Patient data of an appointment: one record encrypted with the practice key in the browser.
import * as e2ee from "./e2ee.js";

const KIND = "appointment-patient";

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
  return e2ee.encryptRecord(keyEntry.key, e2ee.recordContext(keyEntry.organisationId, KIND), data);
}

/**
 * @param {import("./keyring.js").PracticeKey | null} keyEntry null when the key is not unlocked
 * @param {string} envelope
 * @returns {Promise<PatientData>} with the name "(nicht lesbar)" when it does not open
 */
export async function decryptPatient(keyEntry, envelope) {
  try {
    if (!keyEntry) throw new Error("practice key not unlocked");
    return await e2ee.decryptRecord(keyEntry.key, e2ee.recordContext(keyEntry.organisationId, KIND), envelope);
  } catch {
    return { name: "(nicht lesbar)", birth_date: "", email: "", phone: "", note: "" };
  }
}
