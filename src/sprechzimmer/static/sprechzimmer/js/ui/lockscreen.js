// @ts-check
// What the lock screen's two sides share (pages/practice.js locks, pages/lock.js unlocks).

/** The BroadcastChannel on which the tabs of one browser tell each other "locked" / "unlocked". */
export const LOCK_CHANNEL = "sz-screen-lock";

/**
 * The lock page's address, naming the page to return to.
 * @param {string} back path (and query) of the page being locked
 */
export const lockPage = (back) => `/gesperrt/?weiter=${encodeURIComponent(back)}`;

/** @returns {boolean} whether this page holds a call with live media (a video with live tracks) */
export function callRunning() {
  for (const video of document.querySelectorAll("video")) {
    const stream = video.srcObject;
    if (stream instanceof MediaStream && stream.getTracks().some((t) => t.readyState === "live")) return true;
  }
  return false;
}
