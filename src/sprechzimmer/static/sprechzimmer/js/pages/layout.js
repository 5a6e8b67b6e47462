// @ts-check
// Every page: a box whose content is wider than the screen (a wide table on a phone scrolls inside
// its card or .table-wrap) becomes reachable by keyboard, so it can be scrolled without a mouse
// (WCAG 2.1.1; axe "scrollable-region-focusable"). Named after its first heading for screen readers.

const SCROLLERS = ".card, .table-wrap";

function mark() {
  for (const box of document.querySelectorAll(SCROLLERS)) {
    if (!(box instanceof HTMLElement)) continue;
    const scrolls = box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible";
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.tabIndex = 0;
      box.dataset.scrollFocus = "1";
      if (!box.hasAttribute("role")) box.setAttribute("role", "region");
      if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
        const heading = box.querySelector("h1, h2, h3, caption");
        box.setAttribute("aria-label", heading?.textContent?.trim() || "Tabelle, seitlich verschiebbar");
      }
    } else if (!scrolls && box.dataset.scrollFocus) {
      box.removeAttribute("tabindex");
      delete box.dataset.scrollFocus;
    }
  }
}

/**
 * A table shown as one card per row on a phone (table.cards-on-phone, app.css) names each value by
 * its column: every cell without a data-label gets its column heading's text.
 */
function label() {
  for (const table of document.querySelectorAll("table.cards-on-phone")) {
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent?.trim() ?? "");
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, i) => {
        if (cell instanceof HTMLElement && !cell.hasAttribute("data-label") && headings[i] && !cell.hasAttribute("colspan")) {
          cell.dataset.label = headings[i];
        }
      });
    }
  }
}

/**
 * The navigation on a phone: one row that scrolls sideways. The current page's entry is scrolled
 * into view, entries beyond the right edge fade out (.more-right), and "Menü" shows them all as
 * rows (a new user's walk found "Mitglieder" and "Abmelden" cut off without a hint).
 */
function phoneNavigation() {
  const nav = document.getElementById("main-nav");
  const toggle = document.querySelector(".menu-toggle");
  const bar = nav?.closest(".topbar");
  if (!nav || !(toggle instanceof HTMLButtonElement) || !(bar instanceof HTMLElement)) return;
  const update = () => {
    const open = bar.classList.contains("menu-open");
    const overflows = nav.scrollWidth > nav.clientWidth + 1;
    toggle.hidden = !overflows && !open;
    nav.classList.toggle("more-right", !open && nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 1);
  };
  toggle.addEventListener("click", () => {
    const open = bar.classList.toggle("menu-open");
    toggle.setAttribute("aria-expanded", String(open));
    update();
  });
  nav.addEventListener("scroll", update, { passive: true });
  addEventListener("resize", update);
  const current = nav.querySelector("[aria-current=page]");
  if (current instanceof HTMLElement && nav.scrollWidth > nav.clientWidth + 1) {
    nav.scrollLeft = Math.max(0, current.offsetLeft - nav.offsetLeft - 16);
  }
  update();
}

phoneNavigation();
label();
mark();
addEventListener("resize", mark);
// Content a page's script adds later (tables filled from the server).
new MutationObserver(() => {
  label();
  mark();
}).observe(document.body, { childList: true, subtree: true });

// Every page: a form the browser sends itself (method post, no script of the page handling it) is
// sent once. A second submit while the first answer is loading (a double click) would do the same
// thing twice: two plans computed, two mails sent. Forms a page's script handles prevent the
// default themselves (ui/forms.js onSubmit). Coming back with the browser's back button (the page
// from the back/forward cache) makes the forms sendable again, and so do ten seconds.
/** @type {WeakSet<HTMLFormElement>} */
let sent = new WeakSet();
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || event.defaultPrevented || form.method !== "post") return;
  if (sent.has(form)) return event.preventDefault();
  sent.add(form);
  // An answer that does not leave the page (a download) must not block the form for good.
  const sentWith = sent;
  setTimeout(() => sentWith.delete(form), 10_000);
});
addEventListener("pageshow", () => {
  sent = new WeakSet();
});
