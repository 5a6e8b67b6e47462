"""Domain rules reckon in Berlin time; storage is UTC (aware datetimes only)."""

from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
