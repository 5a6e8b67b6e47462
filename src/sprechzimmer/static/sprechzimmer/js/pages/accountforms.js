// @ts-check
// Hooks every form that carries a password so the typed password never leaves the browser: the
// typed inputs have no name (accounts/widgets.py), and the authentication secret derived from them
// goes into the named hidden field (docs/e2ee.md). Loaded on every page.
import * as e2ee from "../lib/e2ee.js";
import * as keystore from "../lib/keystore.js";
import { ApiError, getJson } from "../lib/api.js";
import { pageMeta } from "../lib/meta.js";
import { control, findOptional } from "../ui/dom.js";
import { passwordProblem, setBusy, setDerivedSecret, showErrors, typedPassword } from "../ui/forms.js";

const DERIVING = "Schlüssel werden berechnet …";

function pageEmail() {
  return pageMeta("sz-email");
}

/**
 * Derives what the form needs from the typed passwords, then submits it.
 * @typedef {(form: HTMLFormElement) => Promise<false | void>} Handler false: not submitted (it said why)
 */

/**
 * @param {HTMLFormElement} form
 * @param {Handler} handler
 */
function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setBusy(form, true, DERIVING);
    try {
      if ((await handler(form)) !== false) form.submit();
      else setBusy(form, false);
    } catch (error) {
      console.error(error);
      // The server's German message when a request failed (e.g. no connection); else ours.
      const message = error instanceof ApiError ? error.message : "Die Verschlüsselung im Browser ist fehlgeschlagen. Bitte laden Sie die Seite neu.";
      showErrors(form, { __all__: [message] });
      setBusy(form, false);
    }
  });
}

/** @type {Handler} */
async function login(form) {
  const email = control(form, "login", HTMLInputElement).value;
  const { authSecret, kek } = await e2ee.deriveLoginSecrets(email, typedPassword(form, "password").value);
  await keystore.clear();
  await keystore.put("kek", kek);
  setDerivedSecret(form, "password", authSecret);
}

/** @type {Handler} */
async function reauthenticate(form) {
  const { authSecret } = await e2ee.deriveLoginSecrets(pageEmail(), typedPassword(form, "password").value);
  setDerivedSecret(form, "password", authSecret);
}

/** @type {Handler} */
async function changePassword(form) {
  const [oldpassword, password1, password2] = ["oldpassword", "password1", "password2"].map((n) => typedPassword(form, n));
  const problem = passwordProblem(password1.value, password2.value, { email: pageEmail(), previous: oldpassword.value });
  if (problem) {
    showErrors(form, { password1: [problem] });
    return false;
  }
  const email = pageEmail();
  const old = await e2ee.deriveLoginSecrets(email, oldpassword.value);
  const next = await e2ee.deriveLoginSecrets(email, password1.value);
  /** @type {import("../lib/keyring.js").MemberKeys} */
  const keys = await getJson("/api/schluessel/");
  try {
    control(form, "wrapped_private_key", HTMLInputElement).value = await e2ee.rewrapPrivateKey(keys.wrapped_private_key, old.kek, next.kek);
  } catch {
    showErrors(form, { oldpassword: ["Das aktuelle Passwort ist nicht korrekt."] });
    return false;
  }
  setDerivedSecret(form, "oldpassword", old.authSecret);
  setDerivedSecret(form, "password1", next.authSecret);
  setDerivedSecret(form, "password2", next.authSecret);
  await keystore.put("kek", next.kek);
}

/** @type {Handler} */
async function resetFromKey(form) {
  const [password1, password2] = ["password1", "password2"].map((n) => typedPassword(form, n));
  const problem = passwordProblem(password1.value, password2.value, { email: form.dataset.email ?? "" });
  if (problem) {
    showErrors(form, { password1: [problem] });
    return false;
  }
  const { authSecret, kek } = await e2ee.deriveLoginSecrets(form.dataset.email ?? "", password1.value);
  const pair = await e2ee.generateKeyPair();
  const publicKey = await e2ee.exportPublicKey(pair.publicKey);
  control(form, "public_key", HTMLInputElement).value = publicKey;
  control(form, "wrapped_private_key", HTMLInputElement).value = await e2ee.wrapPrivateKey(pair.privateKey, kek);
  const recoveryText = findOptional(form, "#recovery-key", HTMLInputElement)?.value.trim();
  const wrappedPracticeKey = control(form, "wrapped_practice_key", HTMLInputElement);
  wrappedPracticeKey.value = "";
  if (recoveryText) {
    if (!e2ee.parseRecoveryKey(recoveryText)) {
      showErrors(form, { "recovery-key": ["Das ist kein gültiger Wiederherstellungsschlüssel (32 Zeichen, z. B. ABCD-EFGH-…)."] });
      return false;
    }
    let raw;
    try {
      raw = await e2ee.openWithRecovery(form.dataset.recovery ?? "", recoveryText, form.dataset.recoveryPublicKey ?? "");
    } catch {
      showErrors(form, { "recovery-key": ["Dieser Wiederherstellungsschlüssel passt nicht zu Ihrer Praxis."] });
      return false;
    }
    wrappedPracticeKey.value = await e2ee.wrapToPublicKey(raw, publicKey);
    raw.fill(0);
  }
  setDerivedSecret(form, "password1", authSecret);
  setDerivedSecret(form, "password2", authSecret);
}

/** @type {[RegExp, Handler][]} the forms by the path they post to */
const HANDLERS = [
  [/\/konto\/login\/$/, login],
  [/\/konto\/reauthenticate\/$/, reauthenticate],
  [/\/konto\/password\/change\/$/, changePassword],
];

for (const form of document.querySelectorAll("form")) {
  const action = new URL(form.getAttribute("action") || location.href, location.href).pathname;
  if (form.dataset.sz === "reset-from-key") {
    onSubmit(form, resetFromKey);
    continue;
  }
  if (/\/konto\/logout\/$/.test(action)) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      keystore.clear().finally(() => form.submit());
    });
    continue;
  }
  const match = HANDLERS.find(([pattern]) => pattern.test(action));
  if (match && form.querySelector("input[data-secret-for]")) onSubmit(form, match[1]);
}

// A fresh login page: nothing of a previous session's keys stays in this browser.
if (/\/konto\/login\/$/.test(location.pathname)) keystore.clear().catch(() => {});
