// @ts-check
// The video duty's queue (duty/views/video.py): the list follows who waits without a reload of the
// page, by fetching the page again and taking over its queue section when it changed.
import { find } from "../ui/dom.js";

const section = find(document, "#video-queue", HTMLElement);
const seconds = Number(section.dataset.refresh || "5");

async function refresh() {
  try {
    const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
    // Logged out, the device locked or the duty over: the next full load says why.
    if (!response.ok || response.redirected) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("#video-queue");
    if (fresh && fresh.innerHTML !== section.innerHTML) section.innerHTML = fresh.innerHTML;
  } catch {
    // Offline for a moment: the next round tries again.
  }
}

setInterval(refresh, Math.max(2, seconds) * 1000);
