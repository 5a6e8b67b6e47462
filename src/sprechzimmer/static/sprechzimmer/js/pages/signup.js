// @ts-check
// Practice sign-up: check the details, make all keys in the browser, show the recovery key once,
// then submit. The password itself is never sent (docs/e2ee.md): its input has no name, so neither
// the check's FormData nor the final submission can carry it.
import * as e2ee from "../lib/e2ee.js";
import { request } from "../lib/api.js";
import { control, find } from "../ui/dom.js";
import { clearErrors, passwordProblem, setBusy, setDerivedSecret, showErrors, typedPassword } from "../ui/forms.js";

const form = find(document, 'form[data-sz="signup"]', HTMLFormElement);
const recoveryPanel = find(document, "#recovery-panel", HTMLElement);
const recoveryText = find(document, "#recovery-key", HTMLElement);
const confirmBox = find(document, "#recovery-confirm", HTMLInputElement);
const finishButton = find(document, "#finish-signup", HTMLButtonElement);
const bsnr = control(form, "bsnr", HTMLInputElement);
const kvHint = find(document, "#kv-hint", HTMLElement);
/** @type {Record<string, string>} KV name by the first two digits of a BSNR (GET /api/kv/) */
let kvCodes = {};

let kvCodesLoaded = false;

function showKv() {
  const digits = bsnr.value.replace(/\s/g, "");
  const name = kvCodes[digits.slice(0, 2)];
  // Until the table has arrived, say nothing rather than something wrong.
  if (digits.length < 2 || (!name && !kvCodesLoaded)) kvHint.textContent = "";
  else kvHint.textContent = name ? `Ihre KV: ${name}` : `„${digits.slice(0, 2)}“ ist keine KV-Kennung.`;
}

request("GET", "/api/kv/")
  .then((codes) => {
    kvCodes = codes;
    kvCodesLoaded = true;
    showKv();
  })
  .catch(() => {});
bsnr.addEventListener("input", showKv);

const role = control(form, "role", HTMLSelectElement);
function toggleLanr() {
  const doctor = role.value === "doctor";
  find(form, ".field-lanr", HTMLElement).hidden = !doctor;
}
role.addEventListener("change", toggleLanr);
toggleLanr();

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const password = typedPassword(form, "password1").value;
  const problem = passwordProblem(password, typedPassword(form, "password2").value, {
    email: control(form, "email", HTMLInputElement).value,
  });
  if (problem) return showErrors(form, { password1: [problem] });

  setBusy(form, true, "Angaben werden geprüft …");
  try {
    const check = await request("POST", "/konto/registrierung/pruefen/", new FormData(form));
    if (!check.ok) return showErrors(form, check.errors);

    setBusy(form, true, "Schlüssel werden erzeugt …");
    const { authSecret, kek } = await e2ee.deriveLoginSecrets(control(form, "email", HTMLInputElement).value, password);
    const pair = await e2ee.generateKeyPair();
    const publicKey = await e2ee.exportPublicKey(pair.publicKey);
    const practiceKey = e2ee.newPracticeKeyBytes();
    const recovery = e2ee.newRecoveryKey();
    control(form, "public_key", HTMLInputElement).value = publicKey;
    control(form, "wrapped_private_key", HTMLInputElement).value = await e2ee.wrapPrivateKey(pair.privateKey, kek);
    control(form, "wrapped_practice_key", HTMLInputElement).value = await e2ee.wrapToPublicKey(practiceKey, publicKey);
    const recoveryPair = await e2ee.recoveryKeyPair(recovery);
    control(form, "recovery_public_key", HTMLInputElement).value = recoveryPair.publicKey;
    control(form, "recovery_wrapped_key", HTMLInputElement).value = await e2ee.wrapToPublicKey(practiceKey, recoveryPair.publicKey);
    practiceKey.fill(0);
    setDerivedSecret(form, "password1", authSecret);

    recoveryText.textContent = recovery;
    find(document, "#recovery-practice", HTMLElement).textContent = control(form, "practice_name", HTMLInputElement).value;
    find(document, "#recovery-date", HTMLElement).textContent = new Date().toLocaleDateString("de-DE");
    form.hidden = true;
    recoveryPanel.hidden = false;
    recoveryPanel.scrollIntoView();
  } catch (error) {
    showErrors(form, { __all__: [(error instanceof Error && error.message) || "Die Registrierung ist fehlgeschlagen. Bitte versuchen Sie es erneut."] });
  } finally {
    setBusy(form, false);
  }
});

confirmBox.addEventListener("change", () => (finishButton.disabled = !confirmBox.checked));
find(document, "#print-recovery", HTMLButtonElement).addEventListener("click", () => window.print());
find(document, "#back-to-form", HTMLButtonElement).addEventListener("click", () => {
  recoveryPanel.hidden = true;
  form.hidden = false;
});
finishButton.addEventListener("click", () => {
  finishButton.disabled = true;
  finishButton.textContent = "Praxis wird angelegt …";
  form.submit();
});
