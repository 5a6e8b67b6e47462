// @ts-check
// Quarter file uploads (the practice's billing check, the KV's Notfallpraxis revenue): pseudonymise
// the file in the browser, upload it with the form's other fields, follow to the answer's page.
// On the report page: the findings filter (severity, rule, case or LANR).
import { request } from "../lib/api.js";
import { number } from "../lib/formats.js";
import { looksLikeJson, notKvdtReason, pseudonymiseKvdt } from "../lib/kvdtstrip.js";
import { control, find, findOptional } from "../ui/dom.js";
import { errorMessage, onSubmit } from "../ui/forms.js";

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

  onSubmit(form, async () => {
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

/**
 * Shows only the findings of the checked severities, the chosen rule and a matching case or LANR;
 * groups left empty hide. Without this script every finding shows (the filter stays hidden).
 * @param {HTMLFormElement} filter
 */
function wireFilter(filter) {
  const root = find(document, "#findings", HTMLElement);
  const none = find(root, "#findings-none", HTMLElement);
  const status = find(filter, "#filter-status", HTMLElement);
  const rule = find(filter, "#rule-filter", HTMLSelectElement);
  const search = find(filter, "#case-filter", HTMLInputElement);
  const rows = [...root.querySelectorAll("tr.finding")].filter((row) => row instanceof HTMLElement);
  const apply = () => {
    const severities = new Set([...filter.querySelectorAll("input[name=severity]:checked")].map((box) => (box instanceof HTMLInputElement ? box.value : "")));
    const text = search.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows) {
      const visible =
        severities.has(row.dataset.severity ?? "") && (!rule.value || row.dataset.rule === rule.value) && (!text || (row.dataset.case ?? "").toLowerCase().includes(text));
      row.hidden = !visible;
      if (visible) shown++;
    }
    for (const group of root.querySelectorAll(".rule-group, .severity-group")) {
      if (!(group instanceof HTMLElement)) continue;
      group.hidden = !group.querySelector("tr.finding:not([hidden])");
      // A rule chosen on purpose, or a search, opens its group even where notes start folded.
      if (group instanceof HTMLDetailsElement && !group.hidden && (rule.value || text)) group.open = true;
    }
    none.hidden = shown > 0;
    status.textContent =
      shown === rows.length ? `Alle ${number(rows.length)} Befunde.` : `${number(shown)} von ${number(rows.length)} Befunden.`;
  };
  filter.addEventListener("input", apply);
  filter.addEventListener("submit", (event) => event.preventDefault());
  filter.hidden = false;
  apply();
}

const findingsFilter = findOptional(document, "#findings-filter", HTMLFormElement);
if (findingsFilter) wireFilter(findingsFilter);
