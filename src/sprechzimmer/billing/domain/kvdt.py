"""KVDT (the quarterly billing file, ``.con``): a strict, streaming reader and a small writer.

Format (shared/domain/kvdt-lanr-bsnr.md): one field per line, ``LLLFFFFcontent`` + CR LF, where
``LLL`` = 9 + bytes of content, ISO-8859-15. The reader keeps only what the 4.3.1 rules need and
yields one :class:`Case` per treatment record (Satzart 0101–0104); memory does not grow with the
file. Every problem raises :class:`KvdtError` naming the line, the field and the reason.

Speed: the reader reads 32 KiB blocks and checks a whole block for control characters and UTF-8 at
C speed (``_suspicious``, one regular expression only if that finds something). The line loop runs in
the C scanner ``_kvdt.c`` (about ten million lines a second on one core) or, without a C compiler, in
Python (``_iter_python``: each line's head is looked up in a dictionary, about 1.3 million lines a
second). Blocks are small on purpose: the cases of a block live until they are checked, and with
1 MiB blocks (4 600 cases) they outlived the young GC generations, which then cost a tenth of the
check's time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from itertools import compress, count, repeat
from operator import itemgetter, ne, sub
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from .model import BillingError, Case, Quarter, Service

try:
    from . import _kvdt  # the C scanner, built by ``pip install -e .`` where a C compiler is at hand
except ImportError:  # pragma: no cover - depends on the build
    _kvdt = None

#: Whether readers use the C scanner by default. SPRECHZIMMER_PURE_PYTHON=1 turns it off.
ACCELERATED = _kvdt is not None and not os.environ.get("SPRECHZIMMER_PURE_PYTHON")

ENCODING = "iso8859_15"
BLOCK = 1 << 15  # 32 KiB; see the module's docstring
MAX_LINE = 999

TREATMENT_RECORDS = frozenset({"0101", "0102", "0103", "0104"})
_TREATMENT_BYTES = {kind.encode(): kind for kind in TREATMENT_RECORDS}

# What the reader does with a field (the dictionary maps line heads to these).
_IGNORE, _RECORD, _CASE_ID, _QUARTER, _SUBGROUP, _DATE, _GOP, _MULTIPLIER, _TIME, _LANR, _BSNR_SERVICE, \
    _BSNR, _TSS, _PRIVATE = range(14)
_ACTIONS = {
    "8000": _RECORD, "3000": _CASE_ID, "4101": _QUARTER, "4239": _SUBGROUP, "5000": _DATE, "5001": _GOP,
    "5005": _MULTIPLIER, "5006": _TIME, "5099": _LANR, "5098": _BSNR_SERVICE, "0201": _BSNR, "4103": _TSS,
}
_LEN3 = {b"%03d" % n: n for n in range(1000)}
_FIELD_ACTION = {b"%04d" % n: _ACTIONS.get("%04d" % n, _IGNORE) for n in range(10000)}
#: The same tables as bytes (one action per field 0000–9999) and the record kinds, for the C scanner.
_ACTION_TABLE = bytes(_FIELD_ACTION[b"%04d" % n] for n in range(10000))
_TREATMENT_KINDS = tuple(sorted(TREATMENT_RECORDS))
#: Fields an upload to the server may carry with content (everything the rules need, no patient
#: data). The browser blanks every other field before upload (static/…/js/kvdtstrip.js); in privacy
#: mode the reader refuses a file where one still has content.
UPLOAD_FIELDS = frozenset(_ACTIONS) | {"9103", "9106", "9132", "9212", "0203", "0212", "8100"}
_FIELD_ACTION_PRIVATE = {field: action if field.decode() in UPLOAD_FIELDS else _PRIVATE
                         for field, action in _FIELD_ACTION.items()}
_ACTION_TABLE_PRIVATE = bytes(_FIELD_ACTION_PRIVATE[b"%04d" % n] for n in range(10000))
_HEAD3 = itemgetter(slice(0, 3))
_FIELD4 = itemgetter(slice(3, 7))
FIELD_NAMES = {
    "8000": "Satzart", "3000": "Patientennummer", "4101": "Quartal", "4239": "Scheinuntergruppe",
    "5000": "Leistungstag", "5001": "GOP", "5005": "Multiplikator", "5006": "Uhrzeit", "5099": "LANR",
    "5098": "BSNR", "0201": "BSNR", "4103": "Vermittlungskennzeichen",
}
#: Field 4103 (Vermittlungs-/Kennzeichen): value 2 marks a TSS acute case (TSS-Akutfall), which the
#: case cap (R7) does not count.
TSS_ACUTE = b"2"

# One pass over a block finds every byte that has no place in a KVDT file: control characters
# (other than CR LF), a CR not followed by LF, and UTF-8 sequences (KVDT is ISO-8859-15).
_BAD_BYTES = re.compile(rb"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|[\xc2-\xf4][\x80-\xbf]")
#: Bytes that plain ISO-8859-15 text consists of (printable ASCII, CR, LF, 0xA0–0xFF). The fast
#: check deletes them from a block; anything left, a 0xC2/0xC3 (the lead bytes of UTF-8 umlauts)
#: or a CR without LF sends the block through ``_BAD_BYTES`` to find and name the culprit.
_TEXT_BYTES = bytes([0x0A, 0x0D, *range(0x20, 0x7F), *range(0xA0, 0x100)])


def _suspicious(block: bytes, end: int | None = None) -> bool:
    """Whether ``block[:end]`` may hold a bad byte (then ``_BAD_BYTES`` finds it). The CR count stops
    at ``end`` so that a block cut between CR and LF is not suspected for nothing."""
    return bool(block.translate(None, _TEXT_BYTES) or b"\xc3" in block or b"\xc2" in block
                or block.count(b"\r", 0, end) != block.count(b"\r\n", 0, end))


_GOP_CODE = re.compile(rb"\d{5}[A-Z]?")


class KvdtError(BillingError):
    """A KVDT file the reader refuses. ``str()`` is one German sentence naming line and field."""

    def __init__(self, line: int, field: str | None, reason: str):
        self.line = line
        self.field = field
        self.reason = reason
        where = f"Zeile {line}" + (f", Feld {field}" + (f" ({FIELD_NAMES[field]})" if field in FIELD_NAMES else "")
                                   if field else "")
        super().__init__(f"{where}: {reason}")


def _field(line: bytes) -> str | None:
    head = line[3:7]
    return head.decode("ascii") if head.isdigit() and len(head) == 4 else None


class KvdtReader:
    """Reads cases from a binary stream. After iteration ``quarter`` and ``bsnr`` are set.

    The line loop runs in the C scanner (``_kvdt.c``) when it is built, else in Python
    (``accelerated=False`` forces Python). Both call the same slow-path methods below for every value
    seen the first time and for every error, so they accept the same files, give the same cases and
    raise the same messages; the tests run every KVDT test on both."""

    def __init__(self, stream: BinaryIO, quarter: Quarter | None = None, *, privacy: bool = False,
                 accelerated: bool | None = None):
        self.stream = stream
        self._privacy = privacy
        self._field_action = _FIELD_ACTION_PRIVATE if privacy else _FIELD_ACTION
        self.quarter = quarter  # from field 4101 unless given
        self._quarter_raw = quarter.kvdt.encode() if quarter else None
        self._strict_quarter = quarter is None
        self.bsnr: str | None = None
        self.lines = 0
        self.accelerated = ACCELERATED if accelerated is None else accelerated
        if self.accelerated and _kvdt is None:
            raise RuntimeError("the C scanner (_kvdt) is not built")
        self._adjust: int | None = None  # bytes of the line end not in a split line: 1 for CR LF, 2 for LF
        self._cut: int | None = None  # slice end of the content: -1 drops the CR

    def __iter__(self) -> Iterator[Case]:
        return self._iter_c() if self.accelerated else self._iter_python()

    def _blocks(self) -> Iterator[tuple[bytes, int]]:
        """Blocks of whole lines (without the last line end) and the number of lines before each,
        checked for bytes that have no place in KVDT; the first also for the first line."""
        number = 0
        read = self.stream.read
        rest = b""
        while True:
            block = read(BLOCK)
            if not block:
                if not rest:
                    return
                bad = _suspicious(rest) and _BAD_BYTES.search(rest)
                if bad:
                    self._bad_byte(rest, bad, number)
                if self._adjust == 1 and not rest.endswith(b"\r"):
                    rest += b"\r"  # the last line may lack its line end
                block, rest = rest, b""
            else:
                block = rest + block
                end = block.rfind(b"\n")
                if end < 0:
                    if len(block) > 4 * MAX_LINE:
                        raise KvdtError(number + 1, None, "Zeile ohne Zeilenende (länger als 999 Bytes); "
                                                          "keine KVDT-Datei?")
                    rest = block
                    continue
                bad = _suspicious(block, end + 1) and _BAD_BYTES.search(block, 0, end + 1)
                if bad:
                    self._bad_byte(block, bad, number)
                rest = block[end + 1:]
                block = block[:end]
            if self._adjust is None:
                newline = block.find(b"\n")
                first = block if newline < 0 else block[:newline]
                self._adjust, self._cut = (1, -1) if first.endswith(b"\r") else (2, None)
                if not (first[:3].isdigit() and first[3:7] == b"8000"):
                    raise KvdtError(1, _field(first), "keine KVDT-Datei: die erste Zeile muss die Satzart "
                                                      "(Feld 8000, z. B. »0138000con0«) sein.")
            yield block, number
            number += block.count(b"\n") + 1

    def _iter_c(self) -> Iterator[Case]:
        scanner = None
        for block, _number in self._blocks():
            if scanner is None:
                table = _ACTION_TABLE_PRIVATE if self._privacy else _ACTION_TABLE
                # Prototypes: the scanner copies their slots (defaults from their own __init__).
                scanner = _kvdt.Scanner(self, table, self._adjust, Case(""), Service("", None, 0),
                                        _TREATMENT_KINDS)
            yield from scanner.feed(block)
        if scanner is None or not scanner.seen_record:
            raise KvdtError(max(scanner.number if scanner else 0, 1), None,
                            "keine KVDT-Datei: kein Satz (Feld 8000) gefunden.")
        last = scanner.finish()
        self.bsnr = scanner.bsnr
        if last is not None:
            yield last
        self.lines = scanner.number

    # The parser is one long function on purpose: local variables are what make it fast.
    def _iter_python(self) -> Iterator[Case]:  # noqa: C901 - one loop, one state machine
        dates: dict[bytes, dt.date] = {}
        gops: dict[bytes, str] = {}
        lanrs: dict[bytes, str] = {}
        number = 0
        case: Case | None = None
        service: Service | None = None
        date: dt.date | None = None
        visit = 0
        seen_record = False
        field_action = self._field_action.get
        fail = self._fail
        total = 0
        for block, base in self._blocks():
            lines = block.split(b"\n")
            adjust, cut = self._adjust, self._cut
            # Validate every line of the block at C speed (length prefix against the real length,
            # four-digit field), then walk in Python only over the lines of fields the rules use.
            total = base + len(lines)
            actions = list(map(field_action, map(_FIELD4, lines)))
            if None in actions or any(map(ne, map(sub, map(_LEN3.get, map(_HEAD3, lines), repeat(-1000)),
                                                  map(len, lines)), repeat(adjust))) \
                    or adjust == 1 and (not block.endswith(b"\r") or block.count(b"\r\n") != len(lines) - 1):
                self._scan(lines, base, adjust)
            for number, line, action in zip(compress(count(base + 1), actions), compress(lines, actions),
                                            compress(actions, actions)):
                value = line[7:cut]
                if action == _PRIVATE:
                    if value:
                        fail(number, "private", _field(line))
                    continue
                if action == _GOP:
                    if case is None:
                        continue
                    if date is None:
                        fail(number, "gop_without_date")
                    gop = gops.get(value)
                    if gop is None:
                        gop = gops[value] = self._gop(value, number)
                    service = Service(gop, date, visit)
                    case.services.append(service)
                elif action == _DATE:
                    if case is None:
                        continue
                    date = dates.get(value)
                    if date is None:
                        date = dates[value] = self._date(value, number)
                    visit += 1
                    service = None
                elif action == _LANR:
                    if case is None:
                        continue
                    if service is None:
                        fail(number, "lanr_without_gop")
                    lanr = lanrs.get(value)
                    if lanr is None:
                        lanr = lanrs[value] = self._lanr(value, number)
                    service.lanr = lanr
                elif action == _RECORD:
                    if case is not None:
                        yield self._finish(case)
                        case = None
                    seen_record = True
                    kind = _TREATMENT_BYTES.get(value)
                    if kind is not None:
                        case = Case("", kind, self.bsnr, line=number)
                        service = None
                        date = None
                        visit = 0
                elif case is None:
                    if action == _BSNR and self.bsnr is None:
                        self.bsnr = self._digits(value, 9, number, "0201")
                    continue
                elif action == _CASE_ID:
                    case.case_id = self._case_id(value, number)
                elif action == _TIME:
                    if service is None:
                        fail(number, "time_without_gop")
                    service.time = self._time(value, number)
                elif action == _MULTIPLIER:
                    if service is None:
                        fail(number, "multiplier_without_gop")
                    service.multiplier = self._multiplier(value, number)
                elif action == _QUARTER:
                    if value != self._quarter_raw:
                        self._set_quarter(value, number)
                elif action == _SUBGROUP:
                    case.subgroup = self._subgroup(value)
                elif action == _TSS:
                    case.tss_acute = value == TSS_ACUTE
                elif action == _BSNR_SERVICE:
                    if service is None:
                        fail(number, "bsnr_without_gop")
                    service.bsnr = self._digits(value, 9, number, "5098")
                    if case.bsnr is None or case.bsnr == self.bsnr:
                        case.bsnr = service.bsnr
                elif action == _BSNR:
                    case.bsnr = case.bsnr or self._digits(value, 9, number, "0201")
        if not seen_record:
            raise KvdtError(max(total, 1), None, "keine KVDT-Datei: kein Satz (Feld 8000) gefunden.")
        if case is not None:
            yield self._finish(case)
        self.lines = total

    # -- slow paths, called once per distinct line head or on error ---------------------------------
    def _scan(self, lines: list[bytes], base: int, adjust: int) -> None:
        """Finds the line the fast check refused and raises its error."""
        for index, line in enumerate(lines):
            number = base + index + 1
            head = line[:7]
            if len(head) < 7 or not head.isdigit():
                if not line.strip():
                    raise KvdtError(number, None, "leere Zeile.")
                raise KvdtError(number, _field(line), "die Zeile beginnt nicht mit Länge (3 Ziffern) und "
                                                      "Feldkennung (4 Ziffern).")
            declared = int(line[:3])
            if declared < 9:
                raise KvdtError(number, _field(line), f"Längenangabe {declared} ist kleiner als 9.")
            if adjust == 1 and not line.endswith(b"\r"):
                raise KvdtError(number, _field(line), "Zeilenende LF ohne CR, die übrigen Zeilen enden mit CR LF.")
            if len(line) + adjust != declared:
                raise KvdtError(number, _field(line), f"Längenangabe {declared} passt nicht zur tatsächlichen Länge "
                                                      f"{len(line) + adjust} Bytes.")

    #: Errors of structure, by the key both scanners pass to ``_fail``.
    _STRUCTURE = {
        "private": (None, "Patientendaten (Namen, Anschrift, Versicherung, Diagnosen) dürfen nicht hochgeladen "
                          "werden."),
        "gop_without_date": ("5001", "GOP ohne vorangehenden Leistungstag (Feld 5000)."),
        "lanr_without_gop": ("5099", "LANR ohne vorangehende GOP (Feld 5001)."),
        "time_without_gop": ("5006", "Uhrzeit ohne vorangehende GOP (Feld 5001)."),
        "multiplier_without_gop": ("5005", "Multiplikator ohne vorangehende GOP (Feld 5001)."),
        "bsnr_without_gop": ("5098", "BSNR ohne vorangehende GOP (Feld 5001)."),
    }

    def _fail(self, number: int, key: str, field: str | None = None) -> None:
        default, reason = self._STRUCTURE[key]
        raise KvdtError(number, field or default, reason)

    @staticmethod
    def _gop(value: bytes, number: int) -> str:
        if not _GOP_CODE.fullmatch(value):
            raise KvdtError(number, "5001", f"»{value.decode(ENCODING)}« ist keine GOP (fünf Ziffern, ggf. ein "
                                            "Buchstabe).")
        return value.decode("ascii")

    @staticmethod
    def _lanr(value: bytes, number: int) -> str:
        if len(value) != 9 or not value.isdigit():
            raise KvdtError(number, "5099", "die LANR besteht aus genau 9 Ziffern.")
        return value.decode("ascii")

    @staticmethod
    def _multiplier(value: bytes, number: int) -> int:
        if not value.isdigit() or not 1 <= int(value) <= 99:
            raise KvdtError(number, "5005", "der Multiplikator ist eine Zahl von 1 bis 99.")
        return int(value)

    @staticmethod
    def _case_id(value: bytes, number: int) -> str:
        case_id = (value.decode("ascii") if value.isascii() else value.decode(ENCODING)).strip()
        if not case_id:
            raise KvdtError(number, "3000", "Patientennummer ist leer.")
        return case_id

    @staticmethod
    def _subgroup(value: bytes) -> str:
        return value.decode(ENCODING)

    @staticmethod
    def _bad_byte(block: bytes, match: re.Match, number: int) -> None:
        line = number + block.count(b"\n", 0, match.start()) + 1
        found = match.group()
        start = block.rfind(b"\n", 0, match.start()) + 1
        field = _field(block[start:start + 7])
        if len(found) == 2:
            raise KvdtError(line, field, "die Datei ist offenbar UTF-8-kodiert; KVDT verlangt ISO-8859-15.")
        if found == b"\r":
            raise KvdtError(line, field, "Wagenrücklauf (CR) ohne Zeilenvorschub innerhalb der Zeile.")
        raise KvdtError(line, field, f"unzulässiges Steuerzeichen 0x{found[0]:02x}.")

    @staticmethod
    def _date(value: bytes, number: int) -> dt.date:
        try:
            if len(value) != 8 or not value.isdigit():
                raise ValueError
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise KvdtError(number, "5000", f"»{value.decode(ENCODING)}« ist kein Datum (JJJJMMTT).") from None

    @staticmethod
    def _time(value: bytes, number: int) -> str:
        if len(value) != 4 or not value.isdigit() or int(value[:2]) > 23 or int(value[2:]) > 59:
            raise KvdtError(number, "5006", f"»{value.decode(ENCODING)}« ist keine Uhrzeit (hhmm).")
        return f"{value[:2].decode()}:{value[2:].decode()}"

    @staticmethod
    def _digits(value: bytes, count: int, number: int, field: str) -> str:
        if len(value) != count or not value.isdigit():
            raise KvdtError(number, field, f"erwartet werden genau {count} Ziffern.")
        return value.decode("ascii")

    def _set_quarter(self, value: bytes, number: int) -> None:
        try:
            quarter = Quarter.parse(value.decode(ENCODING)) if len(value) == 5 and value.isdigit() else None
        except BillingError:
            quarter = None
        if quarter is None:
            raise KvdtError(number, "4101", f"»{value.decode(ENCODING)}« ist kein Quartal (QJJJJ, z. B. 32024).")
        if self.quarter is None:
            self.quarter = quarter
            self._quarter_raw = value
        elif self._strict_quarter:
            raise KvdtError(number, "4101", f"Quartal {quarter} weicht vom Quartal der Datei ({self.quarter}) ab.")

    @staticmethod
    def _finish(case: Case) -> Case:
        if not case.case_id:
            raise KvdtError(case.line, "3000", "dem Behandlungsfall fehlt die Patientennummer (Feld 3000).")
        return case


def read_kvdt(stream: BinaryIO, quarter: Quarter | None = None) -> KvdtReader:
    return KvdtReader(stream, quarter)


# -- writer ---------------------------------------------------------------------------------------
def kvdt_line(field: str, content: str) -> bytes:
    data = content.encode(ENCODING)
    length = 9 + len(data)
    if length > MAX_LINE:
        raise BillingError(f"Feld {field}: Inhalt zu lang für eine KVDT-Zeile.")
    return b"%03d%s%s\r\n" % (length, field.encode("ascii"), data)


def write_kvdt(cases: Iterable[Case], quarter: Quarter, bsnr: str, out, *, extra: dict[str, dict[str, str]] | None = None) -> None:
    """Writes a minimal KVDT container: con0, besa (BSNR), one record per case, con9.

    ``extra`` maps a case id to further fields of its record (patient data of a pseudo case)."""
    write = out.write
    write(kvdt_line("8000", "con0"))
    write(kvdt_line("8000", "besa"))
    write(kvdt_line("0201", bsnr))
    for case in cases:
        write(kvdt_line("8000", case.record_type))
        write(kvdt_line("3000", case.case_id))
        for field, content in (extra or {}).get(case.case_id, {}).items():
            write(kvdt_line(field, content))
        write(kvdt_line("4101", quarter.kvdt))
        if case.subgroup:
            write(kvdt_line("4239", case.subgroup))
        if case.tss_acute:
            write(kvdt_line("4103", "2"))
        visit = None
        for service in case.services:
            if service.visit != visit:
                write(kvdt_line("5000", service.date.strftime("%Y%m%d")))
                visit = service.visit
            write(kvdt_line("5001", service.gop))
            if service.multiplier != 1:
                write(kvdt_line("5005", str(service.multiplier)))
            if service.time:
                write(kvdt_line("5006", service.time.replace(":", "")))
            if service.bsnr:
                write(kvdt_line("5098", service.bsnr))
            if service.lanr:
                write(kvdt_line("5099", service.lanr))
    write(kvdt_line("8000", "con9"))
