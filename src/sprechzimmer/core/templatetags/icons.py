"""{% icon "video" %}: a Lucide icon from our own sprite (static/sprechzimmer/icons/sprite.svg,
built by scripts/icons). Icons are decoration: aria-hidden, so the visible label next to the icon
(or an aria-label on the button) names the control. A builtin tag (settings.TEMPLATES), no load."""

from __future__ import annotations

import functools
import re

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

_NAME = re.compile(r"^[a-z0-9-]+$")


@functools.lru_cache(maxsize=256)
def _nav_path(url_name: str, script_prefix: str) -> str:
    """A navigation link's path, reversed once per process and script prefix (the prefix is part
    of the key because ``reverse`` adds the request's): a page has up to a dozen of them."""
    return reverse(url_name)


@receiver(setting_changed)
def _settings_changed(setting: str, **kwargs: object) -> None:
    if setting in ("STATIC_URL", "STORAGES"):
        _icon.cache_clear()
    elif setting == "ROOT_URLCONF":
        _nav_path.cache_clear()


@register.simple_tag
def icon(name: str, extra_class: str = "") -> str:
    if not _NAME.match(name):
        raise template.TemplateSyntaxError(f"icon name {name!r}")
    return _icon(name, extra_class)


@functools.lru_cache(maxsize=512)
def _icon(name: str, extra_class: str) -> str:
    """An icon's markup, made once per process (names and classes come from our templates only):
    a page shows a dozen icons or more, and looking the sprite up in the static files' manifest
    each time (30–40 µs) was a few per cent of a member's page (py-spy, 2.12.2026)."""
    classes = f"icon icon-{name}" + (f" {extra_class}" if extra_class else "")
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        classes,
        static("sprechzimmer/icons/sprite.svg"),
        name,
    )


@register.simple_tag(takes_context=True)
def navlink(
    context: template.Context, url_name: str, label: str, icon_name: str, exact: bool = False, besides: str = ""
) -> str:
    """A link of the main navigation with its icon; aria-current="page" on the page one is on
    (or below it, e.g. a duty plan under "Dienstplanung", unless `exact`). `besides` names the
    link of a subtree of this one ("Dienstbörse" under "Dienste"), which is then not this link's."""
    prefix = get_script_prefix()
    url = _nav_path(url_name, prefix)
    request = context.get("request")
    path = request.path if request is not None else ""
    current = path == url or (not exact and path.startswith(url))
    if current and besides and path.startswith(_nav_path(besides, prefix)):
        current = False
    return format_html(
        '<a href="{}"{}>{}<span>{}</span></a>',
        url,
        mark_safe(' aria-current="page"') if current else "",
        icon(icon_name),
        label,
    )
