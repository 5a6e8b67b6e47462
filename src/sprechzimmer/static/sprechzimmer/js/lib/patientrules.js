// @ts-check
// What the server cannot check about a patient's data, since it gets it only sealed
// (lib/patientdata.js): the practice's calendar and the patients' booking page check it here, by
// the same rules.

/** A phone number as typed: digits, spaces, brackets, / and -, a leading + (6 to 20 characters). */
const PHONE = /^\+?[0-9 ()/-]{6,20}$/;

/**
 * @param {string} text a date input's value, YYYY-MM-DD
 * @returns {boolean} between 1900 and today (this device's calendar day, not UTC's)
 */
export function birthDateValid(text) {
  const now = new Date();
  const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
  return text >= "1900-01-01" && text <= today;
}

/**
 * @param {string} text trimmed
 * @returns {boolean}
 */
export function phoneValid(text) {
  return PHONE.test(text);
}
