// @ts-check
// Numbers people read in the browser, in German notation — the browser's twin of
// core/formats.py: 1.234,5 · 14,29 h · 3,2 % · a space (no-break) before a unit.

const NBSP = "\u00a0";

/**
 * `value` in German notation with `decimals` fixed places ("" for null or NaN).
 * @param {number | null | undefined} value
 * @param {number} [decimals]
 */
export function number(value, decimals = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "";
  const text = value.toLocaleString("de-DE", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return text === "-0" || /^-0,0*$/.test(text) ? text.slice(1) : text;
}

/**
 * A number with its unit, kept on one line: "120 ms", "1,5 %".
 * @param {number | null | undefined} value
 * @param {string} unit
 * @param {number} [decimals]
 */
export function withUnit(value, unit, decimals = 0) {
  const text = number(value, decimals);
  return text ? `${text}${NBSP}${unit}` : "";
}

/**
 * A duration as a clock: "4:07" or "1:02:09".
 * @param {number} seconds
 */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const two = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}
