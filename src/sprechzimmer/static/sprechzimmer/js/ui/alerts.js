// @ts-check
// The waiting alert on every practice page: a knock (made with WebAudio, no sound file), the number
// of waiting patients in the tab title ("(1) Termine · Sprechzimmer") and, if the member allowed it
// once, a desktop notification. Does nothing on import; pages/practice.js wires it to the feed.

/** @type {AudioContext | null} */
let audio = null;

/**
 * The page's AudioContext. Browsers start it suspended until the member has touched the page, so
 * it is made (or resumed) on the first click or key press, and a knock before that stays silent.
 * @returns {AudioContext | null}
 */
function context() {
  if (!audio && typeof AudioContext === "function") audio = new AudioContext();
  return audio;
}

/** Lets the knock play later: call on any user gesture. */
export function unlockSound() {
  const ctx = context();
  if (ctx && ctx.state === "suspended") ctx.resume().catch(() => {});
}

/**
 * One knock: a short low thump (a sine falling in pitch) with a burst of filtered noise for the
 * knuckle on wood.
 * @param {AudioContext} ctx
 * @param {number} at seconds on ctx's clock
 */
function knuckle(ctx, at) {
  const body = ctx.createOscillator();
  body.type = "sine";
  body.frequency.setValueAtTime(190, at);
  body.frequency.exponentialRampToValueAtTime(70, at + 0.09);
  const bodyGain = ctx.createGain();
  bodyGain.gain.setValueAtTime(0.0001, at);
  bodyGain.gain.exponentialRampToValueAtTime(0.9, at + 0.004);
  bodyGain.gain.exponentialRampToValueAtTime(0.0001, at + 0.14);
  body.connect(bodyGain).connect(ctx.destination);
  body.start(at);
  body.stop(at + 0.15);

  const length = Math.floor(ctx.sampleRate * 0.03);
  const noise = ctx.createBuffer(1, length, ctx.sampleRate);
  const samples = noise.getChannelData(0);
  for (let i = 0; i < length; i++) samples[i] = (Math.random() * 2 - 1) * (1 - i / length);
  const click = ctx.createBufferSource();
  click.buffer = noise;
  const filter = ctx.createBiquadFilter();
  filter.type = "bandpass";
  filter.frequency.value = 900;
  filter.Q.value = 1.2;
  const clickGain = ctx.createGain();
  clickGain.gain.value = 0.5;
  click.connect(filter).connect(clickGain).connect(ctx.destination);
  click.start(at);
}

/**
 * Knocks three times, like on a door. Resolves true when the sound played, false when the
 * browser keeps audio off until the member touches the page.
 * @returns {Promise<boolean>}
 */
export async function knock() {
  const ctx = context();
  if (!ctx) return false;
  if (ctx.state === "suspended") await ctx.resume().catch(() => {});
  if (ctx.state !== "running") return false;
  const now = ctx.currentTime + 0.02;
  for (const offset of [0, 0.22, 0.44]) knuckle(ctx, now + offset);
  return true;
}

/** The tab title as the template made it, before any badge. */
const plainTitle = document.title.replace(/^\(\d+\)\s*/, "");

/**
 * Shows the number of waiting patients at the front of the tab title; none: the plain title.
 * @param {number} count
 */
export function titleBadge(count) {
  document.title = count > 0 ? `(${count}) ${plainTitle}` : plainTitle;
}

/** @returns {boolean} whether a desktop notification may be shown */
export function notificationsAllowed() {
  return typeof Notification === "function" && Notification.permission === "granted";
}

/** @returns {boolean} whether asking would bring up the browser's question */
export function canAskForNotifications() {
  return typeof Notification === "function" && Notification.permission === "default";
}

/**
 * Asks the browser once (call from a click).
 * @returns {Promise<boolean>} allowed
 */
export async function askForNotifications() {
  if (typeof Notification !== "function") return false;
  return (await Notification.requestPermission()) === "granted";
}

/**
 * A desktop notification that a patient waits; a click brings this tab forward and opens the room.
 * It names no patient: the notification centre of the computer may be seen by others.
 * @param {{id: number, start: string, doctor: string}} appointment
 * @returns {Notification | null}
 */
export function notifyWaiting(appointment) {
  if (!notificationsAllowed()) return null;
  const time = new Date(appointment.start).toLocaleTimeString("de-DE", { hour: "2-digit", minute: "2-digit" });
  const icon = document.querySelector("link[rel=icon]")?.getAttribute("href");
  const notification = new Notification("Ein Patient wartet im Wartezimmer", {
    body: `Termin ${time} Uhr bei ${appointment.doctor}. Klicken Sie, um den Videoraum zu öffnen.`,
    tag: `sz-waiting-${appointment.id}`,
    ...(icon ? { icon } : {}),
  });
  notification.onclick = () => {
    window.focus();
    location.assign(`/praxis/termine/${appointment.id}/raum/`);
    notification.close();
  };
  return notification;
}
