"""Reproducible planning (issue 21): the same input gives the same plan — twice in one process, with
the input in another order, in another process (other hash seed) from the JSON stored with the
plan, and for a published plan through plans.recreate after the doctors' data moved on."""

import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from sprechzimmer.duty import plans
from sprechzimmer.duty.domain.calendar import duty_slots
from sprechzimmer.duty.domain.planner import Doctor, Duty, Rules, decode_input, encode_input, plan
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import BlockedDay, DutyDoctor, Plan

from .helpers import logged_in, published_plan

#: Small but not trivial: three weeks with Sitz- and Fahrdienst (a holiday-free stretch with five
#: weekends' worth of 24 h duties), seven doctors with weights, blocked days, qualifications and
#: wishes, and a deterministic budget that ends the search before the optimum is proven.
RULES = Rules(work_limit=0.5, seed=0)


def area_input():
    types = ("Sitzdienst", "Fahrdienst")
    slots = duty_slots(dt.date(2026, 9, 7), dt.date(2026, 9, 27))
    duties = [Duty(f"{t}-{s.day}", t, s) for s in slots for t in types]
    rng = random.Random(5)
    days = [s.day for s in slots]
    doctors = [
        Doctor(
            f"d{k}",
            rng.choice([Decimal(1), Decimal("0.75"), Decimal("0.5")]),
            frozenset(types) if k % 3 else frozenset({"Sitzdienst"}),
            frozenset(rng.sample(days, 2)),
            frozenset(rng.sample(range(7), 2)) if k % 2 else frozenset(),
            frozenset({"Fahrdienst"}) if k == 4 else frozenset(),
            Decimal(rng.randint(-10, 10)),
        )
        for k in range(7)
    ]
    return duties, doctors


def test_the_same_input_gives_the_same_plan():
    duties, doctors = area_input()
    first = plan(duties, doctors, RULES)
    assert first.status == "feasible" or first.status == "optimal"
    assert not first.capped and first.work > 0
    assert len(set(first.assignment.values())) == len(doctors)  # nontrivial: everybody serves
    again = plan(duties, doctors, RULES)
    assert again.assignment == first.assignment and again.work == first.work
    # The order of the rows (as a database returns them) does not matter.
    shuffled_duties, shuffled_doctors = duties[:], doctors[:]
    random.Random(1).shuffle(shuffled_duties)
    random.Random(2).shuffle(shuffled_doctors)
    assert plan(shuffled_duties, shuffled_doctors, RULES).assignment == first.assignment
    # What is stored with a plan gives the same plan in another process (another hash seed).
    stored = json.dumps(encode_input(duties, doctors, RULES))
    assert plan(*decode_input(json.loads(stored))[:3]).assignment == first.assignment
    script = (
        "import json, sys\n"
        "from sprechzimmer.duty.domain.planner import decode_input, plan\n"
        "duties, doctors, rules, fixed, previous = decode_input(json.loads(sys.stdin.read()))\n"
        "print(json.dumps(sorted(plan(duties, doctors, rules, fixed, previous).assignment.items())))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script], input=stored, capture_output=True, text=True, env=env, check=True
    )
    assert [tuple(pair) for pair in json.loads(done.stdout)] == sorted(first.assignment.items())


def test_another_seed_or_budget_is_another_input():
    """The seed and the budget are part of the input: the record must store them (here they change
    the plan; were they ignored, the plans would be equal)."""
    duties, doctors = area_input()
    first = plan(duties, doctors, RULES)
    others = [plan(duties, doctors, Rules(work_limit=0.5, seed=seed)).assignment for seed in (1, 2)]
    assert any(other != first.assignment for other in others)


@pytest.mark.django_db
def test_a_published_plan_is_recreated_from_its_record(client, world):
    created = published_plan(world.area, days=14)
    record = created.planning_record
    assert record["input"]["rules"]["seed"] == plans.PLAN_SEED and record["capped"] is False
    assert record["input"]["rules"]["work_limit"] == 0.5  # the tests' DUTY_PLAN_WORK
    assigned = {d.pk: d.doctor_id for d in created.duties.all()}
    assert {duty: doctor for duty, doctor in record["assignment"]} == assigned
    # Since then the doctors' data moved on: publishing changed the balances, a doctor blocked a
    # day of the period. The record keeps the input as it was.
    doctor = world.obliged[0]
    BlockedDay.objects.create(doctor=doctor, day=created.first + dt.timedelta(days=3))
    DutyDoctor.objects.filter(pk=doctor.pk).update(weight=Decimal("0.5"))
    again = plans.recreate(Plan.objects.get(pk=created.pk))
    assert again.differing == [] and again.assignment == assigned
    out = io.StringIO()
    call_command("duty_recreate_plan", str(created.pk), stdout=out)
    assert f"alle {len(assigned)} Dienste wie gespeichert" in out.getvalue()
    # A record whose assignment was not what the planner gives is reported duty by duty.
    wrong = [[duty, doctor] for duty, doctor in record["assignment"]]
    wrong[0][1] = next(d[0] for d in record["input"]["doctors"] if d[0] != wrong[0][1])
    Plan.objects.filter(pk=created.pk).update(planning_record={**record, "assignment": wrong})
    with pytest.raises(CommandError, match=f"1 von {len(assigned)} Diensten weichen ab"):
        call_command("duty_recreate_plan", str(created.pk))
    # The plan page says whether the plan can be re-created.
    logged_in(client, world.staff)
    page = client.get(reverse("duty_plan", args=[created.pk])).content.decode()
    assert 'id="reproducible"' in page and 'id="capped"' not in page
    Plan.objects.filter(pk=created.pk).update(planning_record={**record, "capped": True})
    assert "nicht genau nachrechnen" in client.get(reverse("duty_plan", args=[created.pk])).content.decode()
    Plan.objects.filter(pk=created.pk).update(planning_record=record)
    # A record of another planner version is refused with the versions named, not silently re-run.
    Plan.objects.filter(pk=created.pk).update(planning_record={**record, "ortools": "0.0"})
    with pytest.raises(DutyError, match="OR-Tools 0.0"):
        plans.recreate(Plan.objects.get(pk=created.pk))
