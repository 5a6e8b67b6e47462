"""Icons come from Lucide through our own sprite: every name a template or module uses is in it,
the sprite is what scripts/icons builds from the pinned package, and the tag hides the icon from
screen readers next to a visible label."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from pathlib import Path

import pytest
from django.template import Context, Template, TemplateSyntaxError

from tests.node import node_modules

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "sprechzimmer"
SPRITE = PACKAGE / "static" / "sprechzimmer" / "icons" / "sprite.svg"


def build_script():
    loader = importlib.machinery.SourceFileLoader("build_icons", str(ROOT / "scripts" / "icons"))
    spec = importlib.util.spec_from_loader("build_icons", loader)
    assert spec
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def used_icons() -> dict[str, set[str]]:
    """Icon names per file: {% icon "x" %} and {% navlink … "x" %} in templates, icon("x") and
    setIconLabel(…, "x", …) in modules."""
    patterns = [
        re.compile(r"""{%\s*icon\s+["']([a-z0-9-]+)["']"""),
        re.compile(r"""{%\s*navlink\s+"[^"]+"\s+"[^"]+"\s+"([a-z0-9-]+)\""""),
        re.compile(r"""\bicon\(\s*["']([a-z0-9-]+)["']"""),
        re.compile(r"""setIconLabel\([^,]+,\s*["']([a-z0-9-]+)["']"""),
    ]
    found: dict[str, set[str]] = {}
    for path in [*PACKAGE.rglob("*.html"), *PACKAGE.rglob("*.js")]:
        text = path.read_text()
        names = {m for p in patterns for m in p.findall(text)}
        if names:
            found[str(path.relative_to(ROOT))] = names
    return found


def test_every_icon_used_is_in_the_sprite():
    in_sprite = set(re.findall(r'<symbol id="([a-z0-9-]+)"', SPRITE.read_text()))
    used = used_icons()
    assert used, "no icon found in templates or modules: the patterns above no longer match"
    missing = {f: sorted(n - in_sprite) for f, n in used.items() if n - in_sprite}
    assert not missing, f"add these to ICONS in scripts/icons and run it: {missing}"


def test_the_sprite_is_built_from_the_pinned_lucide_package():
    node_modules()
    script = build_script()
    assert SPRITE.read_text() == script.sprite(), "run scripts/icons"
    assert "ISC" in (SPRITE.parent / "LICENSE").read_text()


def test_the_icon_tag_is_decoration_from_our_own_static_files():
    html = Template('<button>{% icon "video" %}<span>Videoraum</span></button>').render(Context())
    assert 'aria-hidden="true"' in html and 'focusable="false"' in html
    href = re.search(r'<use href="([^"]+)"', html)
    assert href and href.group(1).startswith("/static/") and href.group(1).endswith("#video")


def test_a_bad_icon_name_fails_loudly():
    with pytest.raises(TemplateSyntaxError):
        Template('{% icon "../x" %}').render(Context())


def test_test_only_npm_packages_are_never_among_the_static_files():
    """axe-core and the icon package's full set stay in node_modules/, which is not served: only the
    built sprite is under static/."""
    static = PACKAGE / "static"
    assert not [p for p in static.rglob("*") if "axe" in p.name or "lucide" in p.name.lower()]
    assert not (static / "node_modules").exists()


def test_a_navigation_link_follows_the_script_prefix_and_the_static_url(settings):
    """The sprite's URL and the navigation's paths are looked up once per process (a dozen of each
    per page); a different script prefix (a proxy that serves the instance below a path) or static
    URL still gets its own."""
    from django.test import RequestFactory
    from django.urls import set_script_prefix

    page = Template('{% navlink "members" "Mitglieder" "users" %}')
    request = RequestFactory().get("/praxis/mitglieder/")
    assert 'href="/praxis/mitglieder/" aria-current="page"' in page.render(Context({"request": request}))
    try:
        set_script_prefix("/sz/")
        assert 'href="/sz/praxis/mitglieder/"' in page.render(Context({"request": request}))
    finally:
        set_script_prefix("/")
    assert 'href="/praxis/mitglieder/"' in page.render(Context({"request": request}))
    settings.STATIC_URL = "/anders/"
    assert '<use href="/anders/' in Template('{% icon "video" %}').render(Context())
