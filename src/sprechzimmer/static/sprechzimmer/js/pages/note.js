// @ts-check
// The practice note: a small record encrypted with the practice key before it leaves the browser.
import * as e2ee from "../lib/e2ee.js";
import { openRecord, practiceKey, reloadPracticeKey, sealRecord } from "../lib/keyring.js";
import { ApiError, request, getJson } from "../lib/api.js";
import { find } from "../ui/dom.js";
import { errorMessage } from "../ui/forms.js";

const KIND = "practice-note";
const URL_ = `/api/datensaetze/${KIND}/`;
const section = find(document, "#practice-note", HTMLElement);
const text = find(section, "textarea", HTMLTextAreaElement);
const status = find(section, ".status", HTMLElement);
const save = find(section, "button", HTMLButtonElement);
/** The version the text in the field is based on: a save from an older one gets 409. */
let version = 0;
/** @type {import("../lib/keyring.js").PracticeKey | null} */
let keyEntry = null;

/**
 * A record of records/ as the API sends it (records/views.py).
 * @typedef {object} NoteRecord
 * @property {number} version
 * @property {string | null} ciphertext envelope of {text}; null before the first save
 * @property {string | null} updated_by the member's name; null before the first save (or when that
 *   member was deleted)
 * @property {string | null} updated_at ISO 8601; null before the first save
 */

/**
 * @param {string} message
 * @param {"info" | "success" | "error"} [kind]
 */
function say(message, kind = "info") {
  status.textContent = message;
  status.className = `status ${kind}`;
}

/**
 * @param {import("../lib/keyring.js").PracticeKey} keyEntry
 * @param {NoteRecord} record
 */
async function show(keyEntry, record) {
  version = record.version;
  if (!record.ciphertext) {
    text.value = "";
    return;
  }
  const value = await openRecord(keyEntry, e2ee.recordContext(keyEntry.organisationId, KIND), record.ciphertext);
  text.value = value.text;
  say(`Zuletzt gespeichert von ${record.updated_by} am ${new Date(record.updated_at ?? "").toLocaleString("de-DE")}.`);
}

async function load() {
  try {
    keyEntry = await practiceKey();
    await show(keyEntry, await getJson(URL_));
    text.disabled = save.disabled = false;
    section.dataset.state = "ready";
  } catch (error) {
    say(errorMessage(error), "error");
    section.dataset.state = "locked";
  }
}

save.addEventListener("click", async () => {
  // The button is enabled only once load() has the key.
  if (!keyEntry) return;
  save.disabled = true;
  say("Wird verschlüsselt und gespeichert …");
  try {
    const ciphertext = await sealRecord(keyEntry, e2ee.recordContext(keyEntry.organisationId, KIND), {
      text: text.value,
    });
    const record = await request("PUT", URL_, { ciphertext, base_version: version });
    version = record.version;
    say("Gespeichert (verschlüsselt).", "success");
    section.dataset.saved = String(version);
  } catch (error) {
    // The typed text stays in the field whatever went wrong.
    say(errorMessage(error), "error");
    if (error instanceof ApiError && error.status === 409 && error.body && !("version" in error.body)) {
      // The practice rotated its key since this page loaded it: load the new version, the text stays.
      await reloadPracticeKey();
      keyEntry = await practiceKey();
    } else if (error instanceof ApiError && error.status === 409 && error.body) {
      const mine = text.value;
      await show(keyEntry, error.body);
      text.value = `${mine}\n\n--- Fassung des Kollegen ---\n${text.value}`;
    }
  } finally {
    save.disabled = false;
  }
});

load();
