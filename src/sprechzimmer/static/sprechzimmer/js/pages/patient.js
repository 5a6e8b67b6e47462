// @ts-check
// The patient's page (no account): code and name → device check → consent → waiting room → call.
import * as e2ee from "../lib/e2ee.js";
import * as media from "../lib/media.js";
import { request } from "../lib/api.js";
import { CallView } from "../ui/callview.js";
import { DeviceCheck } from "../ui/devicecheck.js";
import { clock } from "../lib/formats.js";
import { SignallingClient } from "../lib/signalling.js";
import { control, find } from "../ui/dom.js";
import { clearErrors, errorMessage, setBusy, showErrors } from "../ui/forms.js";
import { postWithProof } from "../lib/proofofwork.js";
import { FrameCrypto } from "../lib/framecrypto.js";
import { ConferenceSeat, ConferenceView } from "../ui/conference.js";

/**
 * POST /api/sprechstunde/zugang/ (video/views.py, api_patient_access), and the name typed here.
 * @typedef {object} Access
 * @property {string} token names the appointment and this browser's seat; kept in memory only
 * @property {string} practice
 * @property {string} doctor
 * @property {string} start ISO 8601
 * @property {string | null} practice_public_key what the typed name is encrypted to (none: a referral
 *   to the video duty, whose typed name is not sent)
 * @property {string} consent_version
 * @property {boolean} consent_given
 * @property {boolean} screen_sharing whether the practice's plan includes screen sharing (plus)
 * @property {string} [name] as typed on this page (never stored)
 */

/**
 * What this tab keeps in sessionStorage, so that a reload returns to the waiting room or the call
 * without asking again (docs/signalling.md, "Reload"): the token, what the header shows and the
 * name already encrypted to the practice key — nothing readable about the patient. sessionStorage
 * belongs to this tab and is gone when it closes.
 * @typedef {object} Visit
 * @property {string} token
 * @property {string} practice
 * @property {string} doctor
 * @property {string} start
 * @property {string} nameEnvelope
 * @property {number | null} callStartedAt epoch ms, once the call connected
 * @property {boolean} [screenSharing] the practice's plan includes screen sharing (absent: it does)
 */

/** @typedef {"enter" | "check" | "consent" | "waiting" | "call" | "done"} Step */
/** @type {Step[]} */
const steps = ["enter", "check", "consent", "waiting", "call", "done"];
/** @param {string} selector */
const $ = (selector) => find(document, selector, HTMLElement);
/** @type {Access | null} */
let access = null;
/** @type {CallView | null} */
let view = null;
/** @type {import("../lib/call.js").Call | null} */
let call = null;
/** @type {SignallingClient | null} */
let signalling = null;
/** @type {RTCIceServer[]} */
let iceServers = [];
/** Whether the practice let us in: only then does our connection carry camera and microphone. */
let admitted = false;

const VISIT_KEY = "sz-visit";

/** @returns {Visit | null} */
function loadVisit() {
  try {
    const visit = JSON.parse(sessionStorage.getItem(VISIT_KEY) ?? "null");
    return visit && typeof visit.token === "string" && typeof visit.nameEnvelope === "string" ? visit : null;
  } catch {
    return null;
  }
}

/** @param {Visit | null} visit */
function saveVisit(visit) {
  try {
    if (visit) sessionStorage.setItem(VISIT_KEY, JSON.stringify(visit));
    else sessionStorage.removeItem(VISIT_KEY);
  } catch {
    // Storage off (private mode in some browsers): a reload then asks again, nothing worse.
  }
}

/**
 * The header and the waiting room say whom the patient visits and when.
 * @param {{practice: string, doctor: string, start: string}} visit
 */
function showVisit(visit) {
  $("#visit-practice").textContent = visit.practice;
  $("#visit-doctor").textContent = visit.doctor;
  const when = new Date(visit.start).toLocaleString("de-DE", { dateStyle: "full", timeStyle: "short" });
  $("#appointment-info").textContent = `${visit.practice} · ${visit.doctor} · ${when} Uhr`;
  $("#waiting-appointment").textContent = `Ihr Termin: ${when} Uhr bei ${visit.doctor}`;
}

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
// The invitation's link opened in a tab that already shows this page changes only the fragment:
// take its code, and drop the message about the code typed before.
addEventListener("hashchange", () => {
  const code = new URLSearchParams(location.hash.slice(1)).get("code");
  if (!code || $("#step-enter").hidden) return;
  codeInput.value = code;
  clearErrors(enterForm);
});

/**
 * Exchanges the code for a token; solves a proof of work first if the server asks for one.
 * @param {string} code
 * @returns {Promise<Access>}
 */
async function requestAccess(code) {
  return postWithProof("/api/sprechstunde/zugang/", { code }, () =>
    setBusy(enterForm, true, "Einen Moment bitte, Ihr Zugang wird geprüft …"),
  );
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
    showVisit(granted);
    show("check");
    check.start();
  } catch (error) {
    showErrors(enterForm, { code: [errorMessage(error)] });
  } finally {
    setBusy(enterForm, false);
  }
});

// 2. Device check: preview, choice of devices, microphone level, speaker tone, clear messages.
const check = new DeviceCheck($("#step-check"));
const continueButton = check.continueButton;
continueButton.addEventListener("click", () => {
  check.stopLevel();
  show("consent");
});

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
    // The typed name is encrypted to the practice's public key: only the practice can read it. A
    // referral to the video duty has no key: the name stays on this page (the doctor asks in the call).
    const nameEnvelope = access.practice_public_key
      ? await e2ee.wrapToPublicKey(new TextEncoder().encode(access.name ?? ""), access.practice_public_key)
      : "";
    const visit = {
      token: access.token,
      practice: access.practice,
      doctor: access.doctor,
      start: access.start,
      nameEnvelope,
      callStartedAt: null,
      screenSharing: access.screen_sharing,
    };
    saveVisit(visit);
    enterWaitingRoom(visit);
  } catch (error) {
    showErrors(consentForm, { __all__: [errorMessage(error)] });
  } finally {
    setBusy(consentForm, false);
  }
});

// 4. Waiting room and 5. the call.
const RECONNECTING = "Verbindung wird wiederhergestellt …";
/** @type {number | undefined} */
let waitedTimer;

/** The server greeted us again (after a restart or a network interruption): the waiting room no
 * longer says it is reconnecting. Other messages (the practice left) stay. */
function connectionBack() {
  const message = $("#step-waiting .message");
  if (message.textContent === RECONNECTING) message.textContent = "";
  $("#alive-text").textContent = "Verbunden mit der Praxis";
  document.body.dataset.alive = "true";
}

/** The waiting room's sign of life: how long the patient has waited, counting up. */
function startWaitedClock() {
  const since = Date.now();
  clearInterval(waitedTimer);
  waitedTimer = setInterval(() => ($("#waited").textContent = clock((Date.now() - since) / 1000)), 1000);
}

/** @param {Visit} visit */
function enterCall(visit) {
  show("call");
  view?.enterCall(visit.callStartedAt);
}

/**
 * @param {Visit} visit
 */
async function enterWaitingRoom(visit) {
  show("waiting");
  // Until the server greets this page, it is not connected: the sign of life says so (after a
  // reload it said "Verbunden" beside "wird wiederhergestellt").
  document.body.dataset.alive = "false";
  $("#alive-text").textContent = "Verbindung wird aufgebaut …";
  startWaitedClock();
  // The device check (or the resume) let the patient go on only with a running camera and microphone.
  if (!check.stream) throw new Error("no media stream after the device check");
  find(document, "#waiting-self", HTMLVideoElement).srcObject = check.stream;
  if (visit.screenSharing === false) $("#call").dataset.screenSharing = "off";
  view = new CallView($("#call"), check.stream);
  view.onHangup = () => {
    const message = "Sie haben die Videosprechstunde verlassen.";
    // In a conference the server takes this page out of the room and the key first.
    seat?.leave(message);
    signalling?.send({ type: "leave" });
    finish(message);
  };
  const name = visit.nameEnvelope;
  const client = new SignallingClient(`/ws/sprechstunde/${visit.token}/`);
  signalling = client;
  client
    .on("waiting", ({ ice_servers }) => {
      iceServers = ice_servers;
      admitted = false;
      client.send({ type: "hello", name });
      connectionBack();
      if (document.body.dataset.step !== "call") show("waiting");
      ensureCall(); // prepared while waiting, so admission only has to answer the offer
    })
    .on("admitted", () => {
      admitted = true;
      const current = ensureCall();
      if (!current.sending) current.startSending().catch(() => {});
      enterCall(visit);
    })
    .on("in-call", ({ ice_servers }) => {
      // Back after an interruption or a reload: if this page lost its connection, ask for a new offer.
      iceServers = ice_servers;
      admitted = true;
      client.send({ type: "hello", name });
      connectionBack();
      if (!call || !call.negotiated || call.state === "failed" || call.state === "closed") {
        freshCall();
        enterCall(visit);
        client.send({ type: "signal", payload: { ready: true } });
      }
    })
    .on("signal", ({ payload }) => {
      if (payload.conference) return joinConference(visit);
      // The doctor and this page are the only two left: the doctor's page offers a fresh direct
      // call (docs/conferences.md, "Back to peer-to-peer"); out of the room, into it.
      if (seat && payload.fresh) leaveConference();
      if (seat) return; // in the conference room: no direct call any more
      (payload.fresh ? freshCall() : ensureCall()).handle(payload);
    })
    .on("pong", () => connectionBack())
    .on("peer-left", () => {
      admitted = false;
      freshCall(); // the practice may admit again with a new connection
      view?.idle();
      show("waiting", "Die Praxis hat das Gespräch verlassen. Bitte bleiben Sie im Wartezimmer.");
    })
    .on("ended", () => finish("Die Videosprechstunde ist beendet. Vielen Dank!"))
    .on("refused", ({ message }) => finish(message))
    .on("close", () => {
      document.body.dataset.alive = "false";
      $("#alive-text").textContent = RECONNECTING;
      if (document.body.dataset.step === "waiting") $("#step-waiting .message").textContent = RECONNECTING;
    });
  client.connect();
}

/** @type {ConferenceSeat | null} once the practice moved the call to a conference */
let seat = null;

/**
 * The practice admitted a third person: the call moves to the conference room (issue 18). The
 * direct connection ends; this page sends its call key and joins once it holds the conference key.
 * @param {Visit} visit
 */
function joinConference(visit) {
  if (seat || !view || !check.stream) return;
  call?.close();
  call = null;
  const conference = new ConferenceView(view.root, check.stream, new FrameCrypto());
  view.useRoom(conference); // camera and a shared screen go to the room until it ends
  seat = new ConferenceSeat(visit.token, conference);
  seat.onstate = (state, message) => {
    if (state === "in") enterCall(visit);
    if (state === "removed" || state === "ended") finish(message ?? "Die Konferenz ist beendet.");
  };
  seat.start().catch(() => {});
}

/** Back to a direct call: out of the Janus room, keys dropped; the fresh offer follows. */
function leaveConference() {
  seat?.quit();
  seat = null;
}

/** A new peer connection on the call screen; this side (the patient) answers. */
function freshCall() {
  // Both are made in enterWaitingRoom, before any message can ask for a call.
  if (!view || !signalling) throw new Error("no call screen or signalling yet");
  call = view.newCall(signalling, { polite: true, iceServers, sending: admitted });
  // The practice admitted us (its browser says so over the connection, a moment before the
  // server's "admitted" arrives): our media starts at once.
  const current = call;
  current.onPeerStarted = () => {
    if (!current.sending) current.startSending().catch(() => {});
  };
  const report = call.onState;
  call.onState = (state) => {
    report(state);
    const visit = loadVisit();
    if (state === "connected" && visit && !visit.callStartedAt) saveVisit({ ...visit, callStartedAt: Date.now() });
  };
  return call;
}

function ensureCall() {
  return call && call.state !== "closed" ? call : freshCall();
}

/** @param {string} message */
function finish(message) {
  saveVisit(null);
  clearInterval(waitedTimer);
  check.stopLevel();
  const startedAt = view?.startedAt ?? null;
  seat?.stop("ended", message);
  view?.end(message);
  call = null;
  signalling?.close();
  media.stopAll(check.stream);
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  $(".done-duration").textContent = startedAt === null ? "" : `Gesprächsdauer: ${clock((Date.now() - startedAt) / 1000)} (Minuten:Sekunden)`;
  show("done", message);
}

// A reload within the visit: back to the waiting room or the call, without name, device check and
// consent again. The camera permission is remembered by the browser, so no question either.
async function resume() {
  const visit = loadVisit();
  if (!visit) return;
  showVisit(visit);
  show("waiting", RECONNECTING); // cleared by the server's greeting (connectionBack)
  try {
    check.use(await media.open());
    check.stopLevel();
  } catch (error) {
    // The camera is gone or no longer allowed: the device check says why and how to go on.
    access = null;
    show("check");
    check.problem(media.explain(error));
    continueButton.addEventListener("click", () => enterWaitingRoom(visit), { once: true });
    return;
  }
  enterWaitingRoom(visit);
}

$(".help-button").addEventListener("click", () => find(document, "#help", HTMLDialogElement).showModal());
resume();
