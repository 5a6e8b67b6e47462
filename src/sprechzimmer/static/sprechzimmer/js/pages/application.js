// K-Arzt application: checks the chosen files against the server's limits before sending, so that a
// too large selection is named here and nothing typed is lost (the server checks again).
import { showErrors } from "../ui/forms.js";

const form = document.getElementById("application-form");
const { maxFile, maxFiles, maxRequest } = Object.fromEntries(
  Object.entries(form.dataset).map(([key, value]) => [key, Number(value)]),
);
const mb = (bytes) => `${Math.round(bytes / (1024 * 1024))} MB`;

form.addEventListener("submit", (event) => {
  const files = [...form.querySelectorAll('input[type="file"]')].flatMap((input) => [...input.files]);
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
