// @ts-check
// A further participant's page (issue 18: interpreter, relative, colleague): their own code, a
// waiting room, then the conference with every frame encrypted. Nothing is stored in the browser;
// a reload asks for the code again.
import * as media from "../lib/media.js";
import { ApiError } from "../lib/api.js";
import { FrameCrypto, frameEncryptionSupported } from "../lib/framecrypto.js";
import { postWithProof } from "../lib/proofofwork.js";
import { SignallingClient } from "../lib/signalling.js";
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
/** @type {SignallingClient | null} the pair socket to the doctor's page (a direct call when two are left) */
let pair = null;
/** @type {import("../lib/call.js").Call | null} the direct call with the doctor, while the two are alone */
let direct = null;

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
  direct?.close();
  pair?.close();
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
  const camera = stream;
  /** A seat in the conference: its own call key and frame worker; joins the room once admitted
   * and holding the key. A new one after a direct call, so the room after it has a new key. */
  const newSeat = () => {
    const room = new ConferenceView(view.root, camera, new FrameCrypto());
    const fresh = new ConferenceSeat(granted.token, room);
    fresh.onstate = (state, message) => {
      if (state === "joining") {
        endDirect(); // into the room again: the direct call with the doctor ends
        view.useRoom(room); // camera and a shared screen go to the room
      } else if (state === "in") {
        show("call");
        view.enterCall();
      } else if (state === "removed" || state === "ended") finish(message ?? "Die Konferenz ist beendet.");
    };
    fresh.onadmitted = openPair;
    fresh.start().catch((error) => show("waiting", errorMessage(error)));
    return fresh;
  };
  /** @type {RTCIceServer[]} */
  let iceServers = [];
  /** The doctor's page offers a direct call (the patient is gone, only the two are left): out of
   * the room (keys dropped; a new seat keeps asking, for the room to come), into the call. */
  const startDirect = () => {
    if (!pair) return;
    if (seat?.joined) {
      seat.quit();
      seat = newSeat();
    }
    direct?.close();
    direct = view.newCall(pair, { polite: true, iceServers, sending: true });
    show("call");
    view.enterCall();
  };
  const endDirect = () => {
    direct?.close();
    direct = null;
  };
  /** Admitted: the pair socket is opened once and stays (it reconnects by itself). */
  function openPair() {
    if (pair) return;
    const client = new SignallingClient(`/ws/konferenz/${granted.token}/`);
    pair = client;
    client
      .on("config", ({ ice_servers }) => {
        iceServers = ice_servers;
        // Back (a reload, a lost connection) while the doctor and this page talk directly: ask for
        // a fresh offer. In the room, or before anything, the doctor's page ignores it.
        if (seat && !seat.joined && (!direct || direct.state === "failed" || direct.state === "closed")) {
          client.send({ type: "signal", payload: { ready: true } });
        }
      })
      .on("signal", ({ payload }) => {
        if (payload.conference) return endDirect();
        if (payload.fresh) startDirect();
        direct?.handle(payload).catch(() => {});
      })
      .on("refused", () => {
        if (pair === client) pair = null; // admitted again later: opened again
        endDirect();
      });
    client.connect();
  }
  seat = newSeat();
});

const fromLink = new URLSearchParams(location.hash.slice(1)).get("code");
if (fromLink) codeInput.value = fromLink;
