// @ts-check
// Every page of a practice member (templates/base.html loads it): the waiting alert, so that a
// patient entering the waiting room is noticed on whatever page the doctor is, and the lock screen.
import { getJson } from "../lib/api.js";
import { lock } from "../lib/keyring.js";
import { pageMeta } from "../lib/meta.js";
import { PracticeFeed } from "../lib/practicefeed.js";
import * as alerts from "../ui/alerts.js";
import { callRunning, LOCK_CHANNEL, lockPage } from "../ui/lockscreen.js";

/**
 * What the alert needs of an appointment (GET /api/termine/, video/views.py appointment_json).
 * @typedef {{id: number, start: string, doctor: string, status: string}} Appointment
 */

/** @type {Set<number>} the appointments whose patient waits now */
const waiting = new Set();

/** @param {Date} d */
const isoDate = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/**
 * Knocks once per patient across all open tabs of this browser: the tab that gets the lock for
 * this arrival knocks and notifies, the others only update their title.
 * @param {number} id
 */
async function announce(id) {
  const arrival = async () => {
    /** @type {{appointment: Appointment}} */
    const { appointment } = await getJson(`/api/termine/${id}/`);
    const played = await alerts.knock();
    if (played) document.documentElement.dataset.knocks = String(Number(document.documentElement.dataset.knocks ?? 0) + 1);
    alerts.notifyWaiting(appointment);
    // Hold the lock a moment so the other tabs, told a little later, find it taken.
    await new Promise((resolve) => setTimeout(resolve, 3000));
  };
  if (!navigator.locks) return arrival();
  await navigator.locks.request(`sz-knock-${id}`, { ifAvailable: true }, (lock) => (lock ? arrival() : undefined));
}

function watch() {
  const feed = new PracticeFeed();
  feed.onAppointment = (appointment) => {
    const was = waiting.has(appointment.id);
    if (appointment.status === "waiting") waiting.add(appointment.id);
    else waiting.delete(appointment.id);
    alerts.titleBadge(waiting.size);
    if (appointment.status === "waiting" && !was) announce(appointment.id).catch((error) => console.warn("waiting alert", error));
  };
  feed.connect();
}

/** Patients already waiting when the page opens count in the title, without a knock. */
async function seed() {
  const today = isoDate(new Date());
  /** @type {{appointments: Appointment[]}} */
  const { appointments } = await getJson(`/api/termine/?von=${today}&bis=${today}`);
  for (const a of appointments) if (a.status === "waiting") waiting.add(a.id);
  alerts.titleBadge(waiting.size);
}

/** The buttons that ask once for desktop notifications (e.g. on the start page). */
function offerNotifications() {
  for (const button of document.querySelectorAll("[data-sz-notifications]")) {
    if (!(button instanceof HTMLButtonElement)) continue;
    button.hidden = !alerts.canAskForNotifications();
    button.addEventListener("click", async () => {
      await alerts.askForNotifications();
      button.hidden = true;
      alerts.unlockSound();
    });
  }
}

// --- lock screen (docs/e2ee.md) -------------------------------------------------------------------

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(LOCK_CHANNEL) : null;
let locking = false;

/** Wipes patient data from the page and the keys from the browser, then shows the lock page. */
async function lockScreen() {
  if (locking) return;
  locking = true;
  const target = lockPage(location.pathname + location.search);
  document.querySelector("main")?.replaceChildren(); // patient data leaves the page at once
  try {
    await lock();
  } catch (error) {
    console.warn("lock", error); // offline: the keys are gone all the same; the lock page says the rest
  }
  channel?.postMessage("locked");
  location.replace(target);
}

channel?.addEventListener("message", (event) => {
  if (event.data !== "locked" || locking) return;
  locking = true; // another tab locked: the keys are gone, so this tab follows at once
  document.querySelector("main")?.replaceChildren();
  location.replace(lockPage(location.pathname + location.search));
});

document.getElementById("sz-lock")?.addEventListener("click", () => {
  if (callRunning() && !confirm("Beim Sperren endet das laufende Gespräch. Bildschirm trotzdem sperren?")) return;
  lockScreen();
});

// Idle: no input in any tab of this browser for the practice's lock time. A running call counts as
// activity (a consultation is not idle), so the automatic lock never ends a call.
const idleLimit = (Number(pageMeta("sz-lock-minutes")) || 10) * 60_000;
const ACTIVITY = "sz-last-activity";
let lastActivity = Date.now();
let lastShared = 0;
function active() {
  lastActivity = Date.now();
  if (lastActivity - lastShared > 5000) {
    lastShared = lastActivity;
    try {
      localStorage.setItem(ACTIVITY, String(lastActivity));
    } catch {
      // storage full or refused: this tab's own clock still counts
    }
  }
}
for (const type of ["pointerdown", "pointermove", "keydown", "wheel", "touchstart", "scroll"]) document.addEventListener(type, active, { passive: true, capture: true });
active();
setInterval(() => {
  if (callRunning()) return active();
  const shared = Number(localStorage.getItem(ACTIVITY) || 0);
  if (Date.now() - Math.max(lastActivity, shared) >= idleLimit) lockScreen();
}, 5000);

for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, alerts.unlockSound, { once: true, capture: true });
offerNotifications();
seed().catch((error) => console.warn("waiting alert", error)).finally(watch);
