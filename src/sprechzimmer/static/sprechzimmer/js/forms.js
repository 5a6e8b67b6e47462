// Small helpers for forms: show German errors next to fields, keep the button honest while busy.

export function setBusy(form, busy, text) {
  const button = form.querySelector('button[type="submit"], button:not([type])');
  if (!button) return;
  if (busy) {
    button.dataset.label ??= button.textContent;
    button.textContent = text;
    button.disabled = true;
  } else {
    button.textContent = button.dataset.label ?? button.textContent;
    button.disabled = false;
  }
}

export function clearErrors(form) {
  form.querySelectorAll(".js-error").forEach((el) => el.remove());
}

/** @param {Record<string, string[]>} errors by field name; "__all__" for the whole form. */
export function showErrors(form, errors) {
  clearErrors(form);
  let first = null;
  for (const [name, messages] of Object.entries(errors)) {
    const field = form.elements.namedItem(name);
    const note = document.createElement("p");
    note.className = "error js-error";
    note.setAttribute("role", "alert");
    note.textContent = messages.join(" ");
    if (field && field.type !== "hidden" && field.insertAdjacentElement) {
      field.insertAdjacentElement("afterend", note);
      field.setAttribute("aria-invalid", "true");
      first ??= field;
    } else {
      form.prepend(note);
    }
  }
  first?.focus();
}

/** Checks a new password in the browser, since the server never sees it. */
export function passwordProblem(password, repeat) {
  if (password.length < 10) return "Das Passwort muss mindestens 10 Zeichen lang sein.";
  if (repeat !== undefined && password !== repeat) return "Die beiden Passwörter stimmen nicht überein.";
  return null;
}
