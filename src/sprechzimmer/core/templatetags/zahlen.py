"""Template filters for numbers shown to people: {% load zahlen %} … {{ amount|euro }}."""

from django import template

from sprechzimmer.core import formats

register = template.Library()


@register.filter
def zahl(value: object, decimals: int | str | None = None) -> str:
    return formats.number(value, None if decimals in (None, "") else int(decimals))


@register.filter
def euro(value: object) -> str:
    return formats.euro(value)


@register.filter
def stunden(value: object) -> str:
    """14,29 h"""
    return formats.hours(value)


@register.filter
def sekunden(value: object) -> str:
    """3,1 s"""
    text = formats.number(value, -1)
    return f"{text}{formats.NBSP}s" if text else ""


@register.filter
def prozent(value: object, decimals: int | str | None = None) -> str:
    return formats.percent(value, None if decimals in (None, "") else int(decimals))


@register.filter
def anteil(value: object, decimals: int | str = 0) -> str:
    return formats.share(value, int(decimals))


@register.filter
def datum(value: object) -> str:
    """31.03.2027"""
    return formats.date(value)


@register.filter(name="iban")
def iban_filter(value: object) -> str:
    """DE89 3704 0044 0532 0130 00"""
    return formats.iban(value)
