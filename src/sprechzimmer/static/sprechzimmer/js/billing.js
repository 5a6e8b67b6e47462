// The billing page: strip the quarter file in the browser, upload it, follow to the report.
import { request } from "./api.js";
import { looksLikeJson, notKvdtReason, stripKvdt } from "./kvdtstrip.js";

const form = document.getElementById("ebm-upload");
const status = form.querySelector(".status");
const button = form.querySelector("button[type=submit]");
const maxBytes = Number(form.dataset.maxBytes);

function show(message, kind) {
  status.textContent = message;
  status.className = `status ${kind}`;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = form.elements.file.files[0];
  if (!file) return show("Bitte wählen Sie eine Quartalsdatei (KVDT .con oder JSON-Fallformat).", "error");
  if (file.size === 0) return show("Die Datei ist leer.", "error");
  if (file.size > maxBytes) return show(`Die Datei ist größer als ${form.dataset.maxMb} MB.`, "error");
  const bytes = new Uint8Array(await file.arrayBuffer());
  const json = looksLikeJson(bytes);
  const refusal = json ? null : notKvdtReason(bytes);
  if (refusal) return show(refusal, "error");
  button.disabled = true;
  show("Datei wird im Browser von Patientendaten befreit und geprüft …", "");
  try {
    const body = json ? bytes : stripKvdt(bytes);
    const data = new FormData();
    data.append("file", new Blob([body], { type: "application/octet-stream" }), file.name);
    data.append("quarter", form.elements.quarter.value);
    const answer = await request("POST", form.action, data);
    window.location.assign(answer.redirect);
  } catch (error) {
    // The chosen file and quarter stay in the form; the user can correct and send again.
    show(error.message, "error");
    button.disabled = false;
  }
});
