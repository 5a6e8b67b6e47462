// @ts-check
// The patient's page (no account): code and name → device check → consent → waiting room → call.
import * as e2ee from "../lib/e2ee.js";
import * as media from "../lib/media.js";
import { ApiError, request } from "../lib/api.js";
import { CallView } from "../ui/callview.js";
import { fillDeviceSelects } from "../ui/devices.js";
import { SignallingClient } from "../lib/signalling.js";
import { control, find } from "../ui/dom.js";
import { errorMessage, setBusy, showErrors } from "../ui/forms.js";
import { solve } from "../lib/proofofwork.js";

/**
 * POST /api/sprechstunde/zugang/ (video/views.py, api_patient_access), and the name typed here.
 * @typedef {object} Access
 * @property {string} token names the appointment and this browser's seat; kept in memory only
 * @property {string} practice
 * @property {string} doctor
 * @property {string} start ISO 8601
 * @property {string} practice_public_key what the typed name is encrypted to
 * @property {string} consent_version
 * @property {boolean} consent_given
 * @property {string} [name] as typed on this page
 */

/** @typedef {"enter" | "check" | "consent" | "waiting" | "call" | "done"} Step */
/** @type {Step[]} */
const steps = ["enter", "check", "consent", "waiting", "call", "done"];
/** @param {string} selector */
const $ = (selector) => find(document, selector, HTMLElement);
/** @type {Access | null} */
let access = null;
/** @type {MediaStream | null} camera and microphone, once allowed */
let stream = null;
/** @type {CallView | null} */
let view = null;
/** @type {import("../lib/call.js").Call | null} */
let call = null;
/** @type {SignallingClient | null} */
let signalling = null;
/** @type {RTCIceServer[]} */
let iceServers = [];

/**
 * @param {Step} step
 * @param {string} [message] into the step's .message
 */
function show(step, message) {
  for (const name of steps) $(`#step-${name}`).hidden = name !== step;
  document.body.dataset.step = step;
  if (message) $(`#step-${step} .message`).textContent = message;
}

// 1. Code (from the link's fragment, which never reaches a server log) and name.
const enterForm = find(document, "#step-enter form", HTMLFormElement);
const codeInput = control(enterForm, "code", HTMLInputElement);
const fragmentCode = new URLSearchParams(location.hash.slice(1)).get("code");
if (fragmentCode) codeInput.value = fragmentCode;

/**
 * Exchanges the code for a token; solves a proof of work first if the server asks for one.
 * @param {string} code
 * @returns {Promise<Access>}
 */
async function requestAccess(code) {
  const url = "/api/sprechstunde/zugang/";
  try {
    return await request("POST", url, { code });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 429 || !error.body?.challenge) throw error;
    setBusy(enterForm, true, "Einen Moment bitte, Ihr Zugang wird geprüft …");
    const nonce = await solve(error.body.challenge, error.body.bits);
    return request("POST", url, { code, proof: { challenge: error.body.challenge, nonce } });
  }
}

enterForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = control(enterForm, "name", HTMLInputElement).value.trim();
  if (!name) return showErrors(enterForm, { name: ["Bitte geben Sie Ihren Namen ein, damit die Praxis Sie erkennt."] });
  setBusy(enterForm, true, "Wird geprüft …");
  try {
    const granted = await requestAccess(codeInput.value);
    granted.name = name;
    access = granted;
    $("#appointment-info").textContent =
      `${granted.practice} · ${granted.doctor} · ${new Date(granted.start).toLocaleString("de-DE", { dateStyle: "full", timeStyle: "short" })} Uhr`;
    show("check");
    startDeviceCheck();
  } catch (error) {
    showErrors(enterForm, { code: [errorMessage(error)] });
  } finally {
    setBusy(enterForm, false);
  }
});

// 2. Device check: preview, choice of devices, clear messages.
const preview = find(document, "#preview", HTMLVideoElement);
const cameraSelect = find(document, "#check-camera", HTMLSelectElement);
const microphoneSelect = find(document, "#check-microphone", HTMLSelectElement);
const continueButton = find(document, "#check-continue", HTMLButtonElement);

async function startDeviceCheck() {
  const problem = $("#device-problem");
  problem.hidden = true;
  if (!media.webrtcSupported()) {
    problem.hidden = false;
    problem.textContent = "Ihr Browser unterstützt keine Videosprechstunde. Bitte verwenden Sie einen aktuellen Browser wie Firefox, Chrome, Edge oder Safari.";
    return;
  }
  try {
    stream = await media.open();
    preview.srcObject = stream;
    await fillDeviceSelects(cameraSelect, microphoneSelect, stream);
    continueButton.disabled = false;
  } catch (error) {
    problem.hidden = false;
    problem.textContent = media.explain(error);
  }
}

for (const select of [cameraSelect, microphoneSelect]) {
  select.addEventListener("change", async () => {
    stream?.getTracks().forEach((t) => t.stop());
    try {
      stream = await media.open({ cameraId: cameraSelect.value, microphoneId: microphoneSelect.value });
      preview.srcObject = stream;
    } catch (error) {
      $("#device-problem").hidden = false;
      $("#device-problem").textContent = media.explain(error);
    }
  });
}
$("#check-retry").addEventListener("click", startDeviceCheck);
continueButton.addEventListener("click", () => show("consent"));

// 3. Consent, stored with the appointment (time and version of the text).
const consentForm = find(document, "#step-consent form", HTMLFormElement);
consentForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  // The form is shown only after access was granted.
  if (!access) return;
  if (!control(consentForm, "accepted", HTMLInputElement).checked) {
    return showErrors(consentForm, { accepted: ["Bitte bestätigen Sie die Einwilligung, um fortzufahren."] });
  }
  setBusy(consentForm, true, "Wird gespeichert …");
  try {
    await request("POST", "/api/sprechstunde/einwilligung/", {
      token: access.token,
      version: consentForm.dataset.version,
      accepted: true,
    });
    enterWaitingRoom(access);
  } catch (error) {
    showErrors(consentForm, { __all__: [errorMessage(error)] });
  } finally {
    setBusy(consentForm, false);
  }
});

// 4. Waiting room and 5. the call.
const RECONNECTING = "Verbindung wird wiederhergestellt …";

/** The server greeted us again (after a restart or a network interruption): the waiting room no
 * longer says it is reconnecting. Other messages (the practice left) stay. */
function connectionBack() {
  const message = $("#step-waiting .message");
  if (message.textContent === RECONNECTING) message.textContent = "";
}

/**
 * @param {Access} access
 */
async function enterWaitingRoom(access) {
  show("waiting");
  // The device check let the patient go on only with a running camera and microphone.
  if (!stream) throw new Error("no media stream after the device check");
  view = new CallView($("#call"), stream);
  // The typed name is encrypted to the practice's public key: only the practice can read it.
  const name = await e2ee.wrapToPublicKey(new TextEncoder().encode(access.name ?? ""), access.practice_public_key);
  const client = new SignallingClient(`/ws/sprechstunde/${access.token}/`);
  signalling = client;
  client
    .on("waiting", ({ ice_servers }) => {
      iceServers = ice_servers;
      client.send({ type: "hello", name });
      connectionBack();
      if (document.body.dataset.step !== "call") show("waiting");
      ensureCall(); // prepared while waiting, so admission only has to answer the offer
    })
    .on("admitted", () => {
      ensureCall();
      show("call");
    })
    .on("in-call", ({ ice_servers }) => {
      // Back after an interruption: if this page lost its connection, ask for a new offer.
      iceServers = ice_servers;
      client.send({ type: "hello", name });
      connectionBack();
      if (!call || call.state === "failed" || call.state === "closed") {
        freshCall();
        show("call");
        client.send({ type: "signal", payload: { ready: true } });
      }
    })
    .on("signal", ({ payload }) => ensureCall().handle(payload))
    .on("peer-left", () => {
      freshCall(); // the practice may admit again with a new connection
      show("waiting", "Die Praxis hat das Gespräch verlassen. Bitte bleiben Sie im Wartezimmer.");
    })
    .on("ended", () => finish("Die Videosprechstunde ist beendet. Vielen Dank!"))
    .on("refused", ({ message }) => finish(message))
    .on("close", () => {
      if (document.body.dataset.step === "waiting") $("#step-waiting .message").textContent = RECONNECTING;
    });
  client.connect();
}

/** A new peer connection on the call screen; this side (the patient) answers. */
function freshCall() {
  // Both are made in enterWaitingRoom, before any message can ask for a call.
  if (!view || !signalling) throw new Error("no call screen or signalling yet");
  call = view.newCall(signalling, { polite: true, iceServers });
  return call;
}

function ensureCall() {
  return call && call.state !== "closed" ? call : freshCall();
}

/** @param {string} message */
function finish(message) {
  call?.close();
  call = null;
  signalling?.close();
  view?.stop();
  show("done", message);
}

$("#call .hangup").addEventListener("click", () => {
  signalling?.send({ type: "leave" });
  finish("Sie haben die Videosprechstunde verlassen.");
});
window.addEventListener("pagehide", () => signalling?.send({ type: "leave" }));
