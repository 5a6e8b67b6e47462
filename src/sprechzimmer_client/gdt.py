"""GDT records (Gerätedatenträger, the Qualitätsring Medizinische Software's interface between a
practice management system and the programs it starts), as far as the video appointment bridge
needs them.

The line format is the one KVDT shares: ``LLL`` (three digits: the line's length in bytes, its own
digits and the closing CR LF included), ``FFFF`` (the field id), the content, CR LF. A record
begins with 8000 (Satzart) and 8100 (Satzlänge: the record's bytes, five digits). GDT 2.1's
character sets (field 9206): 1 = 7-bit ASCII, 2 = IBM code page 437 (the default when 9206 is
absent), 3 = ISO 8859-1. Record types used here:

- 6302 "Neue Untersuchung anfordern" (PVS → program): 3000 Patientennummer (Muss), 3101 Name,
  3102 Vorname, 3103 Geburtsdatum (TTMMJJJJ), 3110 Geschlecht, 8402 Geräte-/verfahrensspezifisches
  Kennfeld, 8315/8316 GDT-ID of receiver/sender, 9218 GDT version.
- 6310 "Daten einer Untersuchung übermitteln" (program → PVS): the patient fields again, 6200 and
  6201 (date TTMMJJJJ and time HHMMSS), 6220 Befund, 6227 Kommentar, 6228 Ergebnistabellentext.

Reading is strict where a wrong value would make a wrong appointment (the patient number, the
birth date, the line lengths) and names the line, field and rule when it refuses; it accepts CR LF
and bare LF line ends and ignores fields it does not use.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

CHARSETS = {"1": "ascii", "2": "cp437", "3": "latin-1"}
DEFAULT_CHARSET = "2"
GDT_VERSION = "02.10"
REQUEST = "6302"
RESULT = "6310"
FIELD_NAMES = {
    "8000": "Satzart",
    "8100": "Satzlänge",
    "8315": "GDT-ID Empfänger",
    "8316": "GDT-ID Sender",
    "9206": "Zeichensatz",
    "9218": "GDT-Version",
    "3000": "Patientennummer",
    "3101": "Name",
    "3102": "Vorname",
    "3103": "Geburtsdatum",
    "3110": "Geschlecht",
    "8402": "Kennfeld",
    "6200": "Datum",
    "6201": "Uhrzeit",
}
_LINE = re.compile(rb"(\d{3})(\d{4})(.*)")


class GdtError(Exception):
    """A file that cannot be read as a GDT record; the message is German and names what is wrong."""


@dataclass
class Record:
    kind: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    charset: str = DEFAULT_CHARSET

    def get(self, field_id: str, default: str = "") -> str:
        for fid, value in self.fields:
            if fid == field_id:
                return value
        return default

    def getall(self, field_id: str) -> list[str]:
        return [value for fid, value in self.fields if fid == field_id]


def parse(data: bytes) -> Record:
    """One GDT record from a file's bytes."""
    if not data.strip():
        raise GdtError("Die GDT-Datei ist leer.")
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] in (b"", b"\x1a"):  # the last line's end; some write a DOS EOF
        raw_lines.pop()
    charset = DEFAULT_CHARSET
    for raw in raw_lines:  # 9206 decides how every line is read, wherever it stands
        match = _LINE.fullmatch(raw.rstrip(b"\r"))
        if match and match.group(2) == b"9206":
            charset = match.group(3).decode("ascii", "replace").strip()
            if charset not in CHARSETS:
                raise GdtError(f"Feld 9206 (Zeichensatz): „{charset}“ ist kein GDT-Zeichensatz (1, 2 oder 3).")
    encoding = CHARSETS[charset]
    fields: list[tuple[str, str]] = []
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.rstrip(b"\r")
        match = _LINE.fullmatch(line)
        if not match:
            raise GdtError(
                f"Zeile {number}: keine GDT-Zeile (erwartet: drei Ziffern Länge, vier Ziffern Feldkennung, Inhalt)."
            )
        length, field_id, content = int(match.group(1)), match.group(2).decode(), match.group(3)
        if length not in (len(line) + 2, len(line) + 1):
            raise GdtError(
                f"Zeile {number}, Feld {field_id}: die Längenangabe {length:03d} passt nicht zur Zeile "
                f"({len(line) + 2} Bytes mit Zeilenende)."
            )
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            raise GdtError(
                f"Zeile {number}, Feld {field_id}: Zeichen außerhalb des Zeichensatzes {charset} ({encoding})."
            ) from None
        fields.append((field_id, text))
    if not fields or fields[0][0] != "8000":
        raise GdtError("Zeile 1: ein GDT-Satz beginnt mit Feld 8000 (Satzart).")
    return Record(fields[0][1].strip(), fields[1:], charset)


def _line(field_id: str, value: str, encoding: str) -> bytes:
    content = value.replace("\r", " ").replace("\n", " ").encode(encoding, "replace")
    return b"%03d%s%s\r\n" % (len(content) + 9, field_id.encode(), content)


def write(kind: str, fields: list[tuple[str, str]], charset: str = DEFAULT_CHARSET) -> bytes:
    """A record with 8000 first and 8100 (Satzlänge) second, as GDT requires."""
    encoding = CHARSETS[charset]
    body = b"".join(_line(fid, value, encoding) for fid, value in fields)
    head = _line("8000", kind, encoding)
    size_line_bytes = 14  # "014" + "8100" + five digits + CR LF
    total = len(head) + size_line_bytes + len(body)
    return head + _line("8100", f"{total:05d}", encoding) + body


def birth_date(text: str) -> dt.date | None:
    """3103 as TTMMJJJJ; GDT allows 00 for an unknown day or month, which gives None."""
    if not re.fullmatch(r"\d{8}", text):
        raise GdtError(f"Feld 3103 (Geburtsdatum): „{text}“ ist kein Datum TTMMJJJJ.")
    day, month, year = int(text[:2]), int(text[2:4]), int(text[4:])
    if day == 0 or month == 0:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise GdtError(f"Feld 3103 (Geburtsdatum): „{text}“ ist kein gültiges Datum.") from None


def date_text(day: dt.date) -> str:
    return day.strftime("%d%m%Y")
