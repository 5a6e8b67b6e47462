// @ts-check
// What the base template tells every script about the page (templates/base.html): the CSRF token
// and who is logged in. The only place library code reads the document.

/**
 * The content of `<meta name="…">`, or "" when the page has none (e.g. no user before login).
 * @param {"csrf-token" | "sz-user" | "sz-email" | "sz-lock-minutes" | "sz-key-version" | "sz-icons"} name
 * @returns {string}
 */
export function pageMeta(name) {
  const meta = document.querySelector(`meta[name="${name}"]`);
  return meta instanceof HTMLMetaElement ? meta.content : "";
}
