"""Planning the whole KV from the KV staff's page (issue 21): the run goes through the task queue
(immediate in tests, as every task here), makes a draft per area that duty_recreate_plan re-creates,
shows its progress, keeps a doctor who may serve in two areas clear of double bookings, reports
errors in German, and is the KV's own business (404 for others)."""

import datetime as dt
import io
import itertools
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sprechzimmer.duty import kvruns, plans
from sprechzimmer.duty.models import Duty, DutyDoctor, KvPlanningRun, Plan

from .helpers import area, doctor, kv, logged_in, next_monday, staff


@pytest.fixture(autouse=True)
def one_thread(settings):
    settings.DUTY_KV_THREADS = 1


class KvWorld:
    """Three areas with the same duties; "Nord" is short of weight (three doctors at half weight), and
    a doctor of "Mitte" (five others) may also serve there (NFD-Z): the KV-wide split gives half of
    that doctor's weight to Nord (Mitte and Nord then have 5,5 each, Süd 6)."""

    def __init__(self):
        self.kv = kv("KV Eins")
        self.mitte, self.nord, self.sued = (area(self.kv, name) for name in ("Mitte", "Nord", "Süd"))
        self.cross = doctor(self.kv, self.mitte)
        self.cross.extra_areas.add(self.nord)
        for home, count in ((self.mitte, 5), (self.sued, 6)):
            for _ in range(count):
                doctor(self.kv, home)
        for weight in ("1", "1", "1", "0.5", "0.5", "0.5"):
            doctor(self.kv, self.nord, weight=weight)
        self.staff = staff(self.kv)
        self.other_kv = kv("KV Zwei")
        self.other_staff = staff(self.other_kv)
        area(self.other_kv, "Fremd")
        self.first = next_monday(2)
        self.last = self.first + dt.timedelta(days=13)


@pytest.fixture
def world(db):
    return KvWorld()


def start_run(client, world, django_capture_on_commit_callbacks):
    logged_in(client, world.staff)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("duty_kv_run_create"), {"first": world.first.isoformat(), "last": world.last.isoformat()}
        )
    return response, queries


def conflicts(duties):
    """Pairs of one doctor's duties that overlap or leave less than 24 h of rest."""
    found = []
    by_doctor = {}
    for duty in duties:
        by_doctor.setdefault(duty.doctor_id, []).append(duty)
    for mine in by_doctor.values():
        mine.sort(key=lambda d: d.start)
        for before, after in itertools.pairwise(mine):
            if after.start < before.end + dt.timedelta(hours=24):
                found.append((before.pk, after.pk))
    return found


def test_staff_plan_the_whole_kv_through_the_queue_and_get_a_draft_per_area(
    client, world, django_capture_on_commit_callbacks
):
    response, queries = start_run(client, world, django_capture_on_commit_callbacks)
    run = KvPlanningRun.objects.get(kv=world.kv)
    assert response.status_code == 302 and response.url == reverse("duty_kv_run", args=[run.pk])
    assert run.status == KvPlanningRun.Status.DONE and run.error == ""
    assert (run.areas_done, run.areas_total) == (3, 3)
    # Progress was written after each area, while the run went on.
    told = [
        int(m.group(1))
        for q in queries.captured_queries
        if "duty_kvplanningrun" in q["sql"] and (m := re.search(r'"areas_done" = (\d+)', q["sql"]))
    ]
    assert told == [1, 2, 3]
    drafts = list(run.plans.order_by("area__name"))
    assert [p.area for p in drafts] == [world.mitte, world.nord, world.sued]
    for plan in drafts:
        assert plan.is_draft and (plan.first, plan.last) == (world.first, world.last)
        assert plan.duties.count() == 2 * 14 and not plan.duties.filter(doctor__isnull=True).exists()
        assert plan.report["lines"] and plan.planning_record["parts"]
    page = client.get(response.url).content.decode()
    assert "Bereich 3 von 3 geplant" in page and 'http-equiv="refresh"' not in page
    for plan in drafts:
        assert reverse("duty_plan", args=[plan.pk]) in page


def test_the_cross_area_doctor_serves_in_both_areas_and_is_never_double_booked(
    client, world, django_capture_on_commit_callbacks
):
    start_run(client, world, django_capture_on_commit_callbacks)
    theirs = Duty.objects.filter(doctor=world.cross)
    assert {d.plan.area for d in theirs} == {world.mitte, world.nord}
    assert conflicts(Duty.objects.filter(plan__area__kv=world.kv)) == []
    # Their weight is split, not doubled: each draft explains them with their share there.
    weights = {
        p.area.name: plans.kv_weights(p)[world.cross.pk]
        for p in Plan.objects.filter(area__kv=world.kv)
        if world.cross.pk in plans.kv_weights(p)
    }
    assert weights == {"Mitte": Decimal("0.5"), "Nord": Decimal("0.5")}
    # Nord's plan page explains them and offers them for changes by hand.
    nord = Plan.objects.get(area=world.nord)
    page = client.get(reverse("duty_plan", args=[nord.pk])).content.decode()
    assert page.count(str(world.cross)) >= 2 and "nachrechenbar" in page
    # Re-solving one draft by hand keeps the doctor clear of their duties in the other area.
    plans.solve(nord)
    assert conflicts(Duty.objects.filter(plan__area__kv=world.kv)) == []


def test_every_draft_of_the_run_is_re_created_from_its_record(client, world, django_capture_on_commit_callbacks):
    start_run(client, world, django_capture_on_commit_callbacks)
    for plan in Plan.objects.filter(area__kv=world.kv):
        again = plans.recreate(plan)
        assert again.differing == []
        assert again.assignment == dict(plan.duties.values_list("pk", "doctor_id"))
    out = io.StringIO()
    call_command("duty_recreate_plan", str(Plan.objects.get(area=world.nord).pk), stdout=out)
    assert "nachgerechnet" in out.getvalue() and "Planung der ganzen KV" in out.getvalue()


def test_the_progress_page_refreshes_itself_while_the_run_goes_on(client, world):
    run = KvPlanningRun.objects.create(
        kv=world.kv,
        first=world.first,
        last=world.last,
        status=KvPlanningRun.Status.RUNNING,
        areas_done=1,
        areas_total=3,
    )
    logged_in(client, world.staff)
    page = client.get(reverse("duty_kv_run", args=[run.pk])).content.decode()
    assert "Bereich 1 von 3 geplant" in page
    assert '<meta http-equiv="refresh" content="5">' in page and "<script>" not in page


def test_an_area_nobody_serves_yet_is_left_out_and_named_the_others_are_planned(
    client, world, django_capture_on_commit_callbacks
):
    """A new area without doctors made the whole KV's run fail, and areas cannot be deleted, so
    the KV could not plan at all (a new user's walk). It is left out and named; the rest is
    planned. A KV where nobody serves anywhere is refused on the form."""
    area(world.kv, "Leer")  # duty types, nobody to serve them
    start_run(client, world, django_capture_on_commit_callbacks)
    run = KvPlanningRun.objects.get(kv=world.kv)
    assert run.status == KvPlanningRun.Status.DONE
    assert run.error == "Nicht geplant, weil dort noch niemand zum Dienst eingeteilt ist: Leer."
    assert sorted(str(p.area) for p in run.plans.all()) == ["Mitte", "Nord", "Süd"]
    page = client.get(reverse("duty_kv_run", args=[run.pk])).content.decode()
    assert "Nicht geplant, weil dort noch niemand zum Dienst eingeteilt ist: Leer." in page

    lonely = kv("KV Drei")
    area(lonely, "Leer auch")
    client.logout()
    logged_in(client, staff(lonely))
    response = client.post(
        reverse("duty_kv_run_create"), {"first": world.first.isoformat(), "last": world.last.isoformat()}
    )
    assert "In keinem Bereich ist bisher jemand zum Dienst eingeteilt" in response.content.decode()
    assert not KvPlanningRun.objects.filter(kv=lonely).exists()


def test_a_run_that_cannot_plan_says_why_in_german_and_leaves_no_plans(
    client, world, django_capture_on_commit_callbacks
):
    """A plan made by hand for the period while the run waited: the run writes nothing and says why."""
    logged_in(client, world.staff)
    with django_capture_on_commit_callbacks(execute=False):
        run = kvruns.start(world.kv, world.first, world.last, world.staff)
    Plan.objects.create(area=world.nord, first=world.first, last=world.first)
    kvruns.execute(run.pk)
    run.refresh_from_db()
    assert run.status == KvPlanningRun.Status.FAILED
    assert run.error == "Für diesen Zeitraum gibt es schon Pläne in: Nord"
    assert list(Plan.objects.filter(area__kv=world.kv)) == list(Plan.objects.filter(area=world.nord))
    page = client.get(reverse("duty_kv_run", args=[run.pk])).content.decode()
    assert "Die Planung ist fehlgeschlagen: Für diesen Zeitraum gibt es schon Pläne in: Nord" in page


def test_a_period_with_plans_already_is_refused_on_the_form(client, world, django_capture_on_commit_callbacks):
    Plan.objects.create(area=world.nord, first=world.first, last=world.first)
    response, _ = start_run(client, world, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "Für diesen Zeitraum gibt es schon Pläne in: Nord" in response.content.decode()
    assert not KvPlanningRun.objects.exists()


def test_another_kv_and_practices_get_404_for_a_run(client, world):
    from tests import factories

    run = KvPlanningRun.objects.create(kv=world.kv, first=world.first, last=world.last)
    url = reverse("duty_kv_run", args=[run.pk])
    logged_in(client, world.other_staff)
    assert client.get(url).status_code == 404
    logged_in(client, factories.member(factories.practice("Praxis"), with_key=False))
    assert client.get(url).status_code == 404
    assert client.post(reverse("duty_kv_run_create"), {"first": "", "last": ""}).status_code == 404


def test_staff_say_in_which_further_areas_a_doctor_may_serve(client, world):
    logged_in(client, world.staff)
    someone = DutyDoctor.objects.filter(area=world.sued).first()
    form = client.get(reverse("duty_area", args=[world.sued.pk]) + f"?aendern={someone.pk}").content.decode()
    assert "Auch einsetzbar in" in form and "Fremd" not in form
    data = {"email": someone.user.email, "kind": "obliged", "weight": "1", "extra_areas": [world.mitte.pk]}
    response = client.post(reverse("duty_area", args=[world.sued.pk]), data)
    assert response.status_code == 302
    assert list(someone.extra_areas.all()) == [world.mitte]
    # Another KV's area is not a choice.
    foreign = world.other_kv.duty_areas.get()
    refused = client.post(reverse("duty_area", args=[world.sued.pk]), data | {"extra_areas": [foreign.pk]})
    assert refused.status_code == 400 and "Bitte wählen Sie Bereiche Ihrer KV." in refused.content.decode()
    assert list(someone.extra_areas.all()) == [world.mitte]
