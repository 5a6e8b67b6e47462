// @ts-check
// Small helpers for forms: show German errors next to fields, keep the button honest while busy.
import { passwordWeakness } from "../lib/passwords.js";

/**
 * @param {HTMLFormElement} form
 * @param {boolean} busy
 * @param {string} [text] what the submit button says while busy
 */
export function setBusy(form, busy, text) {
  const button = form.querySelector('button[type="submit"], button:not([type])');
  if (!(button instanceof HTMLButtonElement)) return;
  if (busy) {
    button.dataset.label ??= button.textContent ?? "";
    button.textContent = text ?? "";
    button.disabled = true;
  } else {
    button.textContent = button.dataset.label ?? button.textContent;
    button.disabled = false;
  }
}

/**
 * Handles a form's submit in the page, one submission at a time: a second submit while the first
 * still runs (a double click on the button, Enter pressed twice) is ignored, and the submit button
 * is disabled until the handler is done. Without this a double click booked two appointments.
 * @param {HTMLFormElement} form
 * @param {(event: SubmitEvent) => unknown} handler
 */
export function onSubmit(form, handler) {
  let running = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (running) return;
    running = true;
    const button = form.querySelector('button[type="submit"], button:not([type])');
    const wasDisabled = button instanceof HTMLButtonElement && button.disabled;
    if (button instanceof HTMLButtonElement) button.disabled = true;
    try {
      await handler(/** @type {SubmitEvent} */ (event));
    } finally {
      running = false;
      if (button instanceof HTMLButtonElement && !wasDisabled) button.disabled = false;
    }
  });
}

/** @param {HTMLFormElement} form */
export function clearErrors(form) {
  form.querySelectorAll(".js-error").forEach((el) => el.remove());
  // The marks of the last errors go with their notes (a field filled in since kept its red border).
  form.querySelectorAll("[aria-invalid='true']").forEach((el) => el.removeAttribute("aria-invalid"));
}

/**
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {HTMLInputElement | null}
 */
function passwordInput(form, name) {
  const input = form.querySelector(`input[type="password"][data-secret-for="${name}"]`);
  return input instanceof HTMLInputElement ? input : null;
}

/**
 * The input a person types a password into. It has no name, so the form can never send it; see
 * accounts/widgets.py.
 * @param {HTMLFormElement} form
 * @param {string} name the form field the derived secret goes into
 * @returns {HTMLInputElement}
 */
export function typedPassword(form, name) {
  const input = passwordInput(form, name);
  if (!input) throw new Error(`no password input for ${name}`);
  return input;
}

/**
 * Puts what the browser derived from a typed password into the field the server reads.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @param {string} value
 */
export function setDerivedSecret(form, name, value) {
  const hidden = form.querySelector(`input[type="hidden"][name="${name}"][data-derived-secret]`);
  if (!(hidden instanceof HTMLInputElement)) throw new Error(`no field for the derived ${name}`);
  hidden.value = value;
}

/**
 * @param {HTMLFormElement} form
 * @param {Record<string, string[]>} errors by field name; "__all__" for the whole form.
 */
export function showErrors(form, errors) {
  clearErrors(form);
  /** @type {HTMLElement | null} */
  let first = null;
  for (const [name, messages] of Object.entries(errors)) {
    const field = passwordInput(form, name) ?? form.elements.namedItem(name);
    const note = document.createElement("p");
    note.className = "error js-error";
    note.setAttribute("role", "alert");
    note.textContent = messages.join(" ");
    // A hidden field or a group of radio buttons has no place for the note: it goes on top.
    if (field instanceof HTMLElement && !(field instanceof HTMLInputElement && field.type === "hidden")) {
      field.insertAdjacentElement("afterend", note);
      field.setAttribute("aria-invalid", "true");
      first ??= field;
    } else {
      form.prepend(note);
    }
  }
  first?.focus();
}

/**
 * Checks a new password in the browser, since the server never sees it (lib/passwords.js).
 * @param {string} password
 * @param {string} [repeat] the second input, when the form has one
 * @param {{email?: string, previous?: string}} [context] the account's address, the old password
 * @returns {string | null} the German problem, or null
 */
export function passwordProblem(password, repeat, context = {}) {
  return passwordWeakness(password, { repeat, ...context });
}

/**
 * What to show of something a step threw: the German message of our own errors (ApiError,
 * KeyringError) and, for anything else, whatever message it has.
 * @param {unknown} error
 * @returns {string}
 */
export function errorMessage(error) {
  return error instanceof Error ? error.message : String(error);
}
