"""Behandlungsfälle from Scheine: one patient, one practice, one quarter, one payer (§ 21 BMV-Ä).

A KVDT file is one practice's billing (one ``besa``), so the Behandlungsfall key is the patient, the
Schein's quarter (field 4101) and the payer (Kostenträgerkennung, field 4111). The patient is
surname, first name and birth date (3101, 3102, 3103, Muss fields of every Schein 0101–0104) in a
clear file, the browser's keyed pseudonym (``psn1:…`` in 3101) in an upload; without either, the
Patientennummer (3000); without that, the Schein stands alone.

Scheine of one patient may stand anywhere in the file, so groups stay open until the file ends.
``window`` bounds the memory for files of any size: when more Scheine are open than that, the
group whose first Schein came earliest is checked. A later Schein of such a patient is checked
apart and counted as ``scattered`` (a Bloom filter of fixed size tells, with a false alarm rate
below 1 in 100 000 at a million patients); files a practice uploads are far below the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from .model import Case, TreatmentCase

#: Scheine held open at most (about 1 KiB each): bounds the memory of the command-line check.
DEFAULT_WINDOW = 20_000
_BLOOM_BITS = 1 << 24  # 2 MiB
_MASK = _BLOOM_BITS - 1


def patient_identity(schein: Case) -> bytes | None:
    name = schein.name
    if name is not None:
        if name.startswith(b"psn1:") or name.startswith(b"json:"):
            return name
        return b"\x1f".join((name.strip().lower(), (schein.first_name or b"").strip().lower(),
                             (schein.birth or b"").strip()))
    case_id = schein.case_id
    if case_id and not case_id.startswith("Zeile "):
        return b"3000:" + case_id.encode("utf-8")
    return None


class Grouper:
    """Groups a stream of Scheine into Behandlungsfälle (``Case`` or ``TreatmentCase``)."""

    def __init__(self, window: int | None = DEFAULT_WINDOW):
        self.window = window
        self.scattered = 0  # Scheine checked apart from earlier Scheine of their patient
        self.scheine = 0
        self._bloom: bytearray | None = None

    def group(self, scheine: Iterable[Case]) -> Iterator[Case | TreatmentCase]:
        open_groups: dict[tuple, list[Case]] = {}
        order: deque[tuple] = deque()
        held = 0
        window = self.window
        for schein in scheine:
            self.scheine += 1
            identity = patient_identity(schein)
            if identity is None:
                yield schein
                continue
            key = (identity, schein.quarter, schein.payer)
            group = open_groups.get(key)
            if group is not None:
                group.append(schein)
            else:
                if self._bloom is not None and self._seen(key):
                    self.scattered += 1
                open_groups[key] = [schein]
                order.append(key)
            held += 1
            if window is not None and held > window:
                oldest = order.popleft()
                group = open_groups.pop(oldest)
                held -= len(group)
                self._remember(oldest)
                yield _finished(group)
        for key in order:
            yield _finished(open_groups[key])

    def _positions(self, key: tuple) -> tuple[int, int, int]:
        h = hash(key) & 0xFFFFFFFFFFFFFFFF
        return h & _MASK, (h >> 24) & _MASK, ((h >> 40) ^ (h * 0x9E3779B1)) & _MASK

    def _remember(self, key: tuple) -> None:
        if self._bloom is None:
            self._bloom = bytearray(_BLOOM_BITS // 8)
        for position in self._positions(key):
            self._bloom[position >> 3] |= 1 << (position & 7)

    def _seen(self, key: tuple) -> bool:
        bloom = self._bloom
        return all(bloom[p >> 3] & (1 << (p & 7)) for p in self._positions(key))


def _finished(group: list[Case]) -> Case | TreatmentCase:
    return group[0] if len(group) == 1 else TreatmentCase(group)
