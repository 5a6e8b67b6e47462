// @ts-check
// A doctor's duties (templates/duty/mine.html): copying the private calendar link.
import { findOptional } from "../ui/dom.js";

const button = findOptional(document, "#copy-calendar-url", HTMLButtonElement);
const field = findOptional(document, "#calendar-url", HTMLInputElement);
const status = findOptional(document, "#copy-status", HTMLElement);

button?.addEventListener("click", async () => {
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
    if (status) status.textContent = "Der Kalender-Link ist kopiert.";
  } catch {
    // No clipboard permission (an older browser, a page without focus): select it for Strg+C.
    field.select();
    if (status) status.textContent = "Bitte kopieren Sie den markierten Link mit Strg+C (Mac: ⌘+C).";
  }
  button.textContent = "Kopiert ✓";
});
