// @ts-check
// Which new passwords to refuse. The server never sees a typed password (docs/e2ee.md): it gets a
// secret derived from it, so it cannot check its strength; the browser does, before deriving. The
// rules follow NIST SP 800-63B § 3.1.1.2 (at least the length, no commonly used, expected or
// compromised values, no context-specific words such as the user's own address) rather than
// composition rules. The list is short on purpose: the most common values in German and English
// leak lists and what people type when asked for ten characters.

import { MIN_PASSWORD_LENGTH } from "./e2ee.js";

const COMMON = new Set([
  "passwort123", "passwort1234", "password123", "password1234", "passwort12", "password12",
  "hallo12345", "hallo123456", "qwertz1234", "qwertzuiop", "qwertyuiop", "asdfghjkl1", "1q2w3e4r5t",
  "1qay2wsx3edc", "1qaz2wsx3edc", "iloveyou12", "sommer2026", "winter2026", "fruehling1", "schalke04!",
  "bayern1900", "borussia09", "praxis1234", "praxis2026", "sprechzimmer", "sprechzimmer1", "arztpraxis1",
  "willkommen1", "willkommen123", "geheim1234", "changeme123", "letmein123", "welcome123",
]);

/** Keyboard rows and the alphabet: a run of ten along one of them is as good as none. */
const RUNS = ["abcdefghijklmnopqrstuvwxyz", "qwertzuiopü", "asdfghjklöä", "yxcvbnm", "qwertyuiop", "zxcvbnm", "01234567890"];

/**
 * @param {string} password
 * @returns {boolean} whether it is mostly a run along the alphabet, a keyboard row or the digits
 */
function isRun(password) {
  const lower = password.toLowerCase();
  for (const run of RUNS) {
    for (const text of [run, [...run].reverse().join("")]) {
      if (lower.length >= 6 && text.includes(lower.slice(0, Math.min(lower.length, text.length)))) return true;
    }
  }
  return false;
}

/**
 * The German reason a new password is refused, or null.
 * @param {string} password as typed
 * @param {{repeat?: string | undefined, email?: string, previous?: string}} [context] the second input, the
 *   account's e-mail address, the password it replaces
 * @returns {string | null}
 */
export function passwordWeakness(password, context = {}) {
  if (password.length < MIN_PASSWORD_LENGTH) return `Das Passwort muss mindestens ${MIN_PASSWORD_LENGTH} Zeichen lang sein.`;
  if (context.repeat !== undefined && password !== context.repeat) return "Die beiden Passwörter stimmen nicht überein.";
  if (context.previous !== undefined && password === context.previous) {
    return "Das neue Passwort muss sich vom bisherigen unterscheiden.";
  }
  const lower = password.toLowerCase();
  if (/^\d+$/.test(password)) return "Ein Passwort nur aus Ziffern ist zu leicht zu erraten. Bitte nehmen Sie auch Buchstaben oder Wörter.";
  if (new Set(lower).size < 5) return "Das Passwort hat zu wenige verschiedene Zeichen. Bitte wählen Sie ein anderes.";
  if (COMMON.has(lower) || isRun(password)) return "Dieses Passwort ist sehr verbreitet und leicht zu erraten. Bitte wählen Sie ein anderes.";
  const local = (context.email ?? "").toLowerCase().split("@")[0].replace(/[^a-zäöüß0-9]/g, "");
  if (local.length >= 4 && lower.replace(/[^a-zäöüß0-9]/g, "").includes(local)) {
    return "Das Passwort darf Ihre E-Mail-Adresse nicht enthalten.";
  }
  return null;
}
