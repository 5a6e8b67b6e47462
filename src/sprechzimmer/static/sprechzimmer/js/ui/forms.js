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

/**
 * The input a person types a password into. It has no name, so the form can never send it; see
 * accounts/widgets.py.
 * @returns {HTMLInputElement}
 */
export function typedPassword(form, name) {
  return form.querySelector(`input[type="password"][data-secret-for="${name}"]`);
}

/** Puts what the browser derived from a typed password into the field the server reads. */
export function setDerivedSecret(form, name, value) {
  const hidden = form.querySelector(`input[type="hidden"][name="${name}"][data-derived-secret]`);
  if (!hidden) throw new Error(`no field for the derived ${name}`);
  hidden.value = value;
}

/** @param {Record<string, string[]>} errors by field name; "__all__" for the whole form. */
export function showErrors(form, errors) {
  clearErrors(form);
  let first = null;
  for (const [name, messages] of Object.entries(errors)) {
    const field = typedPassword(form, name) ?? form.elements.namedItem(name);
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
