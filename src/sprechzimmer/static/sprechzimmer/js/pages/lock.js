// @ts-check
// The lock page (templates/accounts/locked.html): the password, derived in the browser as at login,
// unlocks the session and the keys; then back to the page that was locked.
import { ApiError } from "../lib/api.js";
import { forget, unlock } from "../lib/keyring.js";
import { pageMeta } from "../lib/meta.js";
import { find } from "../ui/dom.js";
import { errorMessage, setBusy } from "../ui/forms.js";
import { LOCK_CHANNEL } from "../ui/lockscreen.js";

const card = find(document, "#lock", HTMLElement);
const form = find(card, "#unlock-form", HTMLFormElement);
const password = find(form, "#unlock-password", HTMLInputElement);
const status = find(form, "#unlock-status", HTMLElement);
const next = card.dataset.next || "/praxis/";
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(LOCK_CHANNEL) : null;

// Whatever brought this browser here (a tab that was not told), no key stays in its store.
forget().catch(() => {});

// Another tab unlocked: the keys are back in this browser's store.
channel?.addEventListener("message", (event) => {
  if (event.data === "unlocked") location.replace(next);
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  status.textContent = "";
  if (!password.value) {
    status.textContent = "Bitte geben Sie Ihr Passwort ein.";
    password.focus();
    return;
  }
  setBusy(form, true, "Wird entsperrt …");
  try {
    await unlock(pageMeta("sz-email"), password.value);
    password.value = "";
    channel?.postMessage("unlocked");
    location.replace(next);
  } catch (error) {
    status.textContent = errorMessage(error);
    if (error instanceof ApiError && error.status === 403 && error.body?.url) {
      setTimeout(() => location.assign(error.body.url), 2500);
      return;
    }
    setBusy(form, false);
    password.select();
  }
});
