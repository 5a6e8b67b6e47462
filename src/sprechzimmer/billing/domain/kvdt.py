"""KVDT (the quarterly billing file, ``.con``): a strict, streaming reader and a writer.

Format: KBV, *Datensatzbeschreibung KVDT* (KBV_ITA_VGEX_Datensatzbeschreibung_KVDT), version 6.02 of
9.3.2026 and the versions before it back to 2019 (docs/ebm.md, "KVDT reader"). One field per line,
``LLLFFFFcontent`` + CR LF (real exports also LF only), ``LLL`` = 9 + bytes of content, ISO-8859-15.

The reader yields one :class:`~.model.Case` per treatment Schein (Satzart 0101–0104) and keeps what
the 4.3.1 rules and the grouping into Behandlungsfälle need; memory does not grow with the file.
Every other Satzart is read and counted (``records``; the Scheine 0109, sad1–sad3 and hdrg1 are
reported as not checked, unknown Satzarten as unknown), never dropped without a word. A file is
refused only when it is truly broken (a line whose length or field id cannot be read, bytes that
are no ISO-8859-15 text, a value the check relies on that breaks its format); :class:`KvdtError`
names the line, the field and the rule of the Datensatzbeschreibung.

Speed: the reader reads 32 KiB blocks and checks a whole block for control characters, CR without
LF and UTF-8 at C speed (``_suspicious``; a regular expression only where that finds something).
The line loop runs in the C scanner ``_kvdt.c`` (about ten million lines a second on one core) or,
without a C compiler, in Python (``_iter_python``). Blocks are small on purpose: the cases of a
block live until they are checked, and with 1 MiB blocks (4 600 cases) they outlived the young GC
generations, which then cost a tenth of the check's time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import compress, count, repeat
from operator import itemgetter, ne, sub
from typing import BinaryIO, NoReturn

from .model import BillingError, Case, Quarter, Service

try:
    from . import _kvdt  # the C scanner, built by ``pip install -e .`` where a C compiler is at hand

    BUILT = True
except ImportError:  # pragma: no cover - depends on the build
    _kvdt = None  # type: ignore[assignment]
    BUILT = False

#: Whether readers use the C scanner by default. SPRECHZIMMER_PURE_PYTHON=1 turns it off.
ACCELERATED = BUILT and not os.environ.get("SPRECHZIMMER_PURE_PYTHON")

ENCODING = "iso8859_15"
BLOCK = 1 << 15  # 32 KiB; see the module's docstring
MAX_LINE = 999
#: Which Datensatzbeschreibung the messages cite.
SOURCE = "KVDT-Datensatzbeschreibung"

TREATMENT_RECORDS = frozenset({"0101", "0102", "0103", "0104"})
#: Scheine of the other data packages: read and counted, not checked against EBM 4.3.1 (KADT
#: kurärztliche Behandlung, SADT Schwangerschaftsabbruch NRW, Hybrid-DRG).
OTHER_SCHEINE = {
    "0109": "kurärztliche Behandlung (KADT)",
    "sad1": "SADT ambulante Behandlung",
    "sad2": "SADT Überweisung",
    "sad3": "SADT belegärztliche Behandlung",
    "hdrg1": "Hybrid-DRG",
}
#: Header and trailer records of the container and the data packages.
FRAME_RECORDS = frozenset(
    {"con0", "con9", "besa", "rvsa", "adt0", "adt9", "kad0", "kad9", "sad0", "sad9", "hdrg0", "hdrg9"}
)
_PACKAGES = {"adt0": "adt", "kad0": "kadt", "sad0": "sadt", "hdrg0": "hdrg"}
_TREATMENT_BYTES = {kind.encode(): kind for kind in TREATMENT_RECORDS}

# What the reader does with a field (the dictionary maps line heads to these). The order is the C
# scanner's enum.
(
    _IGNORE,
    _RECORD,
    _CASE_ID,
    _QUARTER,
    _SUBGROUP,
    _DATE,
    _GOP,
    _MULTIPLIER,
    _TIME,
    _LANR,
    _BSNR_SERVICE,
    _BSNR,
    _TSS,
    _PRIVATE,
    _BILLING_QUARTER,
    _NAME,
    _FIRST_NAME,
    _BIRTH,
    _PAYER,
    _PSEUDONYM,
    _AGE,
) = range(21)
_ACTIONS = {
    "8000": _RECORD,
    "3000": _CASE_ID,
    "4101": _QUARTER,
    "4239": _SUBGROUP,
    "5000": _DATE,
    "5001": _GOP,
    "5005": _MULTIPLIER,
    "5006": _TIME,
    "5099": _LANR,
    "5098": _BSNR_SERVICE,
    "0201": _BSNR,
    "4103": _TSS,
    "9204": _BILLING_QUARTER,
    "3101": _NAME,
    "3102": _FIRST_NAME,
    "3103": _BIRTH,
    "4111": _PAYER,
}
#: In privacy mode (uploads through the browser): the name carries the browser's pseudonym, the
#: birth date the age; the first name must be blank like every other patient field.
_ACTIONS_PRIVATE = {**_ACTIONS, "3101": _PSEUDONYM, "3102": _PRIVATE, "3103": _AGE}
_LEN3 = {b"%03d" % n: n for n in range(1000)}
_FIELD_ACTION = {b"%04d" % n: _ACTIONS.get(f"{n:04d}", _IGNORE) for n in range(10000)}
#: Fields an upload to the server may carry with content: everything the rules need, no patient data
#: (3101 and 3103 only as pseudonym and age, see ``_pseudonym``/``_age``). The browser pseudonymises
#: or blanks every other field before upload (static/…/js/kvdtstrip.js); in privacy mode the reader
#: refuses a file where one still has content.
UPLOAD_FIELDS = frozenset(_ACTIONS) - {"3102"} | {"9103", "9106", "9132", "9212", "0203", "0212", "8100"}
_FIELD_ACTION_PRIVATE = {
    field: _ACTIONS_PRIVATE.get(field.decode(), _IGNORE) if field.decode() in UPLOAD_FIELDS else _PRIVATE
    for field in _FIELD_ACTION
}
#: The same tables as bytes (one action per field 0000–9999), for the C scanner.
_ACTION_TABLE = bytes(_FIELD_ACTION[b"%04d" % n] for n in range(10000))
_ACTION_TABLE_PRIVATE = bytes(_FIELD_ACTION_PRIVATE[b"%04d" % n] for n in range(10000))
_TREATMENT_KINDS = tuple(sorted(TREATMENT_RECORDS))
_HEAD3 = itemgetter(slice(0, 3))
_FIELD4 = itemgetter(slice(3, 7))
FIELD_NAMES = {
    "8000": "Satzart",
    "3000": "Patientennummer",
    "4101": "Quartal",
    "4239": "Scheinuntergruppe",
    "5000": "Leistungstag",
    "5001": "GNR",
    "5005": "Multiplikator",
    "5006": "Um-Uhrzeit",
    "5099": "LANR",
    "5098": "BSNR",
    "0201": "BSNR",
    "4103": "Vermittlungs-/Kontaktart",
    "9204": "Abrechnungsquartal",
    "3101": "Name",
    "3102": "Vorname",
    "3103": "Geburtsdatum",
    "4111": "Kostenträgerkennung",
}
#: Field 4103 (Vermittlungs-/Kontaktart): value 2 marks a TSS acute case (TSS-Akutfall), which the
#: case cap (R7) does not count.
TSS_ACUTE = b"2"
#: What the browser writes into 3101 and 3103 of an upload (kvdtstrip.js).
PSEUDONYM = re.compile(rb"psn1:[A-Z2-7]{26}")
AGE = re.compile(rb"alter:(\d{1,3})")

# One pass over a block finds every byte that has no place in a KVDT file: control characters
# (other than CR LF, including the C1 range 0x80–0x9F), a CR not followed by LF, and UTF-8
# sequences of any length (KVDT is ISO-8859-15; a UTF-8 "ü" is C3 BC, a "€" E2 82 AC).
_BAD_BYTES = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
    rb"|[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)"
)
#: Bytes that cannot start or continue anything ``_BAD_BYTES`` looks for: printable ASCII, CR, LF and
#: 0xC0–0xFF (the letters of ISO-8859-15; a UTF-8 lead byte alone is harmless). What the fast check
#: deletes them from leaves control characters and 0x80–0xBF, without which there is no UTF-8
#: sequence; only then the regular expression runs. German names (ä = E4, ß = DF) pass at C speed.
_SAFE_BYTES = bytes([0x0A, 0x0D, *range(0x20, 0x7F), *range(0xC0, 0x100)])


def _suspicious(block: bytes, end: int | None = None, crs: bool = True) -> bool:
    """Whether ``block[:end]`` may hold a bad byte (then ``_BAD_BYTES`` finds it). A CR that is not
    before an LF makes the CRs more than the LFs, or, with a line that ends in LF alone, as many;
    such a line the length check refuses (its length prefix counts CR LF). The counts stop at
    ``end`` so that a block cut between CR and LF is not suspected for nothing. ``crs=False`` leaves
    the CRs to the C scanner, which looks for one inside a line as it checks the line's length."""
    if block.translate(None, _SAFE_BYTES):
        return True
    if not crs:
        return False
    cr = block.count(b"\r", 0, end)
    return bool(cr) and cr != block.count(b"\n", 0, end)


class KvdtError(BillingError):
    """A KVDT file the reader refuses. ``str()`` is one German sentence naming line and field."""

    def __init__(self, line: int, field: str | None, reason: str):
        self.line = line
        self.field = field
        self.reason = reason
        where = f"Zeile {line}" + (
            f", Feld {field}" + (f" ({FIELD_NAMES[field]})" if field in FIELD_NAMES else "") if field else ""
        )
        super().__init__(f"{where}: {reason}")


def _field(line: bytes) -> str | None:
    head = line[3:7]
    return head.decode("ascii") if head.isdigit() and len(head) == 4 else None


def _text(value: bytes) -> str:
    return value.decode(ENCODING)


class KvdtReader:
    """Reads Scheine from a binary stream. After iteration ``quarter``, ``bsnr``, ``records`` and
    ``lines`` are set; ``quarter`` (the billing quarter, field 9204 of adt0) as soon as the first
    Schein has been read.

    The line loop runs in the C scanner (``_kvdt.c``) when it is built, else in Python
    (``accelerated=False`` forces Python). Both call the same slow-path methods below for every value
    seen the first time and for every error, so they accept the same files, give the same Scheine and
    raise the same messages; the tests run every KVDT test on both."""

    def __init__(
        self,
        stream: BinaryIO,
        quarter: Quarter | None = None,
        *,
        privacy: bool = False,
        accelerated: bool | None = None,
    ):
        self.stream = stream
        self._privacy = privacy
        self._field_action = _FIELD_ACTION_PRIVATE if privacy else _FIELD_ACTION
        self.quarter = quarter  # billing quarter: given, else 9204 of adt0, else the first Schein's 4101
        self.file_quarter: Quarter | None = None  # 9204 of adt0, else the first Schein's 4101, as in the file
        self.stated_quarter: Quarter | None = None  # 9204 of adt0 only: the quarter the file says it bills
        self._given_quarter = quarter is not None
        self.bsnr: str | None = None
        self.lines = 0
        #: Records other than the treatment Scheine: Satzart → count (con0, besa, adt0, 0109 …).
        self.records: Counter[str] = Counter()
        #: Satzarten the Datensatzbeschreibung does not define: Satzart → line of the first one.
        self.unknown_records: dict[str, int] = {}
        self._package: str | None = None
        self.accelerated = ACCELERATED if accelerated is None else accelerated
        if self.accelerated and not BUILT:
            raise RuntimeError("the C scanner (_kvdt) is not built")
        self._adjust: int | None = None  # bytes of the line end not in a split line: 1 for CR LF, 2 for LF
        self._cut: int | None = None  # slice end of the content: -1 drops the CR

    def __iter__(self) -> Iterator[Case]:
        return self._iter_c() if self.accelerated else self._iter_python()

    @property
    def unchecked_scheine(self) -> dict[str, int]:
        """Scheine of the other data packages (0109, sad1–sad3, hdrg1): Satzart → count."""
        return {kind: self.records[kind] for kind in OTHER_SCHEINE if self.records[kind]}

    def _blocks(self, counted: Callable[[], int] | None = None) -> Iterator[tuple[bytes, int]]:
        """Blocks of whole lines (without the last line end) and the number of lines before each,
        checked for bytes that have no place in KVDT; the first also for the first line. The C
        scanner counts the lines itself (``counted`` tells, for the messages; the numbers yielded
        are then 0) and finds a CR inside a line as it checks the line (``_bad_block``): only the
        last block, cut at no LF, has its CRs counted here then."""
        scanner = counted is not None
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
                    self._bad_byte(rest, bad, counted() if counted else number)
                if self._adjust == 1 and not rest.endswith(b"\r"):
                    rest += b"\r"  # the last line may lack its line end
                block, rest = rest, b""
            else:
                block = rest + block
                end = block.rfind(b"\n")
                if end < 0:
                    if len(block) > 4 * MAX_LINE:
                        raise KvdtError(
                            number + 1, None, "Zeile ohne Zeilenende (länger als 999 Bytes); keine KVDT-Datei?"
                        )
                    rest = block
                    continue
                bad = _suspicious(block, end + 1, not scanner) and _BAD_BYTES.search(block, 0, end + 1)
                if bad:
                    self._bad_byte(block, bad, counted() if counted else number)
                rest = block[end + 1 :]
                block = block[:end]
            if self._adjust is None:
                newline = block.find(b"\n")
                first = block if newline < 0 else block[:newline]
                self._adjust, self._cut = (1, -1) if first.endswith(b"\r") else (2, None)
                if not (first[:3].isdigit() and first[3:7] == b"8000"):
                    raise KvdtError(
                        1,
                        _field(first),
                        "keine KVDT-Datei: die erste Zeile muss die Satzart (Feld 8000, z. B. »0138000con0«) sein.",
                    )
            yield block, number
            if not scanner:
                number += block.count(b"\n") + 1

    def _iter_c(self) -> Iterator[Case]:
        scanner = None
        made: list[_kvdt.Scanner] = []  # the scanner, for the line numbers of _blocks' messages
        for block, _number in self._blocks(lambda: made[0].number if made else 0):
            if scanner is None:
                table = _ACTION_TABLE_PRIVATE if self._privacy else _ACTION_TABLE
                assert self._adjust is not None  # _blocks knows the line end before its first block
                # Prototypes: the scanner copies their slots (defaults from their own __init__).
                prototype = Service("", None, 0)  # type: ignore[arg-type]  # every copy gets its date
                scanner = _kvdt.Scanner(self, table, self._adjust, Case(""), prototype, _TREATMENT_KINDS)
                made.append(scanner)
            yield from scanner.feed(block)
        if scanner is None or not scanner.seen_record:
            raise KvdtError(
                max(scanner.number if scanner else 0, 1), None, "keine KVDT-Datei: kein Satz (Feld 8000) gefunden."
            )
        last = scanner.finish()
        self.bsnr = scanner.bsnr
        if last is not None:
            yield last
        self.lines = scanner.number

    # The parser is one long function on purpose: local variables are what make it fast.
    def _iter_python(self) -> Iterator[Case]:
        dates: dict[bytes, dt.date] = {}
        gops: dict[bytes, str] = {}
        lanrs: dict[bytes, str] = {}
        bsnrs: dict[bytes, str] = {}
        subgroups: dict[bytes, str] = {}
        quarters: dict[bytes, Quarter] = {}
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
            assert adjust is not None  # _blocks knows the line end before its first block
            # Validate every line of the block at C speed (length prefix against the real length,
            # four-digit field), then walk in Python only over the lines of fields the reader uses.
            total = base + len(lines)
            actions = list(map(field_action, map(_FIELD4, lines)))
            if (
                None in actions
                or any(
                    map(
                        ne, map(sub, map(_LEN3.get, map(_HEAD3, lines), repeat(-1000)), map(len, lines)), repeat(adjust)
                    )
                )
                or adjust == 1
                and (not block.endswith(b"\r") or block.count(b"\r\n") != len(lines) - 1)
            ):
                self._scan(lines, base, adjust)
            for number, line, action in zip(
                compress(count(base + 1), actions), compress(lines, actions), compress(actions, actions), strict=True
            ):
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
                        yield self._finish(case) if not case.case_id else case
                        case = None
                    seen_record = True
                    kind = _TREATMENT_BYTES.get(value)
                    if kind is not None:
                        case = Case("", kind, self.bsnr, line=number)
                        service = None
                        date = None
                        visit = 0
                    else:
                        self._record(value, number)
                elif action == _PSEUDONYM:
                    pseudonym = self._pseudonym(value, number)
                    if case is not None:
                        case.name = pseudonym
                elif action == _AGE:
                    age = self._age(value, number)
                    if case is not None:
                        case.birth = age
                elif action == _BILLING_QUARTER:
                    self._billing_quarter(value, number)
                elif case is None:
                    if action == _BSNR and self.bsnr is None:
                        self.bsnr = self._digits(value, 9, number, "0201")
                    continue
                elif action == _CASE_ID:
                    case.case_id = (
                        value.decode("ascii") if value.isascii() and value.isalnum() else self._case_id(value, number)
                    )
                elif action == _TIME:
                    if service is None:
                        fail(number, "time_without_gop")
                    service.time = self._time(value, number)
                elif action == _MULTIPLIER:
                    if service is None:
                        fail(number, "multiplier_without_gop")
                    service.multiplier = self._multiplier(value, number)
                elif action == _QUARTER:
                    quarter = quarters.get(value)
                    if quarter is None:
                        quarter = quarters[value] = self._quarter(value, number)
                    case.quarter = quarter
                elif action == _SUBGROUP:
                    subgroup = subgroups.get(value)
                    if subgroup is None:
                        subgroup = subgroups[value] = self._subgroup(value, number)
                    case.subgroup = subgroup
                elif action == _TSS:
                    case.tss_acute = value == TSS_ACUTE
                elif action == _BSNR_SERVICE:
                    if service is None:
                        fail(number, "bsnr_without_gop")
                    bsnr = bsnrs.get(value)
                    if bsnr is None:
                        bsnr = bsnrs[value] = self._bsnr(value, number)
                    service.bsnr = bsnr
                    if case.bsnr is None or case.bsnr == self.bsnr:
                        case.bsnr = service.bsnr
                elif action == _BSNR:
                    case.bsnr = case.bsnr or self._digits(value, 9, number, "0201")
                elif action == _NAME:
                    case.name = value
                elif action == _FIRST_NAME:
                    case.first_name = value
                elif action == _BIRTH:
                    case.birth = value
                elif action == _PAYER:
                    case.payer = value
        if not seen_record:
            raise KvdtError(max(total, 1), None, "keine KVDT-Datei: kein Satz (Feld 8000) gefunden.")
        if case is not None:
            yield self._finish(case) if not case.case_id else case
        self.lines = total

    # -- slow paths, called once per distinct value, per record other than a Schein, or on error ----
    def _bad_block(self, block: bytes, base: int) -> None:
        """The C scanner found a line it refuses: a bad byte anywhere in the block (a CR inside a
        line, which ``_blocks`` leaves to it) is the error, as on the Python loop, before the line's."""
        bad = _BAD_BYTES.search(block, 0, len(block) - 1)  # the last byte is a CR before the cut LF
        if bad:
            self._bad_byte(block, bad, base)

    def _scan(self, lines: list[bytes], base: int, adjust: int) -> None:
        """Finds the line the fast check refused and raises its error."""
        for index, line in enumerate(lines):
            number = base + index + 1
            head = line[:7]
            if len(head) < 7 or not head.isdigit():
                if not line.strip():
                    raise KvdtError(number, None, "leere Zeile.")
                raise KvdtError(
                    number,
                    _field(line),
                    "die Zeile beginnt nicht mit Länge (3 Ziffern) und "
                    f"Feldkennung (4 Ziffern) ({SOURCE} 1.6.1, Feldaufbau).",
                )
            declared = int(line[:3])
            if declared < 9:
                raise KvdtError(
                    number,
                    _field(line),
                    f"Längenangabe {declared} ist kleiner als 9 ({SOURCE} 1.6.1: Länge = Feldinhalt + 9).",
                )
            if adjust == 1 and not line.endswith(b"\r"):
                raise KvdtError(number, _field(line), "Zeilenende LF ohne CR, die übrigen Zeilen enden mit CR LF.")
            if len(line) + adjust != declared:
                raise KvdtError(
                    number,
                    _field(line),
                    f"Längenangabe {declared} passt nicht zur tatsächlichen Länge "
                    f"{len(line) + adjust} Bytes ({SOURCE} 1.6.1: Länge = "
                    "Feldinhalt + 9).",
                )

    #: Errors of structure, by the key both scanners pass to ``_fail``.
    _STRUCTURE = {
        "private": (
            None,
            "Patientendaten (Namen, Anschrift, Versicherung, Diagnosen) dürfen nicht hochgeladen "
            "werden; bitte laden Sie die Datei über die Seite hoch, die sie im Browser "
            "pseudonymisiert.",
        ),
        "gop_without_date": (
            "5001",
            f"GNR ohne vorangehenden Leistungstag (Feld 5000; {SOURCE} 3.4.3: die GNR "
            "ist dem Leistungstag untergeordnet).",
        ),
        "lanr_without_gop": ("5099", "LANR ohne vorangehende GNR (Feld 5001)."),
        "time_without_gop": ("5006", "Uhrzeit ohne vorangehende GNR (Feld 5001)."),
        "multiplier_without_gop": ("5005", "Multiplikator ohne vorangehende GNR (Feld 5001)."),
        "bsnr_without_gop": ("5098", "BSNR ohne vorangehende GNR (Feld 5001)."),
    }

    def _fail(self, number: int, key: str, field: str | None = None) -> NoReturn:
        default, reason = self._STRUCTURE[key]
        raise KvdtError(number, field or default, reason)

    @staticmethod
    def _gop(value: bytes, number: int) -> str:
        # Feldtabelle: GNR ≤ 9 characters (5 or 6 under EBM, Regel 042 "nnnnn, nnnnn[G-alpha]"). A
        # code that is not an EBM code is no reason to refuse the file: the check reports it as unknown.
        if not value or len(value) > 9 or not value.isalnum() or not value.isascii():
            raise KvdtError(
                number,
                "5001",
                f"»{_text(value)}« ist keine Gebührennummer ({SOURCE}, ADT-Feldtabelle: "
                "höchstens 9 Buchstaben oder Ziffern; Regel 042: nnnnn oder nnnnn "
                "mit einem Buchstaben).",
            )
        return value.decode("ascii")

    @staticmethod
    def _lanr(value: bytes, number: int) -> str:
        if len(value) != 9 or not value.isdigit():
            raise KvdtError(
                number,
                "5099",
                f"die LANR besteht aus genau 9 Ziffern ({SOURCE}, ADT-Feldtabelle: 9 n; Regel 050: nnnnnnmff).",
            )
        return value.decode("ascii")

    @staticmethod
    def _multiplier(value: bytes, number: int) -> int:
        # Feldtabelle: 3 n (with leading zeros, "002"); Regel 535: 002–999. Older files write "2".
        if not 1 <= len(value) <= 3 or not value.isdigit() or int(value) < 1:
            raise KvdtError(
                number,
                "5005",
                f"»{_text(value)}« ist kein Multiplikator ({SOURCE}, ADT-Feldtabelle: "
                "3 Ziffern; Regel 535: 002 bis 999).",
            )
        return int(value)

    @staticmethod
    def _case_id(value: bytes, number: int) -> str:
        return _text(value).strip()

    @staticmethod
    def _subgroup(value: bytes, number: int) -> str:
        return _text(value).strip()

    @classmethod
    def _bsnr(cls, value: bytes, number: int) -> str:
        return cls._digits(value, 9, number, "5098")

    def _pseudonym(self, value: bytes, number: int) -> bytes | None:
        if value and not PSEUDONYM.fullmatch(value):
            raise KvdtError(
                number,
                "3101",
                "der Name darf nicht hochgeladen werden (erwartet wird das Pseudonym, "
                "das die Seite im Browser bildet).",
            )
        return value or None

    def _age(self, value: bytes, number: int) -> bytes | None:
        match = AGE.fullmatch(value) if value else None
        if value and (match is None or int(match.group(1)) > 150):
            raise KvdtError(
                number,
                "3103",
                "das Geburtsdatum darf nicht hochgeladen werden (erwartet wird das Alter, "
                "das die Seite im Browser daraus berechnet).",
            )
        return value or None

    @staticmethod
    def _bad_byte(block: bytes, match: re.Match[bytes], number: int) -> None:
        line = number + block.count(b"\n", 0, match.start()) + 1
        found = match.group()
        start = block.rfind(b"\n", 0, match.start()) + 1
        field = _field(block[start : start + 7])
        if len(found) >= 2 and found[0] >= 0xC2:
            raise KvdtError(
                line,
                field,
                f"UTF-8-Zeichen »{found.decode('utf-8', 'replace')}« "
                f"(Bytes {found.hex(' ').upper()}); KVDT verlangt ISO-8859-15 ({SOURCE} 1.8). "
                "Bitte exportieren Sie die Datei erneut aus Ihrem Praxisverwaltungssystem.",
            )
        if found == b"\r":
            raise KvdtError(
                line,
                field,
                "Wagenrücklauf (CR) ohne Zeilenvorschub innerhalb der Zeile "
                f"({SOURCE} 1.8: CR und LF nur als Feldende).",
            )
        raise KvdtError(
            line,
            field,
            f"unzulässiges Steuerzeichen 0x{found[0]:02x} ({SOURCE} 1.8.1: nur Zeichen der "
            "Zeichensatztabelle ISO 8859-15).",
        )

    @staticmethod
    def _date(value: bytes, number: int) -> dt.date:
        try:
            if len(value) != 8 or not value.isdigit():
                raise ValueError
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise KvdtError(
                number, "5000", f"»{_text(value)}« ist kein Datum ({SOURCE} 1.6.2, Feldtyp d: JJJJMMTT)."
            ) from None

    @staticmethod
    def _time(value: bytes, number: int) -> str:
        if len(value) != 4 or not value.isdigit() or int(value[:2]) > 23 or int(value[2:]) > 59:
            raise KvdtError(number, "5006", f"»{_text(value)}« ist keine Uhrzeit ({SOURCE}, Regel 005: HHMM).")
        return f"{value[:2].decode()}:{value[2:].decode()}"

    @staticmethod
    def _digits(value: bytes, count: int, number: int, field: str) -> str:
        if len(value) != count or not value.isdigit():
            raise KvdtError(number, field, f"erwartet werden genau {count} Ziffern ({SOURCE}, Feldtabelle: {count} n).")
        return value.decode("ascii")

    @staticmethod
    def _parse_quarter(value: bytes, number: int, field: str) -> Quarter:
        try:
            quarter = Quarter.parse(value.decode("ascii")) if len(value) == 5 and value.isdigit() else None
        except BillingError:
            quarter = None
        if quarter is None:
            raise KvdtError(
                number, field, f"»{_text(value)}« ist kein Quartal ({SOURCE}, Regel 016: QJJJJ, z. B. 32024)."
            )
        return quarter

    def _quarter(self, value: bytes, number: int) -> Quarter:
        """Field 4101 of a Schein: its own quarter. Earlier quarters than the file's are late Scheine
        (Vorquartalsfälle, "Inhalt von FK 4101 ≠ FK 9204 (adt0)"), which are normal."""
        quarter = self._parse_quarter(value, number, "4101")
        if quarter == self.file_quarter:
            return self.file_quarter  # one object: the checker compares by identity first
        if self.file_quarter is None:
            self.file_quarter = quarter  # a file without 9204 (older writers, hand-made files)
        if self.quarter is None:
            self.quarter = quarter
        return quarter

    def _billing_quarter(self, value: bytes, number: int) -> None:
        """Field 9204 (Abrechnungsquartal) of adt0: the quarter the file bills."""
        quarter = self._parse_quarter(value, number, "9204")
        if self._package == "adt":
            self.file_quarter = self.stated_quarter = quarter
            if not self._given_quarter:
                self.quarter = quarter

    def _record(self, value: bytes, number: int) -> None:
        """A record that is not a treatment Schein: counted; a package header sets the package."""
        kind = _text(value).strip()
        if kind in FRAME_RECORDS or kind in OTHER_SCHEINE:
            self.records[kind] += 1
            if kind in _PACKAGES:
                self._package = _PACKAGES[kind]
        else:
            self.records["?"] += 1
            self.unknown_records.setdefault(kind, number)

    @staticmethod
    def _finish(case: Case) -> Case:
        """A Schein without Patientennummer (field 3000 is a Kann field) is named by its line."""
        case.case_id = f"Zeile {case.line}"
        return case


def read_kvdt(stream: BinaryIO, quarter: Quarter | None = None) -> KvdtReader:
    return KvdtReader(stream, quarter)


# -- writer ---------------------------------------------------------------------------------------
def kvdt_line(field: str, content: str | bytes) -> bytes:
    data = content if isinstance(content, bytes) else content.encode(ENCODING)
    length = 9 + len(data)
    if length > MAX_LINE:
        raise BillingError(f"Feld {field}: Inhalt zu lang für eine KVDT-Zeile.")
    return b"%03d%s%s\r\n" % (length, field.encode("ascii"), data)


#: Fields of the 4xxx block that the Satztabelle 0104 places after the Scheinuntergruppe.
_AFTER_SUBGROUP = frozenset({"4243"})


def write_kvdt(
    cases: Iterable[Case],
    quarter: Quarter,
    bsnr: str,
    out: BinaryIO,
    *,
    extra: dict[str, dict[str, str]] | None = None,
    header: dict[str, dict[str, str]] | None = None,
    created: dt.date | None = None,
) -> None:
    """Writes a KVDT container: con0, besa (BSNR), an ADT package (adt0 with the billing quarter in
    9204, one Schein per case, adt9), con9.

    A Schein's optional fields are written when the case has them (3000, 3101–3103, 4111, 4239, 4103,
    5005 as three digits, 5006, 5098, 5099). ``extra`` maps a case id to further fields of its Schein,
    placed where the Satztabelle puts them (3xxx before 4101, 4xxx after it, 4243 after 4239, 6xxx
    after the services). ``header`` adds fields to ``"con0"``, ``"besa"`` and ``"adt0"``."""
    write = out.write
    header = header or {}
    created = created or dt.date.today()
    write(kvdt_line("8000", "con0"))
    write(kvdt_line("9103", created.strftime("%Y%m%d")))
    write(kvdt_line("9106", "4"))
    write(kvdt_line("9132", "1"))
    for field, content in header.get("con0", {}).items():
        write(kvdt_line(field, content))
    write(kvdt_line("8000", "besa"))
    write(kvdt_line("0201", bsnr))
    for field, content in header.get("besa", {}).items():
        write(kvdt_line(field, content))
    write(kvdt_line("8000", "adt0"))
    for field, content in header.get("adt0", {}).items():
        write(kvdt_line(field, content))
    write(kvdt_line("9204", quarter.kvdt))
    for case in cases:
        more = (extra or {}).get(case.case_id, {})
        write(kvdt_line("8000", case.record_type))
        if case.case_id and not case.case_id.startswith("Zeile "):
            write(kvdt_line("3000", case.case_id))
        for field, patient in (("3101", case.name), ("3102", case.first_name), ("3103", case.birth)):
            if patient is not None:
                write(kvdt_line(field, patient))
        for field, content in more.items():
            if field[0] == "3":
                write(kvdt_line(field, content))
        write(kvdt_line("4101", (case.quarter or quarter).kvdt))
        if case.payer is not None:
            write(kvdt_line("4111", case.payer))
        for field, content in more.items():
            if field[0] == "4" and field not in _AFTER_SUBGROUP:
                write(kvdt_line(field, content))
        if case.subgroup:
            write(kvdt_line("4239", case.subgroup))
        if case.tss_acute:
            write(kvdt_line("4103", "2"))
        for field, content in more.items():
            if field in _AFTER_SUBGROUP:
                write(kvdt_line(field, content))
        visit = None
        for service in case.services:
            if service.visit != visit:
                write(kvdt_line("5000", service.date.strftime("%Y%m%d")))
                visit = service.visit
            write(kvdt_line("5001", service.gop))
            if service.multiplier != 1:
                write(kvdt_line("5005", f"{service.multiplier:03d}"))
            if service.time:
                write(kvdt_line("5006", service.time.replace(":", "")))
            if service.bsnr:
                write(kvdt_line("5098", service.bsnr))
            if service.lanr:
                write(kvdt_line("5099", service.lanr))
        for field, content in more.items():
            if field[0] not in "34":
                write(kvdt_line(field, content))
    write(kvdt_line("8000", "adt9"))
    write(kvdt_line("8000", "con9"))
