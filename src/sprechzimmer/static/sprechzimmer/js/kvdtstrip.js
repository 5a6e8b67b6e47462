// Blanks every KVDT field the billing check does not need, in the browser, before upload: patient
// names, addresses, insurance numbers and diagnoses never reach the server (docs/ebm.md).
// Pure function on bytes, no DOM. Line numbers stay the same, so the server's error messages
// ("Zeile 812, Feld 5001 …") point into the practice's original file.

/** Fields whose content is uploaded (must match UPLOAD_FIELDS in billing/domain/kvdt.py). */
export const UPLOAD_FIELDS = new Set([
  "8000", "3000", "4101", "4239", "5000", "5001", "5005", "5006", "5099", "5098", "0201", "4103",
  "9103", "9106", "9132", "9212", "0203", "0212", "8100",
]);

const LF = 10;
const CR = 13;
const encoder = new TextEncoder();
const NOT_KVDT_MARKER = encoder.encode("?");

function isDigits(bytes, start, end) {
  for (let i = start; i < end; i++) if (bytes[i] < 48 || bytes[i] > 57) return false;
  return true;
}

/**
 * @param {Uint8Array} bytes the KVDT file as read from disk (ISO-8859-15)
 * @returns {Uint8Array} the same lines; fields outside UPLOAD_FIELDS keep their length prefix and
 *   field id but lose their content (the prefix is recomputed when it was right, kept when wrong so
 *   the server still reports the wrong length)
 */
export function stripKvdt(bytes) {
  const out = new Uint8Array(bytes.length);
  let o = 0;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(LF, start);
    const hasLf = end >= 0;
    if (!hasLf) end = bytes.length;
    let contentEnd = end;
    if (contentEnd > start && bytes[contentEnd - 1] === CR) contentEnd--;
    const lineEnd = bytes.subarray(contentEnd, hasLf ? end + 1 : end);
    const field = isDigits(bytes, start, start + 7) ? String.fromCharCode(...bytes.subarray(start + 3, start + 7)) : null;
    if (field === null) {
      // Not a KVDT line: send only what the server needs to name the problem, never its content.
      out.set(NOT_KVDT_MARKER, o); o += NOT_KVDT_MARKER.length;
    } else if (UPLOAD_FIELDS.has(field)) {
      out.set(bytes.subarray(start, contentEnd), o); o += contentEnd - start;
    } else {
      const declared = Number(String.fromCharCode(...bytes.subarray(start, start + 3)));
      const actual = (contentEnd - start) + 2;
      const prefix = declared === actual ? "009" : String.fromCharCode(...bytes.subarray(start, start + 3));
      const head = encoder.encode(prefix + field);
      out.set(head, o); o += head.length;
    }
    out.set(lineEnd, o); o += lineEnd.length;
    start = hasLf ? end + 1 : end;
  }
  return out.subarray(0, o);
}

/** True when the file is the JSON case format (which holds no patient data by design). */
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
  const head = String.fromCharCode(...bytes.subarray(0, 7));
  if (/^\d{3}8000$/.test(head)) return null;
  return "Das ist keine KVDT-Datei (.con) und nicht das JSON-Fallformat; die erste Zeile einer KVDT-Datei lautet z. B. »0138000con0«. Es wurde nichts hochgeladen.";
}
