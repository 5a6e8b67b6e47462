// @ts-check
// JSON requests to our own server with the CSRF token from the page.
import { pageMeta } from "./meta.js";

function csrfToken() {
  return pageMeta("csrf-token");
}

/** A request that failed, with the German message to show. */
export class ApiError extends Error {
  /**
   * @param {string} message the server's German message, or ours when it sent none
   * @param {number} status the HTTP status; 0 when the server was not reached
   * @param {any} body the decoded JSON answer (field errors, a 409's current record …), or null
   */
  constructor(message, status, body) {
    super(message);
    /** The HTTP status; 0 when the server was not reached. */
    this.status = status;
    /** The decoded JSON answer (field errors, a 409's current record …), or null. */
    this.body = body;
  }
}

/**
 * @param {string} method
 * @param {string} url
 * @param {FormData | object} [body] sent as it is when FormData, else as JSON
 * @returns {Promise<any>} the decoded JSON; throws ApiError with the server's German message.
 */
export async function request(method, url, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  /** @type {RequestInit} */
  const init = { method, credentials: "same-origin", headers };
  if (body instanceof FormData) {
    init.body = body;
    headers["X-CSRFToken"] = csrfToken();
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError("Keine Verbindung zum Server. Bitte prüfen Sie Ihre Internetverbindung.", 0, null);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(data?.error ?? `Der Server meldet einen Fehler (${response.status}).`, response.status, data);
  }
  return data;
}

/** @type {(url: string) => Promise<any>} */
export const getJson = (url) => request("GET", url);
