// Appointments of the practice: day and week views, create/move/cancel, access codes and the
// invitation, which is composed here so the patient's address never reaches the server.
import { getJson, request } from "../lib/api.js";
import { PracticeFeed } from "../lib/practicefeed.js";
import { practiceKey, practiceKeyPair } from "../lib/keyring.js";
import { decryptPatient, encryptPatient } from "../lib/patientdata.js";
import { showErrors, clearErrors } from "../ui/forms.js";

const $ = (selector) => document.querySelector(selector);
const days = $("#days");
const status = $("#calendar .status");
const dialog = $("#appointment-dialog");
const form = dialog.querySelector("form");
const practiceName = $("#calendar").dataset.practice;
let keyEntry = null;
let editing = null;
const cache = new Map();

const isoDate = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
const timeOf = (iso) => new Date(iso).toLocaleTimeString("de-DE", { hour: "2-digit", minute: "2-digit" });

function range() {
  const day = new Date(`${$("#day").value}T00:00`);
  if ($("#view").value === "day") return [day, day];
  const monday = addDays(day, -((day.getDay() + 6) % 7));
  return [monday, addDays(monday, 6)];
}

async function load() {
  const [first, last] = range();
  const doctor = $("#doctor-filter").value;
  status.textContent = "Termine werden geladen …";
  try {
    const { appointments } = await getJson(`/api/termine/?von=${isoDate(first)}&bis=${isoDate(last)}${doctor ? `&arzt=${doctor}` : ""}`);
    for (const a of appointments) a.patientData = await decryptPatient(keyEntry, a.patient);
    render(first, last, appointments);
    status.textContent = "";
  } catch (error) {
    status.textContent = error.message;
  }
}

function render(first, last, appointments) {
  days.replaceChildren();
  cache.clear();
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

function row(a) {
  cache.set(a.id, a);
  const item = document.createElement("div");
  item.className = "appointment";
  item.dataset.id = a.id;
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
  const link = Object.assign(document.createElement("a"), { className: "button small room-link", href: `/praxis/termine/${a.id}/raum/`, textContent: "Videoraum" });
  actions.append(link);
  for (const [text, handler] of [
    ["Bearbeiten", () => edit(a)],
    ["Neuer Code", () => reissue(a)],
    ["Absagen", () => setStatus(a, "cancelled", "Termin wirklich absagen? Der Zugangscode wird ungültig.")],
    ["Nicht erschienen", () => setStatus(a, "no_show")],
  ]) {
    const button = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: text });
    button.addEventListener("click", handler);
    actions.append(button);
  }
  item.append(when, who, actions);
  return item;
}

function openForm(a) {
  editing = a;
  clearErrors(form);
  const start = a ? new Date(a.start) : nextQuarterHour();
  form.elements.doctor_id.value = a ? a.doctor_id : ($("#doctor-filter").value || form.elements.doctor_id.value);
  form.elements.date.value = isoDate(start);
  form.elements.time.value = start.toTimeString().slice(0, 5);
  form.elements.duration_minutes.value = a ? a.duration_minutes : 15;
  for (const name of ["name", "birth_date", "email", "phone", "note"]) form.elements[name].value = a ? a.patientData[name] ?? "" : "";
  dialog.showModal();
}

function nextQuarterHour() {
  const now = new Date();
  now.setMinutes(Math.ceil((now.getMinutes() + 1) / 15) * 15, 0, 0);
  return now;
}

const edit = (a) => openForm(a);

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  if (!data.name.trim()) return showErrors(form, { name: ["Bitte geben Sie den Namen des Patienten an."] });
  if (!data.date || !data.time) return showErrors(form, { date: ["Bitte geben Sie Datum und Uhrzeit an."] });
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
    await load();
  } catch (error) {
    // Everything typed stays in the form.
    // The server names its fields; the form has date and time where the server has "start".
    const { start, patient, ...errors } = error.body?.errors ?? { __all__: [error.message] };
    showErrors(form, { ...errors, ...(start ? { date: start } : {}), ...(patient ? { __all__: patient } : {}) });
  }
});

async function reissue(a) {
  if (!confirm("Neuen Zugangscode erzeugen? Der bisherige Code wird sofort ungültig.")) return;
  try {
    const { code } = await request("POST", `/api/termine/${a.id}/code/`, {});
    showInvitation(a, code);
  } catch (error) {
    status.textContent = error.message;
  }
}

async function setStatus(a, value, question) {
  if (question && !confirm(question)) return;
  try {
    await request("PATCH", `/api/termine/${a.id}/`, { status: value, base_version: a.version });
    await load();
  } catch (error) {
    status.textContent = error.message;
  }
}

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
    "",
    "Mit freundlichen Grüßen",
    practiceName,
  ].join("\n");
}

function showInvitation(a, code) {
  const text = invitationText(a, code);
  const inv = $("#invitation-dialog");
  $("#invitation-code").textContent = code;
  $("#invitation-text").textContent = text;
  document.querySelector("#invitation-print .invitation-text").textContent = text;
  const subject = `Ihre Videosprechstunde am ${new Date(a.start).toLocaleDateString("de-DE")}`;
  $("#invitation-mail").href = `mailto:${encodeURIComponent(a.patientData.email || "")}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(text)}`;
  inv.showModal();
}

$("#invitation-copy").addEventListener("click", async () => {
  await navigator.clipboard.writeText($("#invitation-text").textContent);
  $("#invitation-copy").textContent = "Kopiert ✓";
});
$("#invitation-print-button").addEventListener("click", () => {
  document.body.classList.add("printing-invitation");
  window.print();
  document.body.classList.remove("printing-invitation");
});
for (const button of document.querySelectorAll(".close-dialog")) button.addEventListener("click", () => button.closest("dialog").close());

$("#new-appointment").addEventListener("click", () => openForm(null));
for (const id of ["view", "day", "doctor-filter"]) $(`#${id}`).addEventListener("change", load);
$("#today").addEventListener("click", () => { $("#day").value = isoDate(new Date()); load(); });
$("#prev").addEventListener("click", () => { $("#day").value = isoDate(addDays(new Date(`${$("#day").value}T00:00`), $("#view").value === "day" ? -1 : -7)); load(); });
$("#next").addEventListener("click", () => { $("#day").value = isoDate(addDays(new Date(`${$("#day").value}T00:00`), $("#view").value === "day" ? 1 : 7)); load(); });

// Live: a patient entering the waiting room shows up without reloading.
function live() {
  const feed = new PracticeFeed();
  feed.onAppointment = (appointment) => {
    const item = days.querySelector(`.appointment[data-id="${appointment.id}"]`);
    if (!item) return;
    item.dataset.status = appointment.status;
    const labels = { planned: "geplant", waiting: "wartet", in_call: "im Gespräch", done: "abgeschlossen", cancelled: "abgesagt", no_show: "nicht erschienen" };
    item.querySelector(".status-label").textContent = labels[appointment.status] ?? appointment.status;
  };
  feed.connect();
}

async function start() {
  $("#day").value = isoDate(new Date());
  try {
    keyEntry = await practiceKey();
    await practiceKeyPair(); // made once per practice, before the first patient needs it
  } catch (error) {
    status.textContent = error.message;
    return;
  }
  await load();
  live();
}

start();
