// @ts-check
// Pseudonymises a KVDT file in the browser, before upload: the server never learns who a patient is,
// yet can tell which Scheine belong to one patient (Behandlungsfall) and how old the patient was.
//
// - Surname, first name and birth date (fields 3101, 3102, 3103) identify the patient. Field 3101 is
//   replaced by a keyed hash of them, HMAC-SHA-256 (RFC 2104, FIPS 180-4) under a random key made for
//   this upload (WebCrypto); the key never leaves the browser and is forgotten after the upload, so
//   pseudonyms cannot be linked across uploads or reversed by trying names.
// - Field 3103 carries the age in completed years at the patient's first service of the quarter
//   (EBM Allgemeine Bestimmung 4.3.5), "alter:N", instead of the birth date.
// - Every other field outside UPLOAD_FIELDS keeps its field id but loses its content.
// Line numbers stay the same, so the server's messages ("Zeile 812, Feld 5001 …") point into the
// practice's own file. Pure functions on bytes, no DOM (docs/ebm.md, "What the server learns").

/** Fields whose content is uploaded as it is (UPLOAD_FIELDS in billing/domain/kvdt.py, without the
 * two that are replaced: 3101 by the pseudonym, 3103 by the age). */
export const UPLOAD_FIELDS = new Set([
  "8000", "3000", "4101", "4239", "5000", "5001", "5005", "5006", "5099", "5098", "0201", "4103", "9204",
  "4111", "9103", "9106", "9132", "9212", "0203", "0212", "8100",
]);
/** Fields the upload replaces: name → pseudonym, birth date → age. */
export const PSEUDONYM_FIELD = "3101";
export const AGE_FIELD = "3103";
const FIRST_NAME_FIELD = "3102";
/** Record types that carry a patient (KVDT Datensatzbeschreibung: 0101–0104, 0109, SADT, Hybrid-DRG). */
const PATIENT_RECORDS = new Set(["0101", "0102", "0103", "0104", "0109", "sad1", "sad2", "sad3", "hdrg1"]);

const LF = 10;
const CR = 13;
const encoder = new TextEncoder();
const NOT_KVDT_MARKER = encoder.encode("?");
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * One Schein of a patient record (8000 = 0101 …) as far as the pseudonym and the age need it.
 * @typedef {object} Schein
 * @property {string | null} name 3101 as in the file; null when the Schein has none
 * @property {string | null} first 3102
 * @property {string | null} birth 3103, trimmed (JJJJMMTT)
 * @property {string} quarter 4101 (QJJJJ)
 * @property {string} day the earliest 5000 (JJJJMMTT), "" when there is none
 * @property {string} [identity] surname, first name and birth date, normalised; set when 3101 is there
 */

/**
 * @param {Uint8Array} bytes
 * @param {number} start
 * @param {number} end
 */
function isDigits(bytes, start, end) {
  for (let i = start; i < end; i++) if (bytes[i] < 48 || bytes[i] > 57) return false;
  return true;
}

/**
 * ISO-8859-15 bytes as a string of the same code units (only used for comparing and hashing).
 * @param {Uint8Array} bytes
 */
function latin(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/**
 * RFC 4648 base32 (no padding) of the first 16 bytes: 26 characters.
 * @param {Uint8Array} bytes
 */
export function base32(bytes) {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes.subarray(0, 16)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * Completed years between a birth date (JJJJMMTT) and a day (JJJJMMTT); null when either is no date
 * (the placeholder 00000000, a typo).
 * @param {string} birth
 * @param {string} day
 * @returns {number | null}
 */
export function ageOn(birth, day) {
  if (!/^\d{8}$/.test(birth) || !/^\d{8}$/.test(day) || birth === "00000000") return null;
  const [by, bm, bd] = [birth.slice(0, 4), birth.slice(4, 6), birth.slice(6)].map(Number);
  const [dy, dm, dd] = [day.slice(0, 4), day.slice(4, 6), day.slice(6)].map(Number);
  if (bm < 1 || bm > 12 || bd < 1 || bd > 31) return null;
  const age = dy - by - ((dm < bm || (dm === bm && dd < bd)) ? 1 : 0);
  return age >= 0 && age <= 150 ? age : null;
}

/**
 * The file's lines: [start, contentEnd, end] byte offsets (end after the line end).
 * @param {Uint8Array} bytes
 */
function splitLines(bytes) {
  /** @type {[number, number, number][]} */
  const lines = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(LF, start);
    end = end < 0 ? bytes.length : end + 1;
    let contentEnd = end;
    if (contentEnd > start && bytes[contentEnd - 1] === LF) contentEnd--;
    if (contentEnd > start && bytes[contentEnd - 1] === CR) contentEnd--;
    lines.push([start, contentEnd, end]);
    start = end;
  }
  return lines;
}

/**
 * The field id of a line (`LLLFFFF…`), or null when the line is no KVDT line.
 * @param {Uint8Array} bytes
 * @param {number} start
 * @param {number} contentEnd
 * @returns {string | null}
 */
function fieldOf(bytes, start, contentEnd) {
  return contentEnd - start >= 7 && isDigits(bytes, start, start + 7)
    ? String.fromCharCode(...bytes.subarray(start + 3, start + 7)) : null;
}

/**
 * The patients of a file: for every Schein its identity (surname, first name, birth date) and for
 * every identity and quarter the first service day.
 * @param {Uint8Array} bytes
 * @param {[number, number, number][]} lines
 */
function patients(bytes, lines) {
  /** @type {Schein[]} */
  const scheine = [];
  /** @type {Map<string, string>} identity + quarter → earliest 5000 */
  const firstDay = new Map();
  /** @type {Schein | null} */
  let current = null;
  const close = () => {
    if (!current) return;
    if (current.name !== null) {
      current.identity = [current.name.trim().toLowerCase(), (current.first ?? "").trim().toLowerCase(),
        (current.birth ?? "").trim()].join("\u001f");
      const key = `${current.identity}\u001e${current.quarter}`;
      const known = firstDay.get(key);
      if (current.day && (known === undefined || current.day < known)) firstDay.set(key, current.day);
    }
    scheine.push(current);
    current = null;
  };
  for (const [start, contentEnd] of lines) {
    const field = fieldOf(bytes, start, contentEnd);
    if (field === null) continue;
    const value = latin(bytes.subarray(start + 7, contentEnd));
    if (field === "8000") {
      close();
      if (PATIENT_RECORDS.has(value.trim())) current = { name: null, first: null, birth: null, quarter: "", day: "" };
    } else if (current) {
      if (field === PSEUDONYM_FIELD) current.name = value;
      else if (field === FIRST_NAME_FIELD) current.first = value;
      else if (field === AGE_FIELD) current.birth = value.trim();
      else if (field === "4101") current.quarter = value.trim();
      else if (field === "5000" && (!current.day || value < current.day)) current.day = value.trim();
    }
  }
  close();
  return { scheine, firstDay };
}

async function hmacKey() {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/**
 * @param {string} prefix the length, three digits
 * @param {string} field
 * @param {string} content
 */
function line(prefix, field, content) {
  return encoder.encode(prefix + field + content);
}

/**
 * @param {Uint8Array} bytes the KVDT file as read from disk (ISO-8859-15)
 * @returns {Promise<Uint8Array<ArrayBuffer>>} the same lines: 3101 as "psn1:" + 26 base32 characters, 3103 as
 *   "alter:N" (or blank when the birth date is no date), fields outside UPLOAD_FIELDS blank (their
 *   length prefix recomputed when it was right, kept when wrong so the server still reports the
 *   wrong length), lines that are no KVDT lines reduced to "?"
 */
export async function pseudonymiseKvdt(bytes) {
  const lines = splitLines(bytes);
  const { scheine, firstDay } = patients(bytes, lines);
  const key = await hmacKey();
  /** @type {Map<string, string>} identity → "psn1:…" */
  const pseudonyms = new Map();
  await Promise.all([...new Set(scheine.flatMap((s) => (s.identity ? [s.identity] : [])))].map(async (identity) => {
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(identity)));
    pseudonyms.set(identity, `psn1:${base32(mac)}`);
  }));
  /** @type {Uint8Array[]} */
  const pieces = [];
  let schein = -1;
  /** @type {Schein | null} */
  let current = null;
  for (const [start, contentEnd, end] of lines) {
    const lineEnd = bytes.subarray(contentEnd, end);
    const field = fieldOf(bytes, start, contentEnd);
    let piece;
    if (field === null) {
      // Not a KVDT line: send only what the server needs to name the problem, never its content.
      piece = NOT_KVDT_MARKER;
    } else {
      const declared = Number(String.fromCharCode(...bytes.subarray(start, start + 3)));
      const lengthRight = declared === contentEnd - start + 2;
      if (field === "8000") {
        const kind = latin(bytes.subarray(start + 7, contentEnd)).trim();
        current = PATIENT_RECORDS.has(kind) ? scheine[++schein] : null;
      }
      if (UPLOAD_FIELDS.has(field)) {
        piece = bytes.subarray(start, contentEnd);
      } else if (lengthRight && current && current.identity && (field === PSEUDONYM_FIELD || field === AGE_FIELD)) {
        let content = "";
        if (field === PSEUDONYM_FIELD) {
          const pseudonym = pseudonyms.get(current.identity);
          if (pseudonym === undefined) throw new Error("every identity got a pseudonym above");
          content = pseudonym;
        } else {
          const age = ageOn(current.birth ?? "", firstDay.get(`${current.identity}\u001e${current.quarter}`) ?? "");
          content = age === null ? "" : `alter:${age}`;
        }
        piece = line(String(9 + content.length).padStart(3, "0"), field, content);
      } else {
        piece = encoder.encode((lengthRight ? "009" : String.fromCharCode(...bytes.subarray(start, start + 3))) + field);
      }
    }
    pieces.push(piece, lineEnd);
  }
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let o = 0;
  for (const piece of pieces) {
    out.set(piece, o);
    o += piece.length;
  }
  return out;
}

/**
 * True when the file is the JSON case format (which holds no patient data by design).
 * @param {Uint8Array} bytes
 */
export function looksLikeJson(bytes) {
  for (const b of bytes.subarray(0, 64)) {
    if (b === 123) return true; // {
    if (b !== 32 && b !== 9 && b !== 10 && b !== 13 && b !== 0xef && b !== 0xbb && b !== 0xbf) return false;
  }
  return false;
}

/**
 * Why the file cannot be a KVDT file, or null when its first line is a KVDT record header
 * (`LLL8000…`). Checked before anything is uploaded, so a wrong file (a letter as PDF, a
 * spreadsheet) never leaves the computer.
 * @param {Uint8Array} bytes
 * @returns {string | null}
 */
export function notKvdtReason(bytes) {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return "Die Datei ist UTF-16-kodiert; KVDT verlangt ISO-8859-15. Bitte exportieren Sie sie aus Ihrem Praxisverwaltungssystem erneut.";
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return "Die Datei ist UTF-8-kodiert; KVDT verlangt ISO-8859-15. Bitte exportieren Sie sie aus Ihrem Praxisverwaltungssystem erneut.";
  }
  const head = String.fromCharCode(...bytes.subarray(0, 7));
  if (/^\d{3}8000$/.test(head)) return null;
  return "Das ist keine KVDT-Datei (.con) und nicht das JSON-Fallformat; die erste Zeile einer KVDT-Datei lautet z. B. »0138000con0«. Es wurde nichts hochgeladen.";
}
