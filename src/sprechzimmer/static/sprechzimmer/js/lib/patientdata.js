// Patient data of an appointment: one record encrypted with the practice key in the browser.
import * as e2ee from "./e2ee.js";

const KIND = "appointment-patient";

/** @typedef {{name: string, birth_date: string, email: string, phone: string, note: string}} PatientData */

export function encryptPatient(keyEntry, data) {
  return e2ee.encryptRecord(keyEntry.key, e2ee.recordContext(keyEntry.organisationId, KIND), data);
}

/** @returns {Promise<PatientData>} */
export async function decryptPatient(keyEntry, envelope) {
  try {
    return await e2ee.decryptRecord(keyEntry.key, e2ee.recordContext(keyEntry.organisationId, KIND), envelope);
  } catch {
    return { name: "(nicht lesbar)", birth_date: "", email: "", phone: "", note: "" };
  }
}
