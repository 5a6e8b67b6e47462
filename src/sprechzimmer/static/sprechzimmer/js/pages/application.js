// @ts-check
// K-Arzt application: checks the chosen files against the server's limits before sending, so that a
// too large selection is named here and nothing typed is lost (the server checks again).
import { find } from "../ui/dom.js";
import { showErrors } from "../ui/forms.js";

const form = find(document, "#application-form", HTMLFormElement);
const { maxFile, maxFiles, maxRequest } = Object.fromEntries(
  Object.entries(form.dataset).map(([key, value]) => [key, Number(value)]),
);
/** @param {number} bytes */
const mb = (bytes) => `${Math.round(bytes / (1024 * 1024))} MB`;

form.addEventListener("submit", (event) => {
  const files = [...form.querySelectorAll('input[type="file"]')].flatMap((input) =>
    input instanceof HTMLInputElement && input.files ? [...input.files] : [],
  );
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const tooLarge = files.find((file) => file.size > maxFile);
  let problem = null;
  if (tooLarge) problem = `„${tooLarge.name}“ ist größer als ${mb(maxFile)}.`;
  else if (files.length > maxFiles) problem = `Bitte laden Sie höchstens ${maxFiles} Dateien auf einmal hoch.`;
  else if (total > maxRequest) problem = `Die gewählten Dateien sind zusammen größer als ${mb(maxRequest)}; bitte laden Sie sie in mehreren Schritten hoch.`;
  if (problem) {
    event.preventDefault();
    showErrors(form, { __all__: [problem] });
  }
});
