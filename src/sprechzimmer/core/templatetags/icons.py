"""{% icon "video" %}: a Lucide icon from our own sprite (static/sprechzimmer/icons/sprite.svg,
built by scripts/icons). Icons are decoration: aria-hidden, so the visible label next to the icon
(or an aria-label on the button) names the control. A builtin tag (settings.TEMPLATES), no load."""

from __future__ import annotations

import re

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

_NAME = re.compile(r"^[a-z0-9-]+$")


@register.simple_tag
def icon(name: str, extra_class: str = "") -> str:
    if not _NAME.match(name):
        raise template.TemplateSyntaxError(f"icon name {name!r}")
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
    from django.urls import reverse

    url = reverse(url_name)
    request = context.get("request")
    path = request.path if request is not None else ""
    current = path == url or (not exact and path.startswith(url))
    if current and besides and path.startswith(reverse(besides)):
        current = False
    return format_html(
        '<a href="{}"{}>{}<span>{}</span></a>',
        url,
        mark_safe(' aria-current="page"') if current else "",
        icon(icon_name),
        label,
    )
