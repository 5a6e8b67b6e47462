"""What every page of the product must pass, checked in the real browser (issue 14):

- axe-core (npm, pinned in package-lock.json, injected only in tests): no serious or critical
  WCAG 2.2 A/AA violation;
- every element with the `hidden` attribute is not displayed (computed style and boxes): a
  component's `display` must never show what the page has hidden;
- every request goes to the instance itself (no CDN, no font or icon host);
- number columns (`td.num`) are right-aligned in tabular figures;
- the page is no wider than the screen, and no button's label is cut off (at phone size too).

axe is added as an init script (the DevTools protocol evaluates it in the page before the page's
own scripts), so the product's CSP stays in force during the audit and nothing is served to users.
Screenshots land in test-artifacts/ when SZ_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from tests.node import axe_core

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PHONE_LANDSCAPE = {"width": 844, "height": 390}

AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    resultTypes: ["violations"],
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id} (${v.help}): ` +
      v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(" | "));
}"""

HIDDEN_SHOWN = """() => [...document.querySelectorAll("[hidden]")]
  .filter((e) => getComputedStyle(e).display !== "none" || e.getClientRects().length > 0)
  .map((e) => e.outerHTML.slice(0, 140))"""

# Number columns (class "num", German numbers from core/formats.py) line up on the right in
# tabular figures, so 1.234,56 € and 98,00 € can be compared at a glance.
NUMBERS_MISALIGNED = """() => [...document.querySelectorAll("td.num, th.num")]
  .filter((e) => getComputedStyle(e).display === "table-cell")  // not a table stacked into cards on a phone
  .filter((e) => getComputedStyle(e).textAlign !== "right" || getComputedStyle(e).fontVariantNumeric !== "tabular-nums")
  .map((e) => e.outerHTML.slice(0, 140))"""


# The page fits the screen: nothing makes it wider than the viewport (a long word someone typed, a
# table outside its scrolling box), so a phone never scrolls the whole page sideways.
PAGE_WIDER = """() => document.documentElement.scrollWidth > innerWidth + 1
  ? [`${document.documentElement.scrollWidth} px wide on ${innerWidth} px: ` + [...document.querySelectorAll("main *")]
      .filter((e) => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest(".table-wrap, .card[data-scroll-focus]"))
      .slice(0, 3).map((e) => e.outerHTML.slice(0, 100)).join(" | ")]
  : []"""
# No word of a heading is longer than its line: the heading would break it anywhere
# ("Vergütungsabrechnu" / "ng" on a phone, a new user's walk 2.12.2026). Measured with the word
# breaking switched off for a moment; a browser that hyphenates (hyphens: auto) passes too.
HEADING_WORD_BROKEN = """() => [...document.querySelectorAll("main h1, main h2")]
  .filter((e) => e.getClientRects().length > 0)
  .filter((e) => {
    const wrap = e.style.overflowWrap;
    e.style.overflowWrap = "normal";
    const wider = e.scrollWidth > e.clientWidth + 1;
    e.style.overflowWrap = wrap;
    return wider;
  })
  .map((e) => `${e.clientWidth} px: ${e.textContent.trim().replace(/\\s+/g, " ").slice(0, 80)}`)"""
# A button is whole on screen: its label not cut off ("Videor…"), and it does not stick out of a
# box that clips or scrolls it (a row of actions too wide for a phone). Buttons in tables are left
# out: a wide table scrolls sideways in its own box by design.
CLIPPED = """() => [...document.querySelectorAll("button, a.button, .button, [role=button]")]
  .filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")
  .filter((e) => !e.closest("table:not(.cards-on-phone), .topbar, dialog:not([open])"))
  .filter((e) => {
    if (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0) return true;
    const r = e.getBoundingClientRect();
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX === "visible") continue;
      const box = p.getBoundingClientRect();
      return r.right > box.right + 1 || r.left < box.left - 1;
    }
    return r.right > innerWidth + 1;
  })
  .map((e) => e.outerHTML.slice(0, 120))"""


@dataclass
class Audit:
    """Collects what the pages broke, so one run names every problem (asserted at the end)."""

    origin: str
    problems: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def context(self, browser, viewport=DESKTOP, **options):
        context = browser.new_context(
            base_url=self.origin, locale="de-DE", timezone_id="Europe/Berlin", viewport=viewport, **options
        )
        context.set_default_timeout(20_000)
        context.add_init_script(path=str(axe_core()))
        context.on("request", self._request)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return context, page

    def _request(self, request) -> None:
        url = request.url
        if url.startswith(("data:", "blob:")):
            return
        if urlparse(url)[:2] != urlparse(self.origin)[:2]:
            self.foreign.append(url)

    def check(self, page, name: str) -> None:
        """Audits the page as it is now (after its scripts have settled)."""
        page.wait_for_load_state("load")
        page.wait_for_function("() => typeof axe !== 'undefined'")
        self.pages.append(name)
        for html in page.evaluate(HIDDEN_SHOWN):
            self.problems.append(f"{name}: hidden element displayed: {html}")
        for wide in page.evaluate(PAGE_WIDER):
            self.problems.append(f"{name}: page wider than the screen: {wide}")
        for heading in page.evaluate(HEADING_WORD_BROKEN):
            self.problems.append(f"{name}: a word of the heading is broken: {heading}")
        for html in page.evaluate(CLIPPED):
            self.problems.append(f"{name}: button cut off: {html}")
        for html in page.evaluate(NUMBERS_MISALIGNED):
            self.problems.append(f"{name}: number column not right-aligned in tabular figures: {html}")
        for violation in page.evaluate(AXE_RUN):
            self.problems.append(f"{name}: {violation}")
        if os.environ.get("SZ_SCREENSHOTS"):
            ARTIFACTS.mkdir(exist_ok=True)
            size = page.viewport_size or DESKTOP
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            page.screenshot(path=str(ARTIFACTS / f"{slug}-{size['width']}x{size['height']}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert not self.foreign, f"requests to other hosts: {self.foreign}"
        assert not self.problems, "\n".join(self.problems)
