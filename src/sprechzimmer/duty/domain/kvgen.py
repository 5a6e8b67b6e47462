"""A generated KV for benches and tests: areas, obliged doctors, NFD-Z doctors and K-Ärzte. Pure Python.

Deterministic: the same arguments (``seed`` included) give the same KV. At full scale it is of the
order of a large KV (KVBW: ~115 Notfallpraxen): 60 areas and 6 000 obliged doctors for a year. The
doctors are made as in ``bench/duty_planning.py``: weights 1.0 / 0.75 / 0.5 (6 : 2 : 2), about 10 %
blocked days, 70 % qualified for the Fahrdienst, a third with two preferred weekdays. Areas differ in
size (from 0.7 to 1.3 times the mean), so some have more hours per doctor than others.

- **NFD-Z doctors** (seed 004): obliged doctors who may also be planned outside their own area, here
  in one or two neighbouring areas (areas lie on a ring: area k borders k − 1 and k + 1).
- **K-Ärzte** serve several areas (two to four), but are never planned: they take open duties in
  the exchange. They are listed (``cooperating``) so that a KV made from this has them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Hashable
from dataclasses import dataclass
from decimal import Decimal

from .calendar import duty_slots
from .kv import AreaInput
from .planner import Doctor, Duty, Rules

TYPES = ("Sitzdienst", "Fahrdienst")


@dataclass(frozen=True)
class GeneratedKv:
    areas: list[AreaInput]
    home: dict[Hashable, Hashable]  # every obliged doctor's own area
    nfdz: dict[Hashable, frozenset[Hashable]]  # NFD-Z doctors -> the further areas they may serve in
    cooperating: dict[Hashable, frozenset[Hashable]]  # K-Ärzte -> the areas they serve (not planned)


def area_id(k: int) -> str:
    return f"B{k:02d}"


def generate_kv(
    areas: int = 60,
    doctors: int = 6000,
    first: dt.date = dt.date(2026, 1, 1),
    last: dt.date = dt.date(2026, 12, 31),
    *,
    seed: int = 7,
    nfdz_share: float = 0.05,
    cooperating_share: float = 0.03,
    rules: Rules | None = None,
) -> GeneratedKv:
    """A KV of ``areas`` areas (two duty types each) and ``doctors`` obliged doctors, ``nfdz_share``
    of them NFD-Z, and K-Ärzte as ``cooperating_share`` of the doctors."""
    rng = random.Random(seed)
    rules = rules or Rules()
    slots = duty_slots(first, last)
    days = [slot.day for slot in slots]
    sizes = [rng.uniform(0.7, 1.3) for _ in range(areas)]
    scale = doctors / sum(sizes)
    counts = [max(3, round(size * scale)) for size in sizes]
    counts[-1] = max(3, doctors - sum(counts[:-1]))
    made: list[list[Doctor]] = []
    home: dict[Hashable, Hashable] = {}
    for k in range(areas):
        people = []
        for n in range(counts[k]):
            weight = rng.choice([Decimal(1)] * 6 + [Decimal("0.75")] * 2 + [Decimal("0.5")] * 2)
            blocked = frozenset(rng.sample(days, round(len(days) * 0.1)))
            qualified = frozenset(TYPES) if rng.random() < 0.7 else frozenset({"Sitzdienst"})
            wishes = frozenset(rng.sample(range(7), 2)) if rng.random() < 0.33 else frozenset()
            doctor = Doctor(f"{area_id(k)}-{n:04d}", weight, qualified, blocked, wishes)
            people.append(doctor)
            home[doctor.id] = area_id(k)
        made.append(people)
    nfdz: dict[Hashable, frozenset[Hashable]] = {}
    extra: list[list[Doctor]] = [[] for _ in range(areas)]
    if areas > 1:
        for k, people in enumerate(made):
            for doctor in people:
                if rng.random() >= nfdz_share:
                    continue
                neighbours = sorted({(k - 1) % areas, (k + 1) % areas} - {k})
                chosen = sorted(rng.sample(neighbours, rng.randint(1, len(neighbours))))
                nfdz[doctor.id] = frozenset(area_id(j) for j in chosen)
                for j in chosen:
                    extra[j].append(doctor)
    cooperating: dict[Hashable, frozenset[Hashable]] = {}
    for n in range(round(doctors * cooperating_share)):
        served = rng.sample(range(areas), min(areas, rng.randint(2, 4)))
        cooperating[f"K-{n:04d}"] = frozenset(area_id(j) for j in sorted(served))
    result = []
    for k in range(areas):
        duties = tuple(Duty(f"{area_id(k)}-{t}-{slot.day}", t, slot) for slot in slots for t in TYPES)
        result.append(AreaInput(area_id(k), duties, tuple(made[k] + extra[k]), rules))
    return GeneratedKv(result, home, nfdz, cooperating)
