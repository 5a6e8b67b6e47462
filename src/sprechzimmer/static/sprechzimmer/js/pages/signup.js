// Practice sign-up: check the details, make all keys in the browser, show the recovery key once,
// then submit. The password itself is never sent (docs/e2ee.md): its input has no name, so neither
// the check's FormData nor the final submission can carry it.
import * as e2ee from "../lib/e2ee.js";
import { request } from "../lib/api.js";
import { clearErrors, passwordProblem, setBusy, setDerivedSecret, showErrors, typedPassword } from "../ui/forms.js";

const form = document.querySelector('form[data-sz="signup"]');
const recoveryPanel = document.getElementById("recovery-panel");
const recoveryText = document.getElementById("recovery-key");
const confirmBox = document.getElementById("recovery-confirm");
const finishButton = document.getElementById("finish-signup");
const bsnr = form.elements.bsnr;
const kvHint = document.getElementById("kv-hint");
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

function toggleLanr() {
  const doctor = form.elements.role.value === "doctor";
  form.querySelector(".field-lanr").hidden = !doctor;
}
form.elements.role.addEventListener("change", toggleLanr);
toggleLanr();

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const password = typedPassword(form, "password1").value;
  const problem = passwordProblem(password, typedPassword(form, "password2").value);
  if (problem) return showErrors(form, { password1: [problem] });

  setBusy(form, true, "Angaben werden geprüft …");
  try {
    const check = await request("POST", "/konto/registrierung/pruefen/", new FormData(form));
    if (!check.ok) return showErrors(form, check.errors);

    setBusy(form, true, "Schlüssel werden erzeugt …");
    const { authSecret, kek } = await e2ee.deriveLoginSecrets(form.elements.email.value, password);
    const pair = await e2ee.generateKeyPair();
    const publicKey = await e2ee.exportPublicKey(pair.publicKey);
    const practiceKey = e2ee.newPracticeKeyBytes();
    const recovery = e2ee.newRecoveryKey();
    form.elements.public_key.value = publicKey;
    form.elements.wrapped_private_key.value = await e2ee.wrapPrivateKey(pair.privateKey, kek);
    form.elements.wrapped_practice_key.value = await e2ee.wrapToPublicKey(practiceKey, publicKey);
    form.elements.recovery_wrapped_key.value = await e2ee.wrapWithRecoveryKey(practiceKey, recovery);
    practiceKey.fill(0);
    setDerivedSecret(form, "password1", authSecret);

    recoveryText.textContent = recovery;
    document.getElementById("recovery-practice").textContent = form.elements.practice_name.value;
    document.getElementById("recovery-date").textContent = new Date().toLocaleDateString("de-DE");
    form.hidden = true;
    recoveryPanel.hidden = false;
    recoveryPanel.scrollIntoView();
  } catch (error) {
    showErrors(form, { __all__: [error.message || "Die Registrierung ist fehlgeschlagen. Bitte versuchen Sie es erneut."] });
  } finally {
    setBusy(form, false);
  }
});

confirmBox.addEventListener("change", () => (finishButton.disabled = !confirmBox.checked));
document.getElementById("print-recovery").addEventListener("click", () => window.print());
document.getElementById("back-to-form").addEventListener("click", () => {
  recoveryPanel.hidden = true;
  form.hidden = false;
});
finishButton.addEventListener("click", () => {
  finishButton.disabled = true;
  finishButton.textContent = "Praxis wird angelegt …";
  form.submit();
});
