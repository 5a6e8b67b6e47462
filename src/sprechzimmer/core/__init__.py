"""The small shared core: time zone, money and the one formatter for numbers shown to people.

Pure Python (no Django) except ``templatetags``, which exposes the formatter to templates. Every
app uses these instead of its own copy (docs/architecture.md).
"""
