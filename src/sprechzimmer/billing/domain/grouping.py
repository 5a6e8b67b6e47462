"""Behandlungsfälle from Scheine: one patient, one practice, one quarter, one payer (§ 21 BMV-Ä).

A KVDT file is one practice's billing (one ``besa``), so the Behandlungsfall key is the patient, the
Schein's quarter (field 4101) and the payer (Kostenträgerkennung, field 4111). The patient is
surname, first name and birth date (3101, 3102, 3103, Muss fields of every Schein 0101–0104) in a
clear file, the browser's keyed pseudonym (``psn1:…`` in 3101, 3102 blank, the age in 3103) in an
upload; without them, the Patientennummer (3000); without that, the Schein stands alone.

Scheine of one patient may stand anywhere in the file, so groups stay open until the file ends.
``window`` bounds the memory for files of any size: when more Scheine are open than that, the
group whose first Schein came earliest is checked. A later Schein of such a patient is checked
apart and counted as ``scattered`` (a Bloom filter of fixed size, 16 MiB and four bits per key,
tells; expected false alarms: about one in a file of a million patients, 0.04 % of the Scheine at
five million). Files a practice uploads are far below the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from . import kvdt
from .model import Case, TreatmentCase

try:
    from . import _kvdt  # the Bloom filter's bits in C (``bloom``), built with the KVDT scanner
except ImportError:  # pragma: no cover - depends on the build
    _kvdt = None  # type: ignore[assignment]

#: Scheine held open at most (about 1 KiB each): bounds the memory of the command-line check.
DEFAULT_WINDOW = 20_000
_BLOOM_BITS = 1 << 27  # 16 MiB
_MASK = _BLOOM_BITS - 1
_SHIFT = 27


#: Patient (3101, 3102, 3103), payer (4111), quarter year and number: one Behandlungsfall (``_key``).
GroupKey = bytes


def _part(value: bytes | None) -> bytes:
    return b"-" if value is None else b"%d:%b" % (len(value), value)


def _key(
    name: bytes, first_name: bytes | None, birth: bytes | None, payer: bytes | None, year: int, number: int
) -> GroupKey:
    """The parts in one bytes object: each as its length, a colon and itself, or ``-`` when missing,
    then year/number; no two different sets of parts give the same bytes. A bytes object caches its
    hash, which a tuple computes again at every lookup (the grouping looks a key up four times).
    ``_kvdt.group_key`` makes the same bytes in C."""
    return b"%b%b%b%b%d/%d" % (_part(name), _part(first_name), _part(birth), _part(payer), year, number)


def group_key(schein: Case) -> GroupKey | None:
    """The Behandlungsfall a Schein belongs to: patient, quarter, payer; ``None``: no patient known.
    The patient fields are compared as the PVS wrote them (one PVS writes one patient alike)."""
    quarter = schein.quarter
    year, number = (quarter.year, quarter.number) if quarter is not None else (0, 0)
    name = schein.name
    if name is not None:
        return _key(name, schein.first_name, schein.birth, schein.payer, year, number)
    case_id = schein.case_id
    if case_id and not case_id.startswith("Zeile "):
        return _key(b"3000:" + case_id.encode("utf-8"), None, None, schein.payer, year, number)
    return None


class Grouper:
    """Groups a stream of Scheine into Behandlungsfälle (``Case`` or ``TreatmentCase``). With a window
    and the C paths the window is ``_kvdt.Window`` (``_group_in_c``); the Python loop of ``group`` is
    its reference and runs for uploads (no window) and with SPRECHZIMMER_PURE_PYTHON=1."""

    def __init__(self, window: int | None = DEFAULT_WINDOW, *, accelerated: bool | None = None):
        self.window = window
        #: The Bloom filter's bits in C (``_kvdt.bloom``, a tenth of the check's time in Python) or in
        #: Python; the same bits either way. Like the KVDT reader, kvdt.ACCELERATED chooses.
        self.accelerated = (kvdt.ACCELERATED if accelerated is None else accelerated) and _kvdt is not None
        self.scattered = 0  # Scheine checked apart from earlier Scheine of their patient
        self.scheine = 0
        self._bloom: bytearray | None = None

    def group(self, scheine: Iterable[Case]) -> Iterator[Case | TreatmentCase]:
        if self.accelerated and self.window is not None:
            yield from self._group_in_c(scheine, self.window)
            return
        # A patient's only Schein so far is held as itself, several as a list: most groups have one
        # Schein, and a list per group, tracked by the cyclic garbage collector and living as long as
        # the window, made it collect again and again (a twentieth of the check's time).
        open_groups: dict[GroupKey, Case | list[Case]] = {}
        order: deque[GroupKey] = deque()
        held = 0
        window = self.window
        bloom = None  # made at the first eviction; four bits per evicted key (inlined: hot loop)
        in_c = _kvdt.bloom if self.accelerated else None
        key_in_c = _kvdt.group_key if self.accelerated else None
        count = 0
        for schein in scheine:
            count += 1
            key = key_in_c(schein) if key_in_c is not None else None  # the usual case, in C
            if key is None:
                key = group_key(schein)
                if key is None:
                    yield schein
                    continue
            group = open_groups.get(key)
            if group is not None:
                if type(group) is list:
                    group.append(schein)
                else:
                    open_groups[key] = [group, schein]  # type: ignore[list-item]  # a Case
            else:
                if bloom is not None and in_c is not None:
                    if in_c(bloom, hash(key), False):
                        self.scattered += 1
                elif bloom is not None:
                    # Four positions by double hashing (Kirsch, Mitzenmacher 2006) from the key's
                    # 64-bit hash: h1 + i·h2.
                    h = hash(key)
                    a = h & _MASK
                    step = (h >> _SHIFT) & _MASK | 1
                    b = (a + step) & _MASK
                    c = (b + step) & _MASK
                    d = (c + step) & _MASK
                    if (
                        bloom[a >> 3] & (1 << (a & 7))
                        and bloom[b >> 3] & (1 << (b & 7))
                        and bloom[c >> 3] & (1 << (c & 7))
                        and bloom[d >> 3] & (1 << (d & 7))
                    ):
                        self.scattered += 1
                open_groups[key] = schein
                order.append(key)
            held += 1
            if window is not None and held > window:
                oldest = order.popleft()
                group = open_groups.pop(oldest)
                one = type(group) is not list
                held -= 1 if one else len(group)  # type: ignore[arg-type]
                if bloom is None:
                    bloom = self._bloom = bytearray(_BLOOM_BITS // 8)
                if in_c is not None:
                    in_c(bloom, hash(oldest), True)
                    yield group if one else TreatmentCase(group)  # type: ignore[misc,arg-type]
                    continue
                h = hash(oldest)
                a = h & _MASK
                step = (h >> _SHIFT) & _MASK | 1
                bloom[a >> 3] |= 1 << (a & 7)  # the four positions of the check above, unrolled
                a = (a + step) & _MASK
                bloom[a >> 3] |= 1 << (a & 7)
                a = (a + step) & _MASK
                bloom[a >> 3] |= 1 << (a & 7)
                a = (a + step) & _MASK
                bloom[a >> 3] |= 1 << (a & 7)
                yield group if one else TreatmentCase(group)  # type: ignore[misc,arg-type]
        self.scheine = count
        for key in order:
            group = open_groups[key]
            yield TreatmentCase(group) if isinstance(group, list) else group

    def _group_in_c(self, scheine: Iterable[Case], window: int) -> Iterator[Case | TreatmentCase]:
        """``group`` with the window in C (``_kvdt.Window``): the same groups in the same order, the
        same Bloom filter bits; the loop above is its reference."""
        held = _kvdt.Window(window, group_key)
        push = held.push
        try:
            for schein in scheine:
                out = push(schein)
                if out is not None:
                    yield TreatmentCase(out) if isinstance(out, list) else out
            for group in held.flush():
                yield TreatmentCase(group) if isinstance(group, list) else group
        finally:
            self.scheine = held.pushed
            self.scattered = held.scattered
            self._bloom = held.bloom
