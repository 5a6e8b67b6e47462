// @ts-check
// The public booking page (docs/booking.md): the patient picks a free slot and types name and
// contact; the browser encrypts them to the practice's public key before anything is sent, solves
// the proof of work the server asks for, and shows the access code and link once.
import { ApiError } from "../lib/api.js";
import { wrapToPublicKey } from "../lib/e2ee.js";
import { birthDateValid, phoneValid } from "../lib/patientrules.js";
import { postWithProof } from "../lib/proofofwork.js";
import { find, findOptional } from "../ui/dom.js";
import { errorMessage, setBusy } from "../ui/forms.js";

const section = find(document, "#booking", HTMLElement);
const form = findOptional(section, "#booking-form", HTMLFormElement);
const url = section.dataset.url || "";
const practiceKey = section.dataset.practiceKey || "";

/** @param {string} selector */
const input = (selector) => find(section, selector, HTMLElement);

/**
 * Books; solves the proof of work when the server asks for one (always, for a booking).
 * @param {Record<string, unknown>} body
 * @returns {Promise<{code: string, link: string, when: string, doctor: string, confirmed: boolean}>}
 */
async function book(body) {
  return postWithProof(url, body);
}

if (form) {
  const message = find(form, ".message", HTMLElement);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    const chosen = form.querySelector("input[name=slot]:checked");
    const name = /** @type {HTMLInputElement} */ (input("#b-name")).value.trim();
    const known = /** @type {HTMLInputElement} */ (input("#b-known")).checked;
    if (!(chosen instanceof HTMLInputElement)) {
      message.textContent = "Bitte wählen Sie einen Termin.";
      return;
    }
    if (!name) {
      message.textContent = "Bitte geben Sie Ihren Vor- und Nachnamen an.";
      input("#b-name").focus();
      return;
    }
    if (chosen.dataset.knownOnly && !known) {
      message.textContent = "Dieser Termin ist für Patientinnen und Patienten, die schon in der Praxis behandelt wurden. Bitte bestätigen Sie das oder wählen Sie einen anderen Termin.";
      return;
    }
    // The birth date is sealed for the practice here, so only this page can check it.
    const birth = /** @type {HTMLInputElement} */ (input("#b-birth")).value;
    if (birth && !birthDateValid(birth)) {
      message.textContent = "Bitte prüfen Sie das Geburtsdatum.";
      input("#b-birth").focus();
      return;
    }
    const phoneTyped = /** @type {HTMLInputElement} */ (input("#b-phone")).value.trim();
    if (phoneTyped && !phoneValid(phoneTyped)) {
      message.textContent = "Bitte geben Sie die Telefonnummer nur mit Ziffern an, z. B. 0151 2345678.";
      input("#b-phone").focus();
      return;
    }
    const [doctorId, start] = chosen.value.split("|");
    const patient = {
      name,
      birth_date: /** @type {HTMLInputElement} */ (input("#b-birth")).value,
      email: /** @type {HTMLInputElement} */ (input("#b-email")).value.trim(),
      phone: /** @type {HTMLInputElement} */ (input("#b-phone")).value.trim(),
      note: /** @type {HTMLTextAreaElement} */ (input("#b-note")).value.trim(),
    };
    /** @type {{channel: string, to: string}[]} */
    const sendTo = [];
    if (findOptional(section, "#b-send-email", HTMLInputElement)?.checked) sendTo.push({ channel: "email", to: patient.email });
    if (findOptional(section, "#b-send-sms", HTMLInputElement)?.checked) sendTo.push({ channel: "sms", to: patient.phone });
    setBusy(form, true, "Ihr Termin wird gebucht …");
    try {
      const envelope = await wrapToPublicKey(new TextEncoder().encode(JSON.stringify(patient)), practiceKey);
      // The address goes in clear only when the patient asks for a message (sealed at once, docs/invitations.md).
      const booked = await book({ doctor_id: Number(doctorId), start, patient: envelope, known, ...(sendTo.length ? { send_to: sendTo } : {}) });
      find(section, "#booked-when", HTMLElement).textContent = `${booked.when} bei ${booked.doctor}`;
      find(section, "#booked-code", HTMLElement).textContent = booked.code;
      const link = find(section, "#booked-link", HTMLAnchorElement);
      link.href = booked.link;
      link.textContent = booked.link;
      find(section, "#booked-confirm", HTMLElement).hidden = booked.confirmed;
      form.hidden = true;
      find(section, "#booked", HTMLElement).hidden = false;
    } catch (error) {
      message.textContent = errorMessage(error);
      if (error instanceof ApiError && error.status === 409) chosen.closest("label")?.remove();
    } finally {
      setBusy(form, false);
    }
  });
}
