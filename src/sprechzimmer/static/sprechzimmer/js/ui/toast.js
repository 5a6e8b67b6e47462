// @ts-check
// Short notices that come and go (saved, copied, a patient is waiting): one live region per page
// (<div class="toasts"> in templates/base.html), read out by screen readers, closable by hand.
import { icon } from "./icon.js";

/** How long a notice stays: long enough to read a sentence slowly. */
const SHOW_MS = 8000;

/**
 * @param {string} message German text for people
 * @param {"info" | "success" | "warning" | "error"} [kind]
 * @returns {HTMLElement} the notice (already on the page)
 */
export function toast(message, kind = "info") {
  let region = document.querySelector(".toasts");
  if (!(region instanceof HTMLElement)) {
    region = Object.assign(document.createElement("div"), { className: "toasts" });
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
  }
  const item = Object.assign(document.createElement("div"), { className: `toast ${kind}` });
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  const names = { info: "info", success: "circle-check", warning: "triangle-alert", error: "circle-alert" };
  const text = Object.assign(document.createElement("span"), { textContent: message });
  const close = Object.assign(document.createElement("button"), { type: "button", className: "icon-only" });
  close.setAttribute("aria-label", "Hinweis schließen");
  close.append(icon("x"));
  close.addEventListener("click", () => item.remove());
  item.append(icon(names[kind]), text, close);
  region.append(item);
  setTimeout(() => item.remove(), SHOW_MS);
  return item;
}
