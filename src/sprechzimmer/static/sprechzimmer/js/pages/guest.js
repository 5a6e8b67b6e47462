// @ts-check
// A further participant's page (issue 18: interpreter, relative, colleague): their own code, a
// waiting room, then the conference with every frame encrypted. Nothing is stored in the browser;
// a reload asks for the code again.
import * as media from "../lib/media.js";
import { ApiError } from "../lib/api.js";
import { FrameCrypto, frameEncryptionSupported } from "../lib/framecrypto.js";
import { postWithProof } from "../lib/proofofwork.js";
import { CallView } from "../ui/callview.js";
import { ConferenceSeat, ConferenceView } from "../ui/conference.js";
import { control, find } from "../ui/dom.js";
import { errorMessage, setBusy, showErrors } from "../ui/forms.js";

const steps = ["enter", "waiting", "call", "done"];
/** @param {string} selector */
const $ = (selector) => find(document, selector, HTMLElement);
const enterForm = find(document, "#step-enter form", HTMLFormElement);
const codeInput = control(enterForm, "code", HTMLInputElement);
/** @type {MediaStream | null} */
let stream = null;
/** @type {ConferenceSeat | null} */
let seat = null;

/**
 * @param {string} step
 * @param {string} [message]
 */
function show(step, message) {
  for (const name of steps) $(`#step-${name}`).hidden = name !== step;
  document.body.dataset.step = step;
  if (message !== undefined) {
    const box = document.querySelector(`#step-${step} .message`);
    if (box) box.textContent = message;
  }
}

/** @param {string} code */
async function requestToken(code) {
  return postWithProof("/api/konferenz/code/", { code }, () =>
    setBusy(enterForm, true, "Einen Moment bitte, Ihr Zugang wird geprüft …"),
  );
}

/** @param {string} message */
function finish(message) {
  seat?.stop("ended", message);
  media.stopAll(stream);
  show("done", message);
}

enterForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!media.webrtcSupported() || !frameEncryptionSupported()) {
    return showErrors(enterForm, { code: ["Dieser Browser unterstützt keine verschlüsselte Konferenz. Bitte nutzen Sie einen aktuellen Chrome, Edge, Firefox oder Safari."] });
  }
  setBusy(enterForm, true, "Wird geprüft …");
  /** @type {{token: string, role: string, practice: string, doctor: string, start: string}} */
  let granted;
  try {
    granted = await requestToken(codeInput.value);
    stream = await media.open();
  } catch (error) {
    setBusy(enterForm, false);
    return showErrors(enterForm, { code: [error instanceof ApiError ? errorMessage(error) : media.explain(error)] });
  }
  setBusy(enterForm, false);
  $("#visit-practice").textContent = granted.practice;
  $("#visit-doctor").textContent = granted.doctor;
  $("#waiting-appointment").textContent = `Termin bei ${granted.doctor}, ${new Date(granted.start).toLocaleString("de-DE", { dateStyle: "medium", timeStyle: "short" })} Uhr`;
  find(document, "#waiting-self", HTMLVideoElement).srcObject = stream;
  show("waiting");
  const view = new CallView($("#call"), stream);
  // Hanging up takes this page out of the room and out of the key (a new epoch for the others).
  view.onHangup = () => {
    const message = "Sie haben die Konferenz verlassen.";
    if (seat) seat.leave(message).finally(() => finish(message));
    else finish(message);
  };
  const room = new ConferenceView(view.root, stream, new FrameCrypto());
  view.useRoom(room); // camera and a shared screen go to the room
  seat = new ConferenceSeat(granted.token, room);
  seat.onstate = (state, message) => {
    if (state === "in") {
      show("call");
      view.enterCall();
    } else if (state === "removed" || state === "ended") finish(message ?? "Die Konferenz ist beendet.");
  };
  seat.start().catch((error) => show("waiting", errorMessage(error)));
});

const fromLink = new URLSearchParams(location.hash.slice(1)).get("code");
if (fromLink) codeInput.value = fromLink;
