// @ts-check
// The practice's start page ("Übersicht"): today's appointments per doctor and who is waiting now,
// live from the practice feed (/ws/praxis/). Patient names are decrypted here with the practice
// key; the server sends only ciphertext.
import { getJson } from "../lib/api.js";
import { PracticeFeed } from "../lib/practicefeed.js";
import { practiceKey } from "../lib/keyring.js";
import { decryptPatient } from "../lib/patientdata.js";
import { find } from "../ui/dom.js";
import { errorMessage } from "../ui/forms.js";

/**
 * An appointment as GET /api/termine/ lists it (video/views.py, appointment_json), with its
 * patient's name once decrypted.
 * @typedef {object} Appointment
 * @property {number} id
 * @property {number} doctor_id
 * @property {string} doctor
 * @property {string} start ISO 8601
 * @property {number} duration_minutes
 * @property {import("../lib/signalling.js").AppointmentState["status"]} status
 * @property {string} status_label
 * @property {string} patient envelope
 * @property {string} name decrypted here
 */

/** @type {Record<Appointment["status"], string>} */
const LABELS = { planned: "geplant", waiting: "wartet", in_call: "im Gespräch", done: "abgeschlossen", cancelled: "abgesagt", no_show: "nicht erschienen" };

const today = find(document, "#today", HTMLElement);
const status = find(today, ".status", HTMLElement);
const doctors = find(today, "#today-doctors", HTMLElement);
const todayEmpty = find(today, "#today-empty", HTMLElement);
const waiting = find(document, "#waiting-now", HTMLElement);
const waitingList = find(waiting, "#waiting-list", HTMLElement);
const waitingEmpty = find(waiting, "#waiting-empty", HTMLElement);
const waitingCount = find(waiting, "#waiting-count", HTMLElement);

/** @type {Map<number, Appointment>} today's appointments by id */
const appointments = new Map();
/** @type {Map<number, Date>} when this page saw each patient start waiting */
const waitingSince = new Map();
/** @type {import("../lib/keyring.js").PracticeKey | null} */
let keyEntry = null;

/** @param {Date} d */
const isoDate = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
/** @param {Date} d */
const clock = (d) => d.toLocaleTimeString("de-DE", { hour: "2-digit", minute: "2-digit" });

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function element(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** @param {Appointment} a */
function roomLink(a, primary = false) {
  const link = /** @type {HTMLAnchorElement} */ (element("a", primary ? "button small" : "button secondary small", primary ? "Videoraum öffnen" : "Videoraum"));
  link.href = `/praxis/termine/${a.id}/raum/`;
  link.setAttribute("aria-label", `${link.textContent} – ${a.name}`); // starts with the visible text (WCAG 2.5.3)
  return link;
}

function renderToday() {
  doctors.replaceChildren();
  /** @type {Map<string, Appointment[]>} */
  const byDoctor = new Map();
  const sorted = [...appointments.values()].sort((a, b) => a.start.localeCompare(b.start));
  for (const a of sorted) byDoctor.set(a.doctor, [...(byDoctor.get(a.doctor) ?? []), a]);
  for (const [doctor, list] of byDoctor) {
    const group = element("section", "doctor-day");
    const open = list.filter((a) => !["done", "cancelled", "no_show"].includes(a.status)).length;
    const heading = element("h3", "", doctor);
    heading.append(element("span", "small", ` · ${list.length} Termin${list.length === 1 ? "" : "e"}, ${open} offen`));
    const rows = element("ol", "day-list");
    for (const a of list) {
      const row = element("li", "day-item");
      row.dataset.id = String(a.id);
      row.dataset.status = a.status;
      row.append(
        element("time", "day-time", clock(new Date(a.start))),
        element("span", "day-name", a.name),
        element("span", `status-pill status-${a.status}`, LABELS[a.status] ?? a.status_label),
      );
      if (!["done", "cancelled", "no_show"].includes(a.status)) row.append(roomLink(a));
      rows.append(row);
    }
    group.append(heading, rows);
    doctors.append(group);
  }
  todayEmpty.hidden = appointments.size > 0;
}

function renderWaiting() {
  const list = [...appointments.values()].filter((a) => a.status === "waiting").sort((a, b) => a.start.localeCompare(b.start));
  waitingList.replaceChildren();
  for (const a of list) {
    const item = element("li", "waiting-item");
    item.dataset.id = String(a.id);
    const who = element("div", "waiting-who");
    who.append(element("strong", "waiting-name", a.name));
    const since = waitingSince.get(a.id);
    who.append(element("span", "small", `Termin ${clock(new Date(a.start))} · ${a.doctor}${since ? ` · wartet seit ${clock(since)}` : ""}`));
    item.append(element("span", "waiting-dot"), who, roomLink(a, true));
    waitingList.append(item);
  }
  waitingEmpty.hidden = list.length > 0;
  waitingCount.hidden = list.length === 0;
  waitingCount.textContent = String(list.length);
  waiting.dataset.waiting = String(list.length);
}

async function load() {
  const day = isoDate(new Date());
  /** @type {{appointments: Appointment[]}} */
  const data = await getJson(`/api/termine/?von=${day}&bis=${day}`);
  appointments.clear();
  for (const a of data.appointments) {
    a.name = (await decryptPatient(keyEntry, a.patient)).name;
    appointments.set(a.id, a);
    if (a.status === "waiting" && !waitingSince.has(a.id)) waitingSince.set(a.id, new Date());
  }
  renderToday();
  renderWaiting();
}

function live() {
  const feed = new PracticeFeed();
  feed.onAppointment = (state) => {
    const known = appointments.get(state.id);
    if (!known) {
      // Booked after this page loaded (or by a colleague): fetch the day again.
      load().catch((error) => (status.textContent = errorMessage(error)));
      return;
    }
    if (state.status === "waiting" && known.status !== "waiting") waitingSince.set(state.id, new Date());
    known.status = state.status;
    renderToday();
    renderWaiting();
  };
  feed.connect();
}

async function start() {
  // "Mittwoch, 2. Dezember" with the day and month kept together (a phone broke it after "2.").
  find(today, "#today-date", HTMLElement).textContent = new Date()
    .toLocaleDateString("de-DE", { weekday: "long", day: "numeric", month: "long" })
    .replace(/(\d\.) /, "$1\u00a0");
  try {
    keyEntry = await practiceKey();
  } catch (error) {
    // Times and doctors are still useful without the key; the names then read "(nicht lesbar)".
    status.textContent = errorMessage(error);
  }
  try {
    await load();
    if (keyEntry) status.textContent = "";
    today.dataset.state = waiting.dataset.state = "ready";
  } catch (error) {
    status.textContent = errorMessage(error);
  }
  live();
}

start();
