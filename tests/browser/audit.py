"""What every page of the product must pass, checked in the real browser (issue 14):

- axe-core (npm, pinned in package-lock.json, injected only in tests): no serious or critical
  WCAG 2.2 A/AA violation;
- every element with the `hidden` attribute is not displayed (computed style and boxes): a
  component's `display` must never show what the page has hidden;
- every request goes to the instance itself (no CDN, no font or icon host);
- number columns (`td.num`) are right-aligned in tabular figures.

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
  .filter((e) => getComputedStyle(e).textAlign !== "right" || getComputedStyle(e).fontVariantNumeric !== "tabular-nums")
  .map((e) => e.outerHTML.slice(0, 140))"""


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
