"""One check of one input (KVDT or the simple JSON format) for one quarter, streaming."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO, cast

from .catalogue import Catalogue
from .grouping import DEFAULT_WINDOW, Grouper
from .kvdt import OTHER_SCHEINE, KvdtReader
from .model import BillingError, Case, Quarter, TreatmentCase
from .rules import CaseResult, QuarterCheck, Summary
from .rulesets import RuleBook, RuleSet
from .simple import read_simple

MAX_JSON_BYTES = 64 * 1024 * 1024


def sniff(head: bytes) -> str:
    """``kvdt`` or ``json`` from the first bytes of a file; BillingError otherwise."""
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"{"):
        return "json"
    if head[:3].isdigit() and head[3:7] == b"8000":
        return "kvdt"
    if head.startswith(b"\xef\xbb\xbf") and head[3:6].isdigit():
        raise BillingError(
            "Die Datei ist UTF-8-kodiert (sie beginnt mit einer UTF-8-Bytefolge, BOM); KVDT verlangt "
            "ISO-8859-15. Bitte exportieren Sie sie aus Ihrem Praxisverwaltungssystem erneut."
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:64]:
        raise BillingError("Die Datei ist UTF-16-kodiert; KVDT verlangt ISO-8859-15.")
    if head.startswith(b"%PDF") or head.startswith(b"PK"):
        raise BillingError("Das ist eine PDF- oder ZIP-Datei, keine KVDT-Datei (.con) und kein JSON-Fallformat.")
    raise BillingError(
        "Die Datei ist weder eine KVDT-Datei (erste Zeile z. B. »0138000con0«) noch das JSON-Fallformat."
    )


class CheckRun:
    """Reads ``stream``, groups its Scheine into Behandlungsfälle and checks them one by one.
    Iterate ``results()``, then call ``summary()``.

    ``window``: Scheine held open at most while grouping (grouping.py); ``None`` holds them all
    (uploads, whose size is capped)."""

    def __init__(
        self,
        stream: BinaryIO,
        *,
        quarter: Quarter | None = None,
        rulebook: RuleBook | None = None,
        catalogue: Catalogue | None = None,
        ruleset: RuleSet | None = None,
        privacy: bool = False,
        window: int | None = DEFAULT_WINDOW,
        plain: bool | None = None,
    ):
        self.rulebook = rulebook or RuleBook.load()
        self.catalogue = catalogue or Catalogue.load()
        self.forced_ruleset = ruleset
        self.plain = plain  # QuarterCheck's plain path (None: with the C paths); the tests compare both
        self.quarter = quarter
        self.check: QuarterCheck | None = None
        self.grouper = Grouper(window)
        head = stream.peek(16)[:16] if hasattr(stream, "peek") else None
        if head is None:
            head = stream.read(16)
            stream = cast(BinaryIO, _Prepend(head, stream))
        self.format = sniff(head)
        self.bsnr: str | None = None
        self.file_quarter: Quarter | None = None
        if self.format == "json":
            data = stream.read(MAX_JSON_BYTES + 1)
            if len(data) > MAX_JSON_BYTES:
                raise BillingError("Die JSON-Datei ist größer als 64 MB.")
            file_quarter, self.bsnr, cases = read_simple(data)
            self.file_quarter = file_quarter
            self.quarter = quarter or file_quarter
            self._cases = self.grouper.group(cases)
            self._reader = None
        else:
            self._reader = KvdtReader(stream, quarter, privacy=privacy)
            self._cases = self.grouper.group(self._reader)

    def _start(self) -> QuarterCheck:
        if self.quarter is None and self._reader is not None:
            self.quarter = self._reader.quarter
        if self.quarter is None:
            raise BillingError("Die Datei nennt kein Quartal (Feld 9204 oder 4101); bitte das Quartal angeben.")
        self.check = QuarterCheck(self.quarter, self.rulebook, self.catalogue, self.forced_ruleset, plain=self.plain)
        self.check.file_quarter = self._reader.file_quarter if self._reader is not None else self.file_quarter
        return self.check

    @property
    def stated_quarter(self) -> Quarter | None:
        """The quarter the file itself says it bills (KVDT: field 9204 of adt0; the JSON format's
        quarter), None for a KVDT file without 9204. Known once the first case is read."""
        return self._reader.stated_quarter if self._reader is not None else self.file_quarter

    def results(self) -> Iterator[CaseResult]:
        """The checked Behandlungsfälle. The first is read before this returns, so ``quarter`` and
        ``ruleset`` are known (KVDT names its quarter in field 9204 of adt0) and a report can write
        its head before the cases."""
        first = next(self._cases, None)
        return self._checked(first, self.check or self._start())

    def _checked(self, first: Case | TreatmentCase | None, check: QuarterCheck) -> Iterator[CaseResult]:
        if first is not None:
            yield check.add(first)
            for case in self._cases:
                yield check.add(case)
        if self._reader is not None:
            self.bsnr = self._reader.bsnr

    def summary(self) -> Summary:
        summary = (self.check or self._start()).summary()
        totals = summary.totals
        reader = self._reader
        totals["unchecked_scheine"] = [
            {"record": kind, "title": OTHER_SCHEINE[kind], "count": n}
            for kind, n in (reader.unchecked_scheine.items() if reader else ())
        ]
        totals["unknown_records"] = [
            {"record": kind, "line": line} for kind, line in (reader.unknown_records.items() if reader else ())
        ]
        totals["scattered_scheine"] = self.grouper.scattered
        return summary

    @property
    def ruleset(self) -> RuleSet:
        return (self.check or self._start()).ruleset


class _Prepend(io.RawIOBase):
    """A stream that first returns ``head`` (already read to sniff the format), then the rest."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None:
            size = -1
        if self._head:
            head, self._head = self._head, b""
            if size < 0:
                return head + self._stream.read()
            return head + self._stream.read(max(0, size - len(head)))
        return self._stream.read(size)
