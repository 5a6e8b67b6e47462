// @ts-check
// API-Zugänge: the main user grants the practice key to an encrypting API client after comparing
// the fingerprint the client printed with the one shown here (docs/api.md).
import { grantClient } from "../lib/keyring.js";
import { errorMessage } from "../ui/forms.js";

for (const button of document.querySelectorAll("button[data-grant-url]")) {
  if (!(button instanceof HTMLButtonElement)) continue;
  const status = button.parentElement?.querySelector(".status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await grantClient(button.dataset.grantUrl || "", button.dataset.publicKey || "");
      button.replaceWith("freigegeben");
      if (status) status.textContent = "";
    } catch (error) {
      if (status) {
        status.textContent = errorMessage(error);
        status.className = "status error";
      }
      button.disabled = false;
    }
  });
}
