// @ts-check
// A doctor's duties (templates/duty/mine.html): copying the private calendar link.
import { findOptional } from "../ui/dom.js";

const button = findOptional(document, "#copy-calendar-url", HTMLButtonElement);
const field = findOptional(document, "#calendar-url", HTMLInputElement);
const status = findOptional(document, "#copy-status", HTMLElement);

button?.addEventListener("click", async () => {
  if (!field) return;
  try {
    // A browser that asks the user first may never answer: after 2 s the link is selected instead.
    const refused = new Promise((_, reject) => setTimeout(() => reject(new Error("clipboard")), 2000));
    await Promise.race([navigator.clipboard.writeText(field.value), refused]);
    if (status) status.textContent = "Der Kalender-Link ist kopiert.";
    button.textContent = "Kopiert ✓";
  } catch {
    // No clipboard permission (an older browser, a page without focus): select it for Strg+C.
    field.select();
    if (status) status.textContent = "Bitte kopieren Sie den markierten Kalender-Link mit Strg+C (Mac: ⌘+C).";
  }
});
