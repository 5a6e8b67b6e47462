// @ts-check
// Members page: grant the practice key to colleagues who have set their password.
import { grant, pendingGrants, KeyringError } from "../lib/keyring.js";
import { find } from "../ui/dom.js";
import { errorMessage } from "../ui/forms.js";

const section = find(document, "#key-grants", HTMLElement);
const list = find(section, "ul", HTMLUListElement);
const status = find(section, ".status", HTMLElement);

/** @param {import("../lib/keyring.js").PendingMember[]} members */
function render(members) {
  list.replaceChildren();
  section.hidden = members.length === 0;
  for (const member of members) {
    const item = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = `${member.name} (${member.email}, ${member.role}) – Schlüssel-Fingerabdruck ${member.fingerprint}`;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Zugriff freigeben";
    button.dataset.member = String(member.id);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await grant(member);
        status.textContent = `${member.name} hat jetzt Zugriff auf die verschlüsselten Praxisdaten.`;
        status.className = "status success";
        item.remove();
      } catch (error) {
        status.textContent = errorMessage(error);
        status.className = "status error";
        button.disabled = false;
      }
    });
    item.append(label, " ", button);
    list.append(item);
  }
}

pendingGrants()
  .then(render)
  .catch((error) => {
    status.textContent = error instanceof KeyringError ? error.message : "Freigaben konnten nicht geladen werden.";
  });
