"""Template filters for numbers shown to people: {% load zahlen %} … {{ amount|euro }}."""

from django import template

from sprechzimmer.core import formats

register = template.Library()


@register.filter
def zahl(value, decimals=None):
    return formats.number(value, None if decimals in (None, "") else int(decimals))


@register.filter
def euro(value):
    return formats.euro(value)


@register.filter
def stunden(value):
    return formats.hours(value)


@register.filter
def prozent(value, decimals=None):
    return formats.percent(value, None if decimals in (None, "") else int(decimals))


@register.filter
def anteil(value, decimals=0):
    return formats.share(value, int(decimals))
