// The patient's page (no account): code and name → device check → consent → waiting room → call.
import * as e2ee from "../lib/e2ee.js";
import * as media from "../lib/media.js";
import { request } from "../lib/api.js";
import { CallView } from "../ui/callview.js";
import { fillDeviceSelects } from "../ui/devices.js";
import { SignallingClient } from "../lib/signalling.js";
import { setBusy, showErrors } from "../ui/forms.js";
import { solve } from "../lib/proofofwork.js";

const steps = ["enter", "check", "consent", "waiting", "call", "done"];
const $ = (selector) => document.querySelector(selector);
let access = null;
let stream = null;
let view = null;
let call = null;
let signalling = null;
let iceServers = [];

function show(step, message) {
  for (const name of steps) $(`#step-${name}`).hidden = name !== step;
  document.body.dataset.step = step;
  if (message) $(`#step-${step} .message`).textContent = message;
}

// 1. Code (from the link's fragment, which never reaches a server log) and name.
const enterForm = $("#step-enter form");
const fragmentCode = new URLSearchParams(location.hash.slice(1)).get("code");
if (fragmentCode) enterForm.elements.code.value = fragmentCode;

/** Exchanges the code for a token; solves a proof of work first if the server asks for one. */
async function requestAccess(code) {
  const url = "/api/sprechstunde/zugang/";
  try {
    return await request("POST", url, { code });
  } catch (error) {
    if (error.status !== 429 || !error.body?.challenge) throw error;
    setBusy(enterForm, true, "Einen Moment bitte, Ihr Zugang wird geprüft …");
    const nonce = await solve(error.body.challenge, error.body.bits);
    return request("POST", url, { code, proof: { challenge: error.body.challenge, nonce } });
  }
}

enterForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = enterForm.elements.name.value.trim();
  if (!name) return showErrors(enterForm, { name: ["Bitte geben Sie Ihren Namen ein, damit die Praxis Sie erkennt."] });
  setBusy(enterForm, true, "Wird geprüft …");
  try {
    access = await requestAccess(enterForm.elements.code.value);
    access.name = name;
    $("#appointment-info").textContent =
      `${access.practice} · ${access.doctor} · ${new Date(access.start).toLocaleString("de-DE", { dateStyle: "full", timeStyle: "short" })} Uhr`;
    show("check");
    startDeviceCheck();
  } catch (error) {
    showErrors(enterForm, { code: [error.message] });
  } finally {
    setBusy(enterForm, false);
  }
});

// 2. Device check: preview, choice of devices, clear messages.
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
    $("#preview").srcObject = stream;
    await fillDeviceSelects($("#check-camera"), $("#check-microphone"), stream);
    $("#check-continue").disabled = false;
  } catch (error) {
    problem.hidden = false;
    problem.textContent = media.explain(error);
  }
}

for (const select of [$("#check-camera"), $("#check-microphone")]) {
  select.addEventListener("change", async () => {
    stream?.getTracks().forEach((t) => t.stop());
    try {
      stream = await media.open({ cameraId: $("#check-camera").value, microphoneId: $("#check-microphone").value });
      $("#preview").srcObject = stream;
    } catch (error) {
      $("#device-problem").hidden = false;
      $("#device-problem").textContent = media.explain(error);
    }
  });
}
$("#check-retry").addEventListener("click", startDeviceCheck);
$("#check-continue").addEventListener("click", () => show("consent"));

// 3. Consent, stored with the appointment (time and version of the text).
const consentForm = $("#step-consent form");
consentForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!consentForm.elements.accepted.checked) {
    return showErrors(consentForm, { accepted: ["Bitte bestätigen Sie die Einwilligung, um fortzufahren."] });
  }
  setBusy(consentForm, true, "Wird gespeichert …");
  try {
    await request("POST", "/api/sprechstunde/einwilligung/", {
      token: access.token,
      version: consentForm.dataset.version,
      accepted: true,
    });
    enterWaitingRoom();
  } catch (error) {
    showErrors(consentForm, { __all__: [error.message] });
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

async function enterWaitingRoom() {
  show("waiting");
  view = new CallView($("#call"), stream);
  // The typed name is encrypted to the practice's public key: only the practice can read it.
  const name = await e2ee.wrapToPublicKey(new TextEncoder().encode(access.name), access.practice_public_key);
  signalling = new SignallingClient(`/ws/sprechstunde/${access.token}/`);
  signalling
    .on("waiting", ({ ice_servers }) => {
      iceServers = ice_servers;
      signalling.send({ type: "hello", name });
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
      signalling.send({ type: "hello", name });
      connectionBack();
      if (!call || call.state === "failed" || call.state === "closed") {
        freshCall();
        show("call");
        signalling.send({ type: "signal", payload: { ready: true } });
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
  signalling.connect();
}

function freshCall() {
  call = view.newCall(signalling, { polite: true, iceServers });
  return call;
}

function ensureCall() {
  return call && call.state !== "closed" ? call : freshCall();
}

function finish(message) {
  call?.close();
  call = null;
  signalling?.close();
  view?.stop();
  show("done", message);
}

$("#call .hangup").addEventListener("click", () => {
  signalling.send({ type: "leave" });
  finish("Sie haben die Videosprechstunde verlassen.");
});
window.addEventListener("pagehide", () => signalling?.send({ type: "leave" }));
