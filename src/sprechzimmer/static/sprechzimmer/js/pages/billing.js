// @ts-check
// Quarter file uploads (the practice's billing check, the KV's Notfallpraxis revenue): pseudonymise
// the file in the browser, upload it with the form's other fields, follow to the answer's page.
import { request } from "../lib/api.js";
import { looksLikeJson, notKvdtReason, pseudonymiseKvdt } from "../lib/kvdtstrip.js";
import { control, find } from "../ui/dom.js";
import { errorMessage } from "../ui/forms.js";

/** @param {HTMLFormElement} form one with data-kvdt-upload */
function wire(form) {
  const status = find(form, ".status", HTMLElement);
  const button = find(form, "button[type=submit]", HTMLButtonElement);
  const fileInput = control(form, "file", HTMLInputElement);
  const maxBytes = Number(form.dataset.maxBytes);
  const allowJson = form.dataset.allowJson !== "false";

  /**
   * @param {string} message
   * @param {"error" | ""} kind
   */
  function show(message, kind) {
    status.textContent = message;
    status.className = `status ${kind}`;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files?.[0];
    if (!file) return show(form.dataset.missingFile ?? "", "error");
    if (file.size === 0) return show("Die Datei ist leer.", "error");
    if (file.size > maxBytes) return show(`Die Datei ist größer als ${form.dataset.maxMb} MB.`, "error");
    const bytes = new Uint8Array(await file.arrayBuffer());
    const json = allowJson && looksLikeJson(bytes);
    const refusal = json ? null : notKvdtReason(bytes);
    if (refusal) return show(refusal, "error");
    button.disabled = true;
    show("Patientendaten werden im Browser pseudonymisiert, dann wird die Datei geprüft …", "");
    try {
      const body = json ? bytes : await pseudonymiseKvdt(bytes);
      const data = new FormData();
      data.append("file", new Blob([body], { type: "application/octet-stream" }), file.name);
      for (const element of form.elements) {
        if (!(element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement)) continue;
        if (element.name && element.type !== "file" && element.name !== "csrfmiddlewaretoken") data.append(element.name, element.value);
      }
      const answer = await request("POST", form.action, data);
      window.location.assign(answer.redirect);
    } catch (error) {
      // The chosen file and the other fields stay in the form; the user can correct and send again.
      show(errorMessage(error), "error");
      button.disabled = false;
    }
  });
}

for (const form of document.querySelectorAll("form[data-kvdt-upload]")) {
  if (form instanceof HTMLFormElement) wire(form);
}
