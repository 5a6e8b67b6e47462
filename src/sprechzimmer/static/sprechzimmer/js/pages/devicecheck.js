// @ts-check
// The standalone device check (/sprechstunde/technik/): the patient tests camera, microphone and
// speaker before the appointment, without a code. A code in the fragment (the invitation's link)
// only leads on to the patient page; this page sends nothing to the server.
import { DeviceCheck } from "../ui/devicecheck.js";
import { find } from "../ui/dom.js";

/** @param {string} selector */
const $ = (selector) => find(document, selector, HTMLElement);
const check = new DeviceCheck($("#step-check"));

const code = new URLSearchParams(location.hash.slice(1)).get("code");
if (code) {
  const link = find(document, "#join-link", HTMLAnchorElement);
  link.href = `${link.pathname}#code=${encodeURIComponent(code)}`;
  $("#join-with-code").hidden = false;
  $("#join-without-code").hidden = true;
}

check.continueButton.addEventListener("click", () => {
  check.stop();
  $("#step-check").hidden = true;
  $("#check-done").hidden = false;
  document.body.dataset.step = "done";
});
$("#check-again").addEventListener("click", () => {
  $("#check-done").hidden = true;
  $("#step-check").hidden = false;
  document.body.dataset.step = "check";
  check.start();
});
$(".help-button").addEventListener("click", () => find(document, "#help", HTMLDialogElement).showModal());
document.body.dataset.step = "check";
check.start();
