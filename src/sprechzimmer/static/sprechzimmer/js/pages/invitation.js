// @ts-check
// Accepting an invitation: the colleague's password is derived and a key pair made in the browser.
import * as e2ee from "../lib/e2ee.js";
import { control, find } from "../ui/dom.js";
import { passwordProblem, setBusy, setDerivedSecret, showErrors, typedPassword } from "../ui/forms.js";

const form = find(document, 'form[data-sz="accept-invitation"]', HTMLFormElement);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = typedPassword(form, "password");
  const password2 = typedPassword(form, "password2");
  const problem = passwordProblem(password.value, password2.value, { email: form.dataset.email ?? "" });
  if (problem) return showErrors(form, { password: [problem] });
  setBusy(form, true, "Schlüssel werden erzeugt …");
  try {
    const { authSecret, kek } = await e2ee.deriveLoginSecrets(form.dataset.email ?? "", password.value);
    const pair = await e2ee.generateKeyPair();
    control(form, "public_key", HTMLInputElement).value = await e2ee.exportPublicKey(pair.publicKey);
    control(form, "wrapped_private_key", HTMLInputElement).value = await e2ee.wrapPrivateKey(pair.privateKey, kek);
    setDerivedSecret(form, "password", authSecret);
    form.submit();
  } catch {
    showErrors(form, { __all__: ["Die Schlüssel konnten nicht erzeugt werden. Bitte laden Sie die Seite neu."] });
    setBusy(form, false);
  }
});
