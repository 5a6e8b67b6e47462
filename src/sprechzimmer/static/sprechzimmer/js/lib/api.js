// JSON requests to our own server with the CSRF token from the page.
import { pageMeta } from "./meta.js";

function csrfToken() {
  return pageMeta("csrf-token");
}

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** @returns {Promise<any>} the decoded JSON; throws ApiError with the server's German message. */
export async function request(method, url, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body instanceof FormData) {
    init.body = body;
    init.headers["X-CSRFToken"] = csrfToken();
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
    init.headers["X-CSRFToken"] = csrfToken();
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

export const getJson = (url) => request("GET", url);
