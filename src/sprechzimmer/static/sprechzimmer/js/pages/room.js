// @ts-check
// The doctor's video room for one appointment: local preview, the waiting patient, admit, call.
import * as media from "../lib/media.js";
import { getJson, request } from "../lib/api.js";
import { practiceKey, practiceKeyPair, openFromPatient } from "../lib/keyring.js";
import { decryptPatient } from "../lib/patientdata.js";
import { CallView } from "../ui/callview.js";
import { SignallingClient } from "../lib/signalling.js";
import { find, findOptional } from "../ui/dom.js";
import { errorMessage } from "../ui/forms.js";
import { ConferenceHost } from "../ui/conferencehost.js";

const root = find(document, "#room", HTMLElement);
const appointmentId = root.dataset.appointment;
/** @param {string} selector */
const $ = (selector) => find(root, selector, HTMLElement);
const admitButton = find(root, ".admit", HTMLButtonElement);
/** Whether the patient hung up (or lost the call) on this page: the server ended that call. */
let patientLeft = false;
const lobby = $(".lobby-status");
/** @type {MediaStream | null} camera and microphone, once allowed */
let stream = null;
/** @type {CallView | null} the call screen, once the media runs */
let view = null;
/** @type {import("../lib/call.js").Call | null} the call with the patient, if any */
let call = null;
/** @type {RTCIceServer[]} from the server's config message */
let iceServers = [];
/** @type {import("../lib/keyring.js").PracticeKeyPair | null} to read the name the patient typed */
let keyPair = null;
/** Whether the server's config (ICE servers) arrived: only then is a connection prepared. */
let configured = false;
/** Whether the patient's seat was held at the last state: a new arrival gets a fresh connection. */
let patientWasPresent = false;
/** @type {string | null} */
let patientSeat = null;
/** @type {WeakSet<import("../lib/call.js").Call>} calls whose media start was reported */
const announced = new WeakSet();

/** The patient hung up or lost the call: the server ended it (a connected call is a video contact)
 * and the code opens the waiting room again. */
const LEFT = "Der Patient hat das Gespräch verlassen. Kommt er über seinen Link zurück, können Sie ihn erneut hereinholen.";

/** The patient's connection is gone while the call runs (in a conference the others go on). */
const INTERRUPTED = "Die Verbindung des Patienten ist unterbrochen; er kommt über seinen Link zurück.";

/** @param {string} text */
function say(text) {
  lobby.textContent = text;
}

async function showPatient() {
  // A referral to the video duty stores nothing about the patient (docs/e2ee.md): no key, no name.
  if (root.dataset.referral) return;
  const keyEntry = await practiceKey();
  /** @type {{appointment: {patient: string}}} */
  const { appointment } = await getJson(`/api/termine/${appointmentId}/`);
  const patient = await decryptPatient(keyEntry, appointment.patient);
  $(".patient-name").textContent = patient.name;
  $(".patient-birth").textContent = patient.birth_date ? `geb. ${new Date(patient.birth_date).toLocaleDateString("de-DE")}` : "";
  keyPair = await practiceKeyPair();
}

/** @param {import("../lib/signalling.js").AppointmentState} appointment */
async function showState(appointment) {
  root.dataset.status = appointment.status;
  if (appointment.waiting_name && keyPair) {
    $(".typed-name").textContent = `Im Wartezimmer angemeldet als: ${await openFromPatient(appointment.waiting_name, keyPair)}`;
  } else if (!appointment.patient_present) {
    $(".typed-name").textContent = "";
  }
  const waiting = appointment.patient_present && appointment.status === "waiting";
  // Arrived: present now and not before, or a new page of the patient took the seat over (a reload).
  const arrived =
    appointment.patient_present && (!patientWasPresent || (appointment.patient_seat ?? null) !== patientSeat);
  patientWasPresent = appointment.patient_present;
  patientSeat = appointment.patient_seat ?? null;
  admitButton.hidden = !(waiting || (appointment.status === "in_call" && appointment.patient_present && !call));
  admitButton.disabled = false;
  if (waiting) {
    say("Der Patient wartet im Wartezimmer.");
    // While the call runs through the conference (the room, or a direct call with a guest) the
    // patient comes back into it when admitted, not into a direct call of their own.
    if ((!call || arrived) && !host?.inCall()) prepare();
  }
  else if (appointment.status === "in_call") {
    if (!appointment.patient_present) say(INTERRUPTED);
    // No call on this page (reloaded) while the patient is there: admit again.
    else if (!call) say("Das Gespräch läuft; holen Sie den Patienten erneut herein.");
    else say("Im Gespräch.");
  }
  else if (appointment.status === "done") say("Das Gespräch ist beendet und als Videokontakt erfasst.");
  else if (host?.inCall()) say(INTERRUPTED);
  else if (patientLeft) say(LEFT);
  else say("Noch niemand im Wartezimmer.");
}

/**
 * A fresh peer connection on the call screen; this side (the doctor) makes the offers.
 * @param {boolean} sending false: negotiate now, media only from admission on
 */
function newCall(sending) {
  // The socket connects only once the call screen is there (start()).
  if (!view) throw new Error("no call screen yet");
  const fresh = view.newCall(signalling, { polite: false, iceServers, sending });
  const report = fresh.onState;
  fresh.onState = (state) => {
    report(state);
    announce(fresh);
  };
  call = fresh;
  return fresh;
}

/**
 * Tells the server once that media flows (the video contact's start): connected and admitted.
 * @param {import("../lib/call.js").Call} current
 */
function announce(current) {
  if (current.sending && current.state === "connected" && !announced.has(current)) {
    announced.add(current);
    signalling.send({ type: "connected" });
  }
}

/** The early connection (docs/signalling.md): ICE and DTLS with the waiting patient, no media
 * until admission, so that admitting only has to start the media. */
function prepare() {
  if (!configured || !stream) return;
  newCall(false)
    .offer()
    .catch(() => {});
}

const signalling = new SignallingClient(`/ws/raum/${appointmentId}/`);
signalling
  .on("state", ({ appointment }) => showState(appointment))
  .on("config", ({ ice_servers }) => {
    iceServers = ice_servers;
    configured = true;
    if (root.dataset.status === "waiting" && patientWasPresent && !call) prepare();
  })
  .on("admitted", () => {
    root.classList.add("in-call");
    view?.enterCall();
  })
  .on("signal", async ({ payload }) => {
    if (payload.ready && host?.view) {
      // The patient's page was reloaded inside the conference: back into the room, not a direct call.
      signalling.send({ type: "signal", payload: { conference: true } });
    } else if (payload.ready && host?.inCall()) {
      // The patient's page comes back while the doctor talks directly with a guest (the patient's
      // leaving never reached the server, so their call goes on): into the conference with both.
      await host.admitPatient().catch((error) => say(errorMessage(error)));
    } else if (payload.ready) {
      // The patient's page lost its connection (a reload in the call): a fresh one, we offer.
      await newCall(root.dataset.status === "in_call").offer();
    } else {
      await call?.handle(payload);
    }
  })
  .on("peer-left", () => {
    // In a conference the others go on; the patient's tile leaves with them and comes back with them.
    if (host?.inCall()) return say(INTERRUPTED);
    call?.close();
    call = null;
    root.classList.remove("in-call");
    view?.idle();
    patientLeft = true;
    if (root.dataset.status !== "done") say(LEFT);
  })
  .on("ended", () => endCall())
  .on("refused", ({ message }) => say(message))
  .on("error", ({ message }) => {
    call?.close();
    call = null;
    say(message);
  })
  .on("close", () => say("Verbindung zum Server unterbrochen – wird wiederhergestellt …"));

admitButton.addEventListener("click", async () => {
  admitButton.disabled = true;
  // The server lets the patient in first; then the media starts on the prepared connection, or
  // (none prepared) the offer follows the admission on the same socket.
  signalling.send({ type: "admit" });
  if (host?.inCall()) {
    await host.admitPatient().catch((error) => say(errorMessage(error)));
  } else if (call && !call.sending) {
    const current = call;
    await current.startSending();
    announce(current);
  } else await newCall(true).offer();
});

/** The call is over: end state on the page; camera and microphone are released. */
function endCall() {
  call = null;
  host?.stop();
  root.classList.remove("in-call");
  root.classList.add("ended");
  admitButton.hidden = true;
  view?.end("Das Gespräch ist als Videokontakt erfasst.");
  say("Das Gespräch ist beendet und als Videokontakt erfasst.");
}

// Only doctors confirm the eGK check (the page has no button for practice staff).
const egkButton = findOptional(root, ".egk", HTMLButtonElement);
egkButton?.addEventListener("click", async () => {
  try {
    await request("POST", `/api/termine/${appointmentId}/egk/`, {});
    egkButton.disabled = true;
    egkButton.textContent = "eGK geprüft ✓";
  } catch (error) {
    say(errorMessage(error));
  }
});

/** @type {ConferenceHost | null} further participants (plus, with Janus): the panel is there then */
let host = null;

function startConference() {
  const panel = findOptional(root, ".conference-panel", HTMLElement);
  if (!panel || !appointmentId) return;
  host = new ConferenceHost({
    panel,
    appointment: appointmentId,
    practiceKey,
    patientName: () => $(".patient-name").textContent ?? "",
    screen: () => (view && stream ? { stream, root: view.root } : null),
    onconference: () => {
      // From the third person on the call runs through the room; the direct one ends here and,
      // by the message, on the patient's page (docs/signalling.md, "Conferences").
      signalling.send({ type: "signal", payload: { conference: true } });
      call?.close();
      call = null;
      root.classList.add("in-call");
      if (host?.view) view?.useRoom(host.view); // camera and a shared screen go to the room
      view?.enterCall();
    },
    ondirect: () => {
      // Two again: a fresh direct call over the same socket; its first offer says `fresh`, so the
      // patient's page leaves the room and answers it. Absent patient: their page asks when back.
      if (patientWasPresent && root.dataset.status === "in_call") newCall(true).offer().catch(() => {});
    },
    // The doctor and one guest are left: their direct call on the same call screen, this side offers.
    directCall: (pair, servers) => {
      if (!view) throw new Error("no call screen yet");
      return view.newCall(pair, { polite: false, iceServers: servers, sending: true });
    },
  });
  host.start();
}

async function start() {
  try {
    await showPatient();
  } catch (error) {
    say(errorMessage(error));
  }
  if (root.dataset.status === "done") {
    // Over already: no camera for a call that cannot come.
    $("#call").hidden = true;
    return say("Das Gespräch ist beendet und als Videokontakt erfasst.");
  }
  if (!media.webrtcSupported()) return say("Dieser Browser unterstützt keine Videosprechstunde.");
  try {
    stream = await media.open();
  } catch (error) {
    return say(media.explain(error));
  }
  view = new CallView($("#call"), stream);
  startConference();
  view.onHangup = () => {
    signalling.send({ type: "hangup" });
    endCall();
  };
  signalling.connect();
}

start();
