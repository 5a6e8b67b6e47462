// @ts-check
// Appointments of the practice: day and week views, create/move/cancel, access codes and the
// invitation, which is composed here so the patient's address never reaches the server.
import { ApiError, getJson, request } from "../lib/api.js";
import { PracticeFeed } from "../lib/practicefeed.js";
import { practiceKey, practiceKeyPair } from "../lib/keyring.js";
import { decryptPatient, encryptPatient } from "../lib/patientdata.js";
import { birthDateValid, phoneValid } from "../lib/patientrules.js";
import { find, valueControl } from "../ui/dom.js";
import { icon, setIconLabel } from "../ui/icon.js";
import { showErrors, clearErrors, errorMessage, onSubmit } from "../ui/forms.js";

/**
 * An appointment as GET /api/termine/ lists it (video/views.py, appointment_json), with its
 * patient data once decrypted here.
 * @typedef {object} Appointment
 * @property {number} id
 * @property {number} doctor_id
 * @property {string} doctor the doctor's name
 * @property {string} start ISO 8601
 * @property {number} duration_minutes
 * @property {import("../lib/signalling.js").AppointmentState["status"]} status
 * @property {string} status_label German
 * @property {string} patient envelope of PatientData under the practice key
 * @property {number} version for optimistic locking (base_version)
 * @property {import("../lib/patientdata.js").PatientData} patientData decrypted in load()
 * @property {OutgoingMessage[]} messages integrated invitations and reminders (plus), without address
 * @property {boolean} booked_online booked by the patient on the practice's booking page
 * @property {boolean} confirmed false for an online booking the practice has not confirmed yet
 */

/**
 * A message of the integrated invitation (invitations/actions.py, messages_json): no address, no text.
 * @typedef {object} OutgoingMessage
 * @property {number} id
 * @property {string} channel
 * @property {string} channel_label German
 * @property {"invitation" | "reminder" | "moved" | "cancelled"} kind
 * @property {string} kind_label German
 * @property {string} due_at ISO 8601
 * @property {"scheduled" | "retrying" | "sent" | "failed" | "dropped"} status
 * @property {string} status_label German
 */

/** @param {string} selector */
const $ = (selector) => find(document, selector, HTMLElement);
const days = $("#days");
const status = $("#calendar .status");
const dialog = find(document, "#appointment-dialog", HTMLDialogElement);
const form = find(dialog, "form", HTMLFormElement);
const practiceName = $("#calendar").dataset.practice ?? "";
const viewSelect = find(document, "#view", HTMLSelectElement);
const dayInput = find(document, "#day", HTMLInputElement);
const doctorFilter = find(document, "#doctor-filter", HTMLSelectElement);
/** @type {import("../lib/keyring.js").PracticeKey | null} */
let keyEntry = null;
/** Why keyEntry is null: shown when someone saves an appointment without the key. */
let keyProblem = "Die Schlüssel der Praxis werden noch entsperrt. Bitte versuchen Sie es gleich noch einmal.";
/** @type {Appointment | null} the appointment the dialog edits; null for a new one */
let editing = null;
/** @type {Map<number, Appointment>} */
const cache = new Map();

/** @param {Date} d */
const isoDate = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
/** @type {(d: Date, n: number) => Date} */
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
/** @param {string} iso */
const timeOf = (iso) => new Date(iso).toLocaleTimeString("de-DE", { hour: "2-digit", minute: "2-digit" });

/** @returns {[Date, Date]} the first and the last day shown */
function range() {
  const day = new Date(`${dayInput.value}T00:00`);
  if (viewSelect.value === "day") return [day, day];
  const monday = addDays(day, -((day.getDay() + 6) % 7));
  return [monday, addDays(monday, 6)];
}

/** Counts loads, so that an answer for a period the user has already left is dropped. */
let loads = 0;

async function load() {
  const mine = ++loads;
  const [first, last] = range();
  const doctor = doctorFilter.value;
  status.textContent = "Termine werden geladen …";
  try {
    /** @type {{appointments: Appointment[]}} */
    const { appointments } = await getJson(`/api/termine/?von=${isoDate(first)}&bis=${isoDate(last)}${doctor ? `&arzt=${doctor}` : ""}`);
    for (const a of appointments) a.patientData = await decryptPatient(keyEntry, a.patient);
    // Two loads overlap when the user moves on (or the first load after unlocking the key is
    // still running): only the newest may draw, or an older week would replace the one asked for.
    if (mine !== loads) return;
    render(first, last, appointments);
    status.textContent = "";
  } catch (error) {
    if (mine === loads) status.textContent = errorMessage(error);
  }
}

/**
 * @param {Date} first
 * @param {Date} last
 * @param {Appointment[]} appointments
 */
function render(first, last, appointments) {
  days.replaceChildren();
  cache.clear();
  if (!appointments.length) {
    days.append(emptyState(first));
    return;
  }
  for (let day = first; day <= last; day = addDays(day, 1)) {
    const section = document.createElement("section");
    section.className = "calendar-day";
    const heading = document.createElement("h3");
    heading.textContent = day.toLocaleDateString("de-DE", { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric" });
    section.append(heading);
    const todays = appointments.filter((a) => isoDate(new Date(a.start)) === isoDate(day));
    if (!todays.length) section.append(Object.assign(document.createElement("p"), { className: "small", textContent: "Keine Termine." }));
    for (const a of todays) section.append(row(a));
    days.append(section);
  }
}

/**
 * Nothing booked in the range shown: say so once and offer the next step (a new appointment on
 * the first day shown, or the next quarter hour when that day is today or past).
 * @param {Date} first
 */
function emptyState(first) {
  const box = Object.assign(document.createElement("div"), { className: "empty" });
  const title = Object.assign(document.createElement("p"), { className: "empty-title", textContent: "Keine Termine in diesem Zeitraum" });
  const text = Object.assign(document.createElement("p"), {
    textContent: "Legen Sie einen Videotermin an; danach erscheint die Einladung mit dem Zugangscode zum Versenden an den Patienten.",
  });
  const button = Object.assign(document.createElement("button"), { type: "button", className: "empty-new" });
  setIconLabel(button, "calendar-plus", "Termin anlegen");
  button.addEventListener("click", () => {
    openForm(null);
    if (isoDate(first) > isoDate(new Date())) valueControl(form, "date").value = isoDate(first);
  });
  box.append(icon("calendar-days"), title, text, button);
  return box;
}

const OVER = ["cancelled", "no_show", "done"];

/** @param {Appointment} a */
function row(a) {
  cache.set(a.id, a);
  const item = document.createElement("div");
  item.className = "appointment";
  item.dataset.id = String(a.id);
  item.dataset.status = a.status;
  const when = document.createElement("div");
  when.textContent = `${timeOf(a.start)} (${a.duration_minutes} min)`;
  const who = document.createElement("div");
  who.className = "who";
  who.textContent = `${a.patientData.name} · ${a.doctor} · `;
  const label = document.createElement("span");
  label.className = "status-label";
  label.textContent = a.status_label;
  who.append(label);
  const actions = document.createElement("div");
  actions.className = "actions";
  const link = Object.assign(document.createElement("a"), { className: "button small room-link", href: `/praxis/termine/${a.id}/raum/` });
  setIconLabel(link, "video", "Videoraum");
  actions.append(link);
  /** @type {[string, () => void][]} */
  const buttons = [["Bearbeiten", () => edit(a)]];
  // An appointment that is over (cancelled, no-show, done) has no code to renew and nothing to
  // cancel; its room still shows how it ended.
  if (!OVER.includes(a.status)) {
    buttons.push(
      ["Neuer Code", () => reissue(a)],
      ["Absagen", () => setStatus(a, "cancelled", "Termin wirklich absagen? Der Zugangscode wird ungültig.")],
      ["Nicht erschienen", () => setStatus(a, "no_show")],
    );
  }
  for (const [text, handler] of buttons) {
    const button = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: text });
    button.addEventListener("click", handler);
    actions.append(button);
  }
  item.append(when, who, actions);
  if (a.booked_online) item.append(bookingNotice(a));
  if (notArrived(a)) item.append(lateNotice(a));
  const sent = messageSummary(a.messages ?? []);
  if (sent) item.append(Object.assign(document.createElement("div"), { className: "small messages", textContent: sent }));
  return item;
}

/**
 * "Online gebucht", and while the practice confirms bookings by hand, the button that confirms it
 * (until then the patient's code does not open the waiting room).
 * @param {Appointment} a
 */
function bookingNotice(a) {
  const box = Object.assign(document.createElement("div"), { className: "booking-notice" });
  const text = a.confirmed ? "Online gebucht" : "Online gebucht – noch nicht bestätigt";
  box.append(Object.assign(document.createElement("span"), { className: a.confirmed ? "badge" : "badge warn", textContent: text }));
  if (!a.confirmed && a.status === "planned") {
    const button = Object.assign(document.createElement("button"), { type: "button", className: "small", textContent: "Bestätigen" });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await request("POST", `/api/termine/${a.id}/bestaetigen/`, {});
        await load();
      } catch (error) {
        status.textContent = errorMessage(error);
        button.disabled = false;
      }
    });
    box.append(" ", button);
  }
  return box;
}

/** Minutes after the start from which a patient not in the waiting room is pointed out. */
const LATE_MINUTES = 3;
const calendarData = $("#calendar").dataset;

/** @param {Appointment} a */
function notArrived(a) {
  const start = new Date(a.start).getTime();
  const now = Date.now();
  return a.status === "planned" && now >= start + LATE_MINUTES * 60_000 && now < start + a.duration_minutes * 60_000;
}

/**
 * "Noch nicht im Wartezimmer", and on plus one click to remind the patient by e-mail or SMS (the
 * address or number from the decrypted patient data goes to the server only for this message).
 * @param {Appointment} a
 */
function lateNotice(a) {
  const box = Object.assign(document.createElement("div"), { className: "late-notice" });
  box.append(Object.assign(document.createElement("span"), { className: "badge warn", textContent: "Noch nicht im Wartezimmer" }));
  /** @type {[string, "email" | "sms", string | undefined][]} */
  const ways = [];
  if (calendarData.integratedEmail !== undefined) ways.push(["Per E-Mail erinnern", "email", a.patientData.email]);
  if (calendarData.sms !== undefined) ways.push(["Per SMS erinnern", "sms", a.patientData.phone]);
  for (const [text, channel, to] of ways) {
    if (!to) continue;
    const button = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: text });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await request("POST", `/api/termine/${a.id}/nachfrage/`, { channel, to });
        await load(); // clears the status line, so the notice comes after it
        status.textContent = "Die Erinnerung wird versendet.";
      } catch (error) {
        status.textContent = errorMessage(error);
        button.disabled = false;
      }
    });
    box.append(" ", button);
  }
  return box;
}

/**
 * One line on what became of the integrated invitation's messages ("E-Mail: Einladung gesendet,
 * Erinnerung 30.11., 13:00 geplant"); dropped ones are left out. Empty when there are none.
 * @param {OutgoingMessage[]} messages
 */
function messageSummary(messages) {
  /** @type {Map<string, string[]>} channel label → its messages */
  const byChannel = new Map();
  for (const m of messages) {
    if (m.status === "dropped") continue;
    const when = m.status === "scheduled"
      ? ` ${new Date(m.due_at).toLocaleString("de-DE", { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" })}`
      : "";
    byChannel.set(m.channel_label, [...(byChannel.get(m.channel_label) ?? []), `${m.kind_label}${when} ${m.status_label}`]);
  }
  return [...byChannel].map(([channel, parts]) => `${channel}: ${parts.join(", ")}`).join(" · ");
}

/** @param {Appointment | null} a null: a new appointment */
function openForm(a) {
  editing = a;
  clearErrors(form);
  const start = a ? new Date(a.start) : nextQuarterHour();
  const doctorId = valueControl(form, "doctor_id");
  doctorId.value = a ? String(a.doctor_id) : (doctorFilter.value || doctorId.value);
  valueControl(form, "date").value = isoDate(start);
  valueControl(form, "time").value = start.toTimeString().slice(0, 5);
  valueControl(form, "duration_minutes").value = String(a ? a.duration_minutes : 15);
  /** @type {(keyof import("../lib/patientdata.js").PatientData)[]} */
  const patientFields = ["name", "birth_date", "email", "phone", "note"];
  for (const name of patientFields) valueControl(form, name).value = a ? a.patientData[name] ?? "" : "";
  dialog.showModal();
}

function nextQuarterHour() {
  const now = new Date();
  now.setMinutes(Math.ceil((now.getMinutes() + 1) / 15) * 15, 0, 0);
  return now;
}

/** @param {Appointment} a */
const edit = (a) => openForm(a);

/** Longest name (the patients' booking page allows as many). */
const NAME_MAX = 200;

/**
 * What is wrong with the patient's data as typed, by field (empty when nothing is).
 * @param {HTMLFormElement} form
 * @param {Record<string, string>} data
 * @returns {Record<string, string[]>}
 */
function patientProblems(form, data) {
  /** @type {Record<string, string[]>} */
  const problems = {};
  if (data.name.trim().length > NAME_MAX) problems.name = [`Der Name ist zu lang (höchstens ${NAME_MAX} Zeichen).`];
  if (data.birth_date && !birthDateValid(data.birth_date)) {
    problems.birth_date = ["Das Geburtsdatum liegt in der Zukunft oder vor 1900."];
  }
  const email = form.elements.namedItem("email");
  if (data.email.trim() && email instanceof HTMLInputElement && email.validity.typeMismatch) {
    problems.email = ["Bitte geben Sie eine gültige E-Mail-Adresse an (z. B. name@beispiel.de)."];
  }
  if (data.phone.trim() && !phoneValid(data.phone.trim())) {
    problems.phone = ["Eine Telefonnummer hat 6 bis 20 Zeichen: Ziffern, Leerzeichen und ( ) / -, vorne auch +."];
  }
  return problems;
}

onSubmit(form, async () => {
  /** @type {Record<string, string>} the form's text fields (it has no file input) */
  const data = {};
  for (const [name, value] of new FormData(form)) if (typeof value === "string") data[name] = value;
  if (!data.name.trim()) return showErrors(form, { name: ["Bitte geben Sie den Namen des Patienten an."] });
  if (!data.date || !data.time) return showErrors(form, { date: ["Bitte geben Sie Datum und Uhrzeit an."] });
  // The server never sees these fields (encrypted here), so this page is the only place to check them.
  const problems = patientProblems(form, data);
  if (Object.keys(problems).length) return showErrors(form, problems);
  // Without the practice key the patient data cannot be encrypted: say why instead of failing silently.
  if (!keyEntry) return showErrors(form, { __all__: [keyProblem] });
  /** @type {import("../lib/patientdata.js").PatientData} */
  const patient = { name: data.name.trim(), birth_date: data.birth_date, email: data.email.trim(), phone: data.phone.trim(), note: data.note };
  const body = {
    doctor_id: Number(data.doctor_id),
    start: new Date(`${data.date}T${data.time}`).toISOString(),
    duration_minutes: Number(data.duration_minutes),
    patient: await encryptPatient(keyEntry, patient),
  };
  try {
    if (editing) {
      await request("PATCH", `/api/termine/${editing.id}/`, { ...body, base_version: editing.version });
      dialog.close();
    } else {
      const created = await request("POST", "/api/termine/", body);
      dialog.close();
      created.appointment.patientData = patient;
      showInvitation(created.appointment, created.code);
    }
    // What was just saved is shown: an appointment outside the days on screen (the proposed next
    // quarter hour at 23:50 is tomorrow) moves the calendar to its day.
    const [first, last] = range();
    if (data.date < isoDate(first) || data.date > isoDate(last)) dayInput.value = data.date;
    await load();
  } catch (error) {
    // Everything typed stays in the form.
    // The server names its fields; the form has date and time where the server has "start".
    /** @type {Record<string, string[]>} */
    const fieldErrors = (error instanceof ApiError && error.body?.errors) || { __all__: [errorMessage(error)] };
    const { start, patient, ...errors } = fieldErrors;
    showErrors(form, { ...errors, ...(start ? { date: start } : {}), ...(patient ? { __all__: patient } : {}) });
  }
});

/** @param {Appointment} a */
async function reissue(a) {
  if (!confirm("Neuen Zugangscode erzeugen? Der bisherige Code wird sofort ungültig.")) return;
  try {
    const { code } = await request("POST", `/api/termine/${a.id}/code/`, {});
    showInvitation(a, code);
  } catch (error) {
    status.textContent = errorMessage(error);
  }
}

/**
 * @param {Appointment} a
 * @param {"cancelled" | "no_show"} value
 * @param {string} [question] asked first; nothing happens unless confirmed
 */
async function setStatus(a, value, question) {
  if (question && !confirm(question)) return;
  try {
    await request("PATCH", `/api/termine/${a.id}/`, { status: value, base_version: a.version });
    await load();
  } catch (error) {
    status.textContent = errorMessage(error);
  }
}

/**
 * @param {Appointment} a
 * @param {string} code the access code, shown only now
 */
function invitationText(a, code) {
  const start = new Date(a.start);
  const link = `${location.origin}/sprechstunde/#code=${encodeURIComponent(code)}`;
  return [
    `Guten Tag ${a.patientData.name},`,
    "",
    `Ihre Videosprechstunde bei ${a.doctor} (${practiceName}) ist am ` +
      `${start.toLocaleDateString("de-DE", { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric" })} um ${timeOf(a.start)} Uhr.`,
    "",
    "So nehmen Sie teil:",
    `1. Öffnen Sie kurz vor dem Termin diesen Link in einem aktuellen Browser (Smartphone, Tablet oder Computer mit Kamera): ${link}`,
    `   Oder öffnen Sie ${location.origin}/sprechstunde/ und geben Sie den Zugangscode ein: ${code}`,
    "2. Geben Sie Ihren Namen ein und erlauben Sie den Zugriff auf Kamera und Mikrofon.",
    "3. Bestätigen Sie die Einwilligung. Sie warten dann im Wartezimmer, bis Sie hereingeholt werden.",
    "",
    "Das Wartezimmer öffnet 30 Minuten vor dem Termin. Bitte nehmen Sie aus einem ruhigen, geschlossenen Raum teil. Aufzeichnungen sind nicht erlaubt.",
    `Eine Anleitung mit Bildern finden Sie hier: ${location.origin}/hilfe/patienten/`,
    "",
    "Mit freundlichen Grüßen",
    practiceName,
  ].join("\n");
}

/**
 * @param {Appointment} a
 * @param {string} code
 */
function showInvitation(a, code) {
  const text = invitationText(a, code);
  const inv = find(document, "#invitation-dialog", HTMLDialogElement);
  $("#invitation-code").textContent = code;
  $("#invitation-text").textContent = text;
  $("#invitation-print .invitation-text").textContent = text;
  const subject = `Ihre Videosprechstunde am ${new Date(a.start).toLocaleDateString("de-DE")}`;
  invitationShown = { appointment: a, code };
  for (const prepare of sendingForms) prepare?.(a);
  find(document, "#invitation-mail", HTMLAnchorElement).href = `mailto:${encodeURIComponent(a.patientData.email || "")}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(text)}`;
  inv.showModal();
}

/** @type {{appointment: Appointment, code: string} | null} what the invitation dialog shows */
let invitationShown = null;

/**
 * The integrated invitation (plus): the address or number goes to the server only for sending
 * (docs/invitations.md); it is typed here or taken from the decrypted patient data.
 * @param {string} selector the form
 * @param {"email" | "sms"} channel
 * @param {"email" | "phone"} field the patient data that prefills it
 * @param {string} missing the German message for an empty field
 */
function sendingForm(selector, channel, field, missing) {
  const form = document.querySelector(selector);
  if (!(form instanceof HTMLFormElement)) return null;
  const status = find(form, ".small[aria-live]", HTMLElement);
  onSubmit(form, async () => {
    if (!invitationShown) return;
    clearErrors(form);
    status.textContent = "";
    const to = valueControl(form, "to").value.trim();
    if (!to) return showErrors(form, { to: [missing] });
    const { appointment, code } = invitationShown;
    try {
      await request("POST", `/api/termine/${appointment.id}/einladung/`, { channel, to, code });
      status.textContent = "Die Einladung wird versendet; Erinnerungen folgen vor dem Termin.";
      await load();
    } catch (error) {
      /** @type {Record<string, string[]>} */
      const errors = (error instanceof ApiError && error.body?.errors) || { __all__: [errorMessage(error)] };
      const { code: codeErrors, ...rest } = errors;
      showErrors(form, { ...rest, ...(codeErrors ? { __all__: codeErrors } : {}) });
    }
  });
  /** @param {Appointment} a */
  const prepare = (a) => {
    clearErrors(form);
    valueControl(form, "to").value = a.patientData[field] || "";
    status.textContent = "";
  };
  return prepare;
}

const sendingForms = [
  sendingForm("#invitation-send", "email", "email", "Bitte geben Sie die E-Mail-Adresse des Patienten an."),
  sendingForm("#invitation-sms", "sms", "phone", "Bitte geben Sie die Mobilfunknummer des Patienten an."),
];

$("#invitation-copy").addEventListener("click", async () => {
  await navigator.clipboard.writeText($("#invitation-text").textContent ?? "");
  $("#invitation-copy").textContent = "Kopiert ✓";
});
$("#invitation-print-button").addEventListener("click", () => {
  document.body.classList.add("printing-invitation");
  window.print();
  document.body.classList.remove("printing-invitation");
});
for (const button of document.querySelectorAll(".close-dialog")) button.addEventListener("click", () => button.closest("dialog")?.close());

$("#new-appointment").addEventListener("click", () => openForm(null));
for (const control of [viewSelect, dayInput, doctorFilter]) control.addEventListener("change", load);
$("#today").addEventListener("click", () => { dayInput.value = isoDate(new Date()); load(); });
$("#prev").addEventListener("click", () => { dayInput.value = isoDate(addDays(new Date(`${dayInput.value}T00:00`), viewSelect.value === "day" ? -1 : -7)); load(); });
$("#next").addEventListener("click", () => { dayInput.value = isoDate(addDays(new Date(`${dayInput.value}T00:00`), viewSelect.value === "day" ? 1 : 7)); load(); });

// Live: a patient entering the waiting room shows up without reloading.
function live() {
  const feed = new PracticeFeed();
  feed.onAppointment = (appointment) => {
    const item = days.querySelector(`.appointment[data-id="${appointment.id}"]`);
    if (!(item instanceof HTMLElement)) return;
    item.dataset.status = appointment.status;
    /** @type {Record<string, string>} */
    const labels = { planned: "geplant", waiting: "wartet", in_call: "im Gespräch", done: "abgeschlossen", cancelled: "abgesagt", no_show: "nicht erschienen" };
    find(item, ".status-label", HTMLElement).textContent = labels[appointment.status] ?? appointment.status;
  };
  feed.connect();
}

async function start() {
  dayInput.value = isoDate(new Date());
  try {
    keyEntry = await practiceKey();
    await practiceKeyPair(); // made once per practice, before the first patient needs it
  } catch (error) {
    keyProblem = status.textContent = errorMessage(error);
    return;
  }
  await load();
  live();
  // A patient who has not arrived three minutes after the start shows without reloading.
  setInterval(() => { if (!document.hidden && !document.querySelector("dialog[open]")) load(); }, 60_000);
}

start();
