// The practice note: a small record encrypted with the practice key before it leaves the browser.
import * as e2ee from "../lib/e2ee.js";
import { practiceKey } from "../lib/keyring.js";
import { request, getJson } from "../lib/api.js";

const KIND = "practice-note";
const URL_ = `/api/datensaetze/${KIND}/`;
const section = document.getElementById("practice-note");
const text = section.querySelector("textarea");
const status = section.querySelector(".status");
const save = section.querySelector("button");
let version = 0;
let keyEntry = null;

function say(message, kind = "info") {
  status.textContent = message;
  status.className = `status ${kind}`;
}

async function show(record) {
  version = record.version;
  if (!record.ciphertext) {
    text.value = "";
    return;
  }
  const value = await e2ee.decryptRecord(keyEntry.key, e2ee.recordContext(keyEntry.organisationId, KIND), record.ciphertext);
  text.value = value.text;
  say(`Zuletzt gespeichert von ${record.updated_by} am ${new Date(record.updated_at).toLocaleString("de-DE")}.`);
}

async function load() {
  try {
    keyEntry = await practiceKey();
    await show(await getJson(URL_));
    text.disabled = save.disabled = false;
    section.dataset.state = "ready";
  } catch (error) {
    say(error.message, "error");
    section.dataset.state = "locked";
  }
}

save.addEventListener("click", async () => {
  save.disabled = true;
  say("Wird verschlüsselt und gespeichert …");
  try {
    const ciphertext = await e2ee.encryptRecord(keyEntry.key, e2ee.recordContext(keyEntry.organisationId, KIND), {
      text: text.value,
    });
    const record = await request("PUT", URL_, { ciphertext, base_version: version });
    version = record.version;
    say("Gespeichert (verschlüsselt).", "success");
    section.dataset.saved = String(version);
  } catch (error) {
    // The typed text stays in the field whatever went wrong.
    say(error.message, "error");
    if (error.status === 409 && error.body) {
      const mine = text.value;
      await show(error.body);
      text.value = `${mine}\n\n--- Fassung des Kollegen ---\n${text.value}`;
    }
  } finally {
    save.disabled = false;
  }
});

load();
