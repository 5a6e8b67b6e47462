// @ts-check
// Members and devices pages (main user): start a practice key rotation, and carry on with the
// re-encryption of older records until none is left, also after a reload (docs/e2ee.md).
import { reencrypt, rotate, rotationState, setUpRecovery } from "../lib/rotation.js";
import { find } from "../ui/dom.js";
import { errorMessage } from "../ui/forms.js";
import { number as formatNumber } from "../lib/formats.js";

const section = find(document, "#key-rotation", HTMLElement);
const button = find(section, "#rotate-key", HTMLButtonElement);
const progress = find(section, "#reencrypt-progress", HTMLProgressElement);
const status = find(section, "#rotation-status", HTMLElement);
const versionLabel = find(section, "#key-version", HTMLElement);

/**
 * @param {string} text
 * @param {"" | "success" | "error"} [kind]
 */
function say(text, kind = "") {
  status.textContent = text;
  status.className = `status ${kind}`.trim();
}

async function runReencryption() {
  section.dataset.state = "reencrypting";
  progress.hidden = false;
  const result = await reencrypt((done, total) => {
    progress.max = Math.max(total, 1);
    progress.value = done;
    say(`Einträge werden mit dem neuen Schlüssel verschlüsselt: ${formatNumber(done)} von ${formatNumber(total)}.`);
  });
  progress.hidden = true;
  section.dataset.state = "done";
  if (result.failed) {
    say(`Umschlüsselung beendet; ${formatNumber(result.failed)} Einträge ließen sich nicht öffnen und sind unverändert.`, "error");
  } else {
    say("Alle Einträge sind mit dem aktuellen Praxisschlüssel verschlüsselt.", "success");
  }
}

button.addEventListener("click", async () => {
  button.disabled = true;
  section.dataset.state = "rotating";
  say("Neuer Praxisschlüssel wird erzeugt und an alle Mitglieder mit Zugriff verteilt …");
  try {
    const recoveryInput = document.querySelector("#recovery-key-input");
    if (recoveryInput instanceof HTMLInputElement) {
      await setUpRecovery(recoveryInput.value.trim());
      document.querySelector("#recovery-setup")?.remove();
    }
    const version = await rotate();
    versionLabel.textContent = formatNumber(version);
    document.querySelector("#rotation-offer")?.remove();
    await runReencryption();
  } catch (error) {
    say(errorMessage(error), "error");
    section.dataset.state = "error";
  } finally {
    button.disabled = false;
  }
});

// A re-encryption left unfinished (the page was closed or reloaded) resumes here.
rotationState()
  .then(async (state) => {
    section.dataset.state = "idle";
    if (state.stale > 0) {
      say("Eine Umschlüsselung ist noch nicht fertig; sie wird fortgesetzt.");
      await runReencryption();
    }
  })
  .catch((error) => say(errorMessage(error), "error"));
