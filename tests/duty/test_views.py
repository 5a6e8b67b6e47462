"""Duty pages with the test client: staff plan and publish, doctors use the exchange, hand over,
subscribe to the calendar; and every page refuses outsiders (another KV, another doctor)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.duty import errors, exchange, plans
from sprechzimmer.duty.models import BlockedDay, Duty, DutyDoctor, Plan
from tests import factories

from .helpers import doctor, first_duty_of, logged_in, next_monday, published_plan

#: A year whose March is ahead whenever the suite runs (blocked days in the past are refused).
YEAR = timezone.localdate().year + 1

pytestmark = pytest.mark.django_db


def test_staff_generate_change_by_hand_resolve_and_publish(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    logged_in(client, world.staff)
    assert client.get(reverse("dashboard")).url == reverse("duty_kv")
    extra = [doctor(world.kv, world.area) for _ in range(2)]  # more doctors than duties: someone is free
    first = next_monday()
    response = client.post(
        reverse("duty_plan_create"), {"area": world.area.pk, "first": first, "last": first + dt.timedelta(days=2)}
    )
    plan = Plan.objects.get(area=world.area)
    assert response.url == reverse("duty_plan", args=[plan.pk])
    assert plan.duties.count() == 6 and not plan.duties.filter(doctor__isnull=True).exists()
    page = client.get(response.url).content.decode()
    assert "Fairness auf einen Blick" in page and str(world.half) in page and "Entwurf" in page
    # The chart has one row per obliged doctor; the calendar one entry per duty.
    assert page.count('class="fairness-row"') == len(plan.report["lines"])
    assert len(re.findall(r'<div class="duty[^"]*" data-duty="\d+"', page)) == 6

    # A manual change is kept when the rest is re-planned, and the explanation follows it.
    duty = plan.duties.order_by("start")[0]

    chosen = next(d for d in world.obliged + extra + [world.half] if not plan.duties.filter(doctor=d).exists())
    # Re-planning without a change keeps the plan as it is (of equally fair plans, the closest wins).
    before = dict(plan.duties.values_list("pk", "doctor_id"))
    client.post(reverse("duty_plan_solve", args=[plan.pk]))
    assert dict(plan.duties.values_list("pk", "doctor_id")) == before
    client.post(reverse("duty_plan_assign", args=[plan.pk, duty.pk]), {"doctor": chosen.pk})
    # After a change by hand the solver's "optimal" no longer describes the plan; the duty is marked.
    page = client.get(reverse("duty_plan", args=[plan.pk])).content.decode()
    assert "(optimal)" not in page and "(danach von Hand geändert)" in page
    assert re.search(rf'<div class="duty pinned" data-duty="{duty.pk}"', page)
    client.post(reverse("duty_plan_solve", args=[plan.pk]))
    duty.refresh_from_db()
    assert duty.doctor == chosen and duty.pinned

    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, plan)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PUBLISHED
    serving = {d.user.email for d in DutyDoctor.objects.filter(duties__plan=plan).distinct()}
    assert {m.to[0] for m in mailoutbox} == serving and all("veröffentlicht" in m.subject for m in mailoutbox)
    assert all("http://testserver/dienste/\n" in m.body for m in mailoutbox)  # a link to their duties
    # Balances carried forward: the half-weight doctor got about half the hours; balances sum to ~0.
    lines = {line["doctor"]: line for line in plan.report["lines"]}
    full = Decimal(lines[world.obliged[0].pk]["target_hours"])
    assert Decimal(lines[world.half.pk]["target_hours"]) == pytest.approx(full / 2, abs=Decimal("0.01"))
    world.half.refresh_from_db()
    assert world.half.balance_hours == Decimal(lines[world.half.pk]["balance_after"])
    assert abs(sum(Decimal(line["balance_after"]) for line in lines.values())) < 1
    # Published: no more re-solving or manual edits.
    client.post(reverse("duty_plan_solve", args=[plan.pk]))
    client.post(reverse("duty_plan_assign", args=[plan.pk, duty.pk]), {"doctor": world.half.pk})
    duty.refresh_from_db()
    assert duty.doctor == chosen


def confirm(client, plan):
    """Publishes as staff do: the summary page, then its confirmation."""
    page = client.get(reverse("duty_plan_publish", args=[plan.pk])).content.decode()
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', page).group(1)
    return client.post(reverse("duty_plan_publish", args=[plan.pk]), {"fingerprint": fingerprint})


def test_bad_plan_input_changes_nothing_and_keeps_the_input(client, world):
    logged_in(client, world.staff)
    first = next_monday()
    response = client.post(
        reverse("duty_plan_create"), {"area": world.area.pk, "first": first, "last": first - dt.timedelta(days=1)}
    )
    assert response.status_code == 400 and "liegt vor dem Anfang" in response.content.decode()
    assert f'value="{first.isoformat()}"' in response.content.decode()
    # Another KV's area is not a choice.
    response = client.post(reverse("duty_plan_create"), {"area": world.other_area.pk, "first": first, "last": first})
    assert response.status_code == 400 and "Bereich Ihrer KV" in response.content.decode()
    # Everybody blocked on a day: the planner says which day, and no plan is left behind.
    for d in world.obliged + [world.half]:
        BlockedDay.objects.create(doctor=d, day=first)
    response = client.post(reverse("duty_plan_create"), {"area": world.area.pk, "first": first, "last": first})
    assert response.status_code == 400 and "kann niemand übernehmen" in response.content.decode()
    assert not Plan.objects.exists()


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("1999-01-01", "1999-01-31", "Ein Plan beginnt frühestens heute"),
        ("9999-12-01", "9999-12-31", "höchstens zwei Jahre im Voraus"),
    ],
)
def test_a_plan_for_a_past_or_absurd_period_is_refused_and_the_input_kept(
    client, world, mailoutbox, first, last, message
):
    """Issue 11, item 12: the clerk's plan for January 1999 mailed 8 doctors and rewrote balances."""
    world.obliged[0].balance_hours = Decimal("7.50")
    world.obliged[0].save()
    logged_in(client, world.staff)
    response = client.post(reverse("duty_plan_create"), {"area": world.area.pk, "first": first, "last": last})
    page = response.content.decode()
    assert response.status_code == 400 and message in page
    assert f'value="{first}"' in page and f'value="{last}"' in page
    assert not Plan.objects.exists() and not mailoutbox
    world.obliged[0].refresh_from_db()
    assert world.obliged[0].balance_hours == Decimal("7.50")
    # The rule is the service's, for every caller.
    with pytest.raises(errors.DutyError, match="frühestens heute"):
        plans.generate_plan(world.area, dt.date(1999, 1, 1), dt.date(1999, 1, 31))


def test_publishing_asks_first_with_a_summary(client, world, mailoutbox, django_capture_on_commit_callbacks):
    first = next_monday()
    plan = plans.generate_plan(world.area, first, first + dt.timedelta(days=2))
    logged_in(client, world.staff)
    # The plan page offers the summary, not a button that publishes at once.
    plan_page = client.get(reverse("duty_plan", args=[plan.pk])).content.decode()
    assert f'href="{reverse("duty_plan_publish", args=[plan.pk])}"' in plan_page
    page = client.get(reverse("duty_plan_publish", args=[plan.pk])).content.decode()
    assert f"{first:%d.%m.%Y} – {first + dt.timedelta(days=2):%d.%m.%Y}" in page
    assert re.search(r'id="summary-duties">6\b', page)
    serving = DutyDoctor.objects.filter(duties__plan=plan).distinct()
    assert f"Diese {serving.count()} Ärztinnen und Ärzte erhalten eine E-Mail" in page
    for serving_doctor in serving:
        assert serving_doctor.user.email in page
    for free in DutyDoctor.objects.exclude(pk__in=serving):
        assert free.user.email not in page
    # A POST without the confirmation (the old button) only shows the summary.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("duty_plan_publish", args=[plan.pk]))
    assert response.status_code == 200 and "veröffentlichen?" in response.content.decode()
    fingerprint = re.search(r'name="fingerprint" value="(\w+)"', page).group(1)
    # The plan changes after the summary was shown: that confirmation no longer counts.
    plans.assign_by_hand(plan, plan.duties.order_by("start").first(), doctor(world.kv, world.area))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("duty_plan_publish", args=[plan.pk]), {"fingerprint": fingerprint})
    assert response.status_code == 409 and "geändert" in response.content.decode()
    plan.refresh_from_db()
    assert plan.is_draft and not mailoutbox
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, plan)
    assert response.url == reverse("duty_plan", args=[plan.pk])
    plan.refresh_from_db()
    assert plan.status == Plan.Status.PUBLISHED
    assert {m.to[0] for m in mailoutbox} == {d.user.email for d in DutyDoctor.objects.filter(duties__plan=plan)}


def test_balances_never_move_backwards_in_time(client, world):
    """A draft published after a later plan leaves the balances that already include the later
    plan as they are; a draft whose period is over is not published at all."""
    early = plans.generate_plan(world.area, next_monday(4), next_monday(4) + dt.timedelta(days=3))
    later = plans.generate_plan(world.area, next_monday(8), next_monday(8) + dt.timedelta(days=3))
    plans.publish(later)
    after_later = {d.pk: (d.balance_hours, d.balance_special) for d in DutyDoctor.objects.all()}
    assert any(hours for hours, _ in after_later.values())
    logged_in(client, world.staff)
    summary = client.get(reverse("duty_plan_publish", args=[early.pk])).content.decode()
    assert "enthält schon einen später endenden Plan" in summary and str(world.half) in summary
    confirm(client, early)
    early.refresh_from_db()
    assert early.status == Plan.Status.PUBLISHED
    assert {d.pk: (d.balance_hours, d.balance_special) for d in DutyDoctor.objects.all()} == after_later
    assert all(line["balance_kept"] for line in early.report["lines"])
    assert "unverändert" in client.get(reverse("duty_plan", args=[early.pk])).content.decode()
    # In time order they move: a plan after both changes them.
    last = plans.generate_plan(world.area, next_monday(12), next_monday(12) + dt.timedelta(days=3))
    plans.publish(last)
    assert {d.pk: (d.balance_hours, d.balance_special) for d in DutyDoctor.objects.all()} != after_later
    # A draft of the past (made back then) is not published now.
    old_first = timezone.localdate() - dt.timedelta(days=30)
    old = plans.generate_plan(world.area, old_first, old_first + dt.timedelta(days=2), today=old_first)
    page = client.get(reverse("duty_plan_publish", args=[old.pk])).content.decode()
    assert "Zeitraum dieses Plans ist vorbei" in page and 'name="fingerprint"' not in page
    with pytest.raises(errors.DutyError, match="vorbei"):
        plans.publish(old)
    old.refresh_from_db()
    assert old.is_draft


def test_another_kvs_staff_and_doctors_cannot_see_or_change_plans(client, world):
    plan = published_plan(world.area)
    draft = plans.generate_plan(world.area, next_monday(8), next_monday(8) + dt.timedelta(days=2))
    duty = draft.duties.first()
    urls = [
        reverse("duty_plan", args=[plan.pk]),
        reverse("duty_plan", args=[draft.pk]),
        reverse("duty_area", args=[world.area.pk]),
    ]
    posts = [
        reverse("duty_plan_solve", args=[draft.pk]),
        reverse("duty_plan_publish", args=[draft.pk]),
        reverse("duty_plan_assign", args=[draft.pk, duty.pk]),
    ]
    for outsider in (world.other_staff, world.obliged[0].user, factories.member(factories.practice(), main=True)):
        client.logout()
        logged_in(client, outsider)
        for url in urls:
            assert client.get(url).status_code == 404, (outsider, url)
        home = client.get(reverse("duty_kv"))
        if outsider == world.other_staff:  # their own KV's page, without our plans
            assert home.status_code == 200 and "Mitte" not in home.content.decode()
        else:
            assert home.status_code == 404
        for url in posts:
            assert client.post(url, {"doctor": world.obliged[0].pk}).status_code == 404, (outsider, url)
    draft.refresh_from_db()
    assert draft.is_draft
    # KV staff have no practice pages.
    client.logout()
    logged_in(client, world.staff)
    assert client.get(reverse("calendar")).status_code == 404
    assert client.get(reverse("billing")).status_code == 404
    # Anonymous: to the login.
    client.logout()
    assert client.get(reverse("duty_mine")).status_code == 302


def test_offer_take_give_back_and_the_deadline(client, world, mailoutbox, django_capture_on_commit_callbacks):
    plan = published_plan(world.area, weeks_ahead=4)
    owner = world.obliged[0]
    duty = first_duty_of(plan, owner)
    logged_in(client, owner.user)
    assert client.get(reverse("dashboard")).url == reverse("duty_mine")  # no practice: straight to the duties
    client.post(reverse("duty_offer", args=[duty.pk]))
    duty.refresh_from_db()
    assert duty.status == Duty.Status.OFFERED and duty.doctor == owner

    client.logout()
    logged_in(client, world.k_arzt.user)
    assert client.get(reverse("dashboard")).url == reverse("duty_mine")
    page = client.get(reverse("duty_exchange"), {"art": duty.duty_type.kind}).content.decode()
    assert f'data-duty="{duty.pk}"' in page
    other_kind = "driving" if duty.duty_type.kind == "sitting" else "sitting"
    assert f'data-duty="{duty.pk}"' not in client.get(reverse("duty_exchange"), {"art": other_kind}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("duty_take", args=[duty.pk]))
    duty.refresh_from_db()
    assert (
        duty.doctor == world.k_arzt and duty.status == Duty.Status.ASSIGNED and duty.billing_lanr == world.k_arzt.lanr
    )
    assert [m.to[0] for m in mailoutbox] == [owner.user.email] and "übernommen" in mailoutbox[0].subject
    assert "http://testserver/dienste/\n" in mailoutbox[0].body  # where to see it

    # The K-Arzt may give it back until 14 days before it starts …
    client.post(reverse("duty_give_back", args=[duty.pk]))
    duty.refresh_from_db()
    assert duty.status == Duty.Status.OPEN and duty.doctor is None
    # … but not later: take a duty inside the deadline, the give-back is refused and nothing changes.
    soon = Duty.objects.filter(plan=plan).order_by("start").first()
    Duty.objects.filter(pk=soon.pk).update(status=Duty.Status.OPEN, doctor=None)
    world.area.giveback_days = 60
    world.area.save()
    client.post(reverse("duty_take", args=[soon.pk]))
    response = client.post(reverse("duty_give_back", args=[soon.pk]), follow=True)
    assert "Die Rückgabe war nur bis" in response.content.decode()
    soon.refresh_from_db()
    assert soon.doctor == world.k_arzt


def test_taking_keeps_the_rest_period_and_a_taken_duty_is_gone(client, world):
    plan = published_plan(world.area)
    duties = list(plan.duties.order_by("start"))
    # Two duties of the same evening (Sitz- and Fahrdienst) and the next day's one are open.
    for duty in duties[:3]:
        Duty.objects.filter(pk=duty.pk).update(status=Duty.Status.OPEN, doctor=None)
    logged_in(client, world.k_arzt.user)
    client.post(reverse("duty_take", args=[duties[0].pk]))
    response = client.post(reverse("duty_take", args=[duties[1].pk]), follow=True)
    assert "zu nah" in response.content.decode()
    response = client.post(reverse("duty_take", args=[duties[2].pk]), follow=True)
    assert "zu nah" in response.content.decode()  # 24 h rest after 08:00 the next morning
    assert list(Duty.objects.filter(doctor=world.k_arzt)) == [duties[0]]
    # Someone else cannot take what is already assigned.
    client.logout()
    logged_in(client, world.obliged[1].user)
    response = client.post(reverse("duty_take", args=[duties[0].pk]), follow=True)
    assert "bereits vergeben" in response.content.decode()
    # Another KV's doctor does not even see it.
    stranger = doctor(world.other_kv, kind=DutyDoctor.Kind.COOPERATING)
    client.logout()
    logged_in(client, stranger.user)
    assert client.post(reverse("duty_take", args=[duties[1].pk])).status_code == 404
    assert f'data-duty="{duties[1].pk}"' not in client.get(reverse("duty_exchange")).content.decode()


def test_a_doctor_cannot_change_anothers_duty(client, world):
    plan = published_plan(world.area)
    theirs = first_duty_of(plan, world.obliged[1])
    logged_in(client, world.obliged[0].user)
    for name in ("duty_offer", "duty_withdraw", "duty_give_back", "duty_handover", "duty_answer"):
        assert (
            client.post(
                reverse(name, args=[theirs.pk]), {"email": world.obliged[0].user.email, "accept": "1"}
            ).status_code
            == 404
        ), name
    theirs.refresh_from_db()
    assert theirs.status == Duty.Status.ASSIGNED and theirs.pending_substitute is None


def test_handover_to_a_substitute_who_accepts(client, world, mailoutbox, django_capture_on_commit_callbacks):
    plan = published_plan(world.area)
    owner = world.obliged[0]
    substitute = doctor(world.kv, world.area)  # joined after the plan: free on every day
    mine = list(plan.duties.filter(doctor=owner).order_by("start"))
    duty = mine[0]
    logged_in(client, owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("duty_handover", args=[duty.pk]), {"email": substitute.user.email})
    duty.refresh_from_db()
    assert duty.pending_substitute == substitute and duty.serving == owner
    assert mailoutbox[-1].to == [substitute.user.email] and "Vertretungsanfrage" in mailoutbox[-1].subject
    assert "http://testserver/dienste/\n" in mailoutbox[-1].body  # where to accept
    # Unknown e-mail: clear message, nothing changes.
    response = client.post(reverse("duty_handover", args=[mine[-1].pk]), {"email": "niemand@example.org"}, follow=True)
    assert "niemand für den Bereitschaftsdienst" in response.content.decode()

    client.logout()
    logged_in(client, substitute.user)
    assert f'data-duty="{duty.pk}"' in client.get(reverse("duty_mine")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("duty_answer", args=[duty.pk]), {"accept": "1"})
    duty.refresh_from_db()
    assert duty.substitute == substitute and duty.serving == substitute and duty.doctor == owner
    assert duty.billing_lanr == owner.lanr
    assert mailoutbox[-1].to == [owner.user.email] and "übernimmt" in mailoutbox[-1].subject
    assert "http://testserver/dienste/\n" in mailoutbox[-1].body
    page = client.get(reverse("duty_mine")).content.decode()
    assert f"Sie vertreten {owner}" in page and owner.lanr in page
    # The plan shows who serves and under whose LANR the services are billed.
    client.logout()
    logged_in(client, world.staff)
    page = client.get(reverse("duty_plan", args=[plan.pk])).content.decode()
    row = re.search(rf'data-duty="{duty.pk}".*?(?=data-duty=|</td>)', page, re.S).group(0)
    assert f"{substitute} <small>(Vertretung)</small>" in row and f'<span class="lanr">{owner.lanr}</span>' in row


def test_a_substitute_without_the_qualification_cannot_accept(client, world):
    plan = published_plan(world.area)
    owner = world.obliged[0]
    duty = plan.duties.filter(doctor=owner, duty_type__kind="driving").first() or first_duty_of(plan, owner)
    substitute = doctor(world.kv, qualifications=["sitting" if duty.duty_type.kind == "driving" else "driving"])
    exchange.request_handover(duty, owner, substitute)
    logged_in(client, substitute.user)
    response = client.post(reverse("duty_answer", args=[duty.pk]), {"accept": "1"}, follow=True)
    assert "nicht qualifiziert" in response.content.decode()
    duty.refresh_from_db()
    assert duty.substitute is None and duty.pending_substitute == substitute  # may still decline
    client.post(reverse("duty_answer", args=[duty.pk]), {"accept": "0"})
    duty.refresh_from_db()
    assert duty.pending_substitute is None and duty.doctor == owner


def test_calendar_feed_with_a_revocable_secret_link(client, world):
    plan = published_plan(world.area)
    me = world.obliged[0]
    logged_in(client, me.user)
    client.post(reverse("duty_calendar_link"))
    page = client.get(reverse("duty_mine")).content.decode()
    link = re.search(r'id="calendar-url" value="(http[^"]+\.ics)"|value="(http[^"]+\.ics)" id="calendar-url"', page)
    path = (link.group(1) or link.group(2)).split("testserver", 1)[1]
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    # One click subscribes (webcal:), one copies.
    assert f'href="webcal://testserver{path}"' in page and 'id="copy-calendar-url"' in page
    client.logout()
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert body.count("BEGIN:VEVENT") == plan.duties.filter(doctor=me).count() and "Bereitschaftsdienst" in body
    # The link is shown once only; the database keeps a digest, not the token.
    logged_in(client, me.user)
    assert token not in client.get(reverse("duty_mine")).content.decode()
    assert DutyDoctor.objects.get(pk=me.pk).ical_token_hash not in ("", token)
    client.post(reverse("duty_calendar_link"), {"revoke": "1"})
    client.logout()
    assert client.get(path).status_code == 404
    assert client.get("/dienste/kalender/erfunden.ics").status_code == 404


def test_blocked_days_limit_and_wishes(client, world):
    world.area.max_blocked_days = 2
    world.area.save()
    me = world.obliged[0]
    logged_in(client, me.user)
    today = timezone.localdate()
    year = today.year + 1  # a year ahead: the days below stay in the future whenever this runs
    response = client.post(
        reverse("duty_preferences"),
        {"blocked": f"01.03.{year}\n02.03.{year}\n03.03.{year}", "preferred_weekdays": ["2"]},
    )
    assert response.status_code == 400 and "Höchstens 2 Sperrtage je Jahr" in response.content.decode()
    assert f"03.03.{year}" in response.content.decode()  # what was typed is still there
    response = client.post(reverse("duty_preferences"), {"blocked": f"31.02.{year}"})
    assert response.status_code == 400 and "Kein gültiges Datum" in response.content.decode()
    # Days in the past or decades ahead were saved without a word (a new user's walk).
    for typed, message in (("01.01.1999", "in der Vergangenheit: 01.01.1999"), ("24.12.2099", "zwei Jahre im Voraus")):
        response = client.post(reverse("duty_preferences"), {"blocked": f"01.03.{year}, {typed}"})
        assert response.status_code == 400 and message in response.content.decode()
    assert not BlockedDay.objects.exists()
    soon = today + dt.timedelta(days=20)
    client.post(
        reverse("duty_preferences"),
        {"blocked": f"01.03.{year}, {soon:%d.%m.%Y}", "preferred_weekdays": ["2", "5"], "preferred_kinds": ["sitting"]},
    )
    me.refresh_from_db()
    assert [b.day for b in me.blocked_days.all()] == [soon, dt.date(year, 3, 1)]
    assert me.preferred_weekdays == [2, 5] and me.preferred_kinds == ["sitting"]
    # A saved day that has passed since stays in the list the page sends back.
    BlockedDay.objects.filter(doctor=me, day=soon).update(day=today - dt.timedelta(days=3))
    past = today - dt.timedelta(days=3)
    response = client.post(reverse("duty_preferences"), {"blocked": f"01.03.{year}, {past:%d.%m.%Y}"})
    assert response.status_code == 302


def test_a_refused_blocked_days_entry_shows_the_same_page_with_the_error_once(client, world):
    """Issue 11, item 17: the page after a bad entry is the doctor's page (duties, past duties),
    with what was typed and each error once, at its field."""
    plan = published_plan(world.area)
    me = world.obliged[0]
    duty = first_duty_of(plan, me)
    logged_in(client, me.user)
    response = client.post(
        reverse("duty_preferences"), {"blocked": f"01.03.{YEAR}\n31.02.{YEAR}", "preferred_weekdays": ["4"]}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert f'data-duty="{duty.pk}"' in page and "Keine anstehenden Dienste" not in page
    assert page.count(f"Kein gültiges Datum (TT.MM.JJJJ): 31.02.{YEAR}") == 1
    assert f"01.03.{YEAR}\n31.02.{YEAR}" in page  # what was typed
    assert re.search(r'value="4"[^>]*checked', page)
    assert not BlockedDay.objects.filter(doctor=me).exists()
    # The same page as a GET: no message left over for the next page either.
    assert "Kein gültiges Datum" not in client.get(reverse("duty_mine")).content.decode()


def test_drafts_are_invisible_to_doctors(client, world):
    draft = plans.generate_plan(world.area, next_monday(), next_monday() + dt.timedelta(days=3))
    Duty.objects.filter(plan=draft).update(status=Duty.Status.OPEN)
    logged_in(client, world.obliged[0].user)
    assert "data-duty" not in client.get(reverse("duty_mine")).content.decode()
    assert "data-duty" not in client.get(reverse("duty_exchange")).content.decode()
    assert client.post(reverse("duty_take", args=[draft.duties.first().pk])).status_code == 404
    assert not Duty.objects.filter(
        plan=draft, doctor=world.obliged[0], status=Duty.Status.ASSIGNED, pinned=True
    ).exists()


def test_the_plan_shows_paid_hours_across_both_dst_changes(client, world):
    logged_in(client, world.staff)
    for day, hours in ((dt.date(2026, 3, 28), "23"), (dt.date(2026, 10, 24), "25")):
        plan = plans.generate_plan(world.area, day, day, today=day)  # 2026's change days, planned back then
        page = client.get(reverse("duty_plan", args=[plan.pk])).content.decode()
        cells = re.findall(r'08:00 – 08:00</span> <span class="duty-hours">(\d+)\xa0h</span>', page)
        assert cells.count(hours) == 2, cells  # Sitz- and Fahrdienst, 08:00 → 08:00
        assert sum(Decimal(line["assigned_hours"]) for line in plan.report["lines"]) == 2 * Decimal(hours)


def test_a_duty_type_with_its_own_times(client, world):
    driving = world.area.duty_types.get(kind="driving")
    logged_in(client, world.staff)
    response = client.post(
        reverse("duty_type_times", args=[driving.pk]),
        {f"type{driving.pk}-weekday_start": "19:30", f"type{driving.pk}-friday_start": "kaputt"},
        follow=True,
    )
    assert "Bitte eine Uhrzeit wie 16:00 angeben." in response.content.decode()
    driving.refresh_from_db()
    assert driving.weekday_start is None  # nothing saved half-way
    # 07:00 would make a 25-hour duty overlapping the night's one before (a new user's walk).
    response = client.post(
        reverse("duty_type_times", args=[driving.pk]), {f"type{driving.pk}-weekday_start": "07:00"}, follow=True
    )
    assert "Ein Beginn vor 08:00 Uhr" in response.content.decode()
    driving.refresh_from_db()
    assert driving.weekday_start is None
    client.post(reverse("duty_type_times", args=[driving.pk]), {f"type{driving.pk}-weekday_start": "19:30"})
    # The form shows it as typed, without seconds.
    page = client.get(reverse("duty_area", args=[world.area.pk])).content.decode()
    assert f'name="type{driving.pk}-weekday_start" value="19:30"' in page
    monday = next_monday()
    plan = plans.generate_plan(world.area, monday, monday)
    starts = {d.duty_type.kind: d.local_start.time() for d in plan.duties.select_related("duty_type")}
    assert starts == {"sitting": dt.time(18), "driving": dt.time(19, 30)}
    # Another KV's staff cannot change it.
    client.logout()
    logged_in(client, world.other_staff)
    assert (
        client.post(
            reverse("duty_type_times", args=[driving.pk]), {f"type{driving.pk}-weekday_start": "20:00"}
        ).status_code
        == 404
    )


def test_staff_create_an_area_and_enter_doctors(client, world, mailoutbox, django_capture_on_commit_callbacks):
    logged_in(client, world.staff)
    response = client.post(
        reverse("duty_area_create"),
        {
            "name": "Nord",
            "practice_name": "Notfallpraxis Nord",
            "practice_address": "Weg 3, 70000 Stadt",
            "practice_bsnr": "12345",
            "wednesday_start": "13:00",
            "friday_start": "16:00",
            "rest_hours": "24",
        },
    )
    assert response.status_code == 400 and "Die BSNR hat neun Ziffern." in response.content.decode()
    assert 'value="Notfallpraxis Nord"' in response.content.decode()  # the input is kept
    response = client.post(
        reverse("duty_area_create"),
        {
            "name": "Nord",
            "practice_name": "Notfallpraxis Nord",
            "practice_address": "Weg 3, 70000 Stadt",
            "practice_bsnr": "529999901",
            "wednesday_start": "14:00",
            "friday_start": "16:00",
            "rest_hours": "48",
        },
    )
    nord = world.kv.duty_areas.get(name="Nord")
    assert response.url == reverse("duty_area", args=[nord.pk])
    assert [t.kind for t in nord.duty_types.all()] == ["sitting"]  # no Fahrdienst unless ticked
    assert nord.rest_hours == 48 and nord.wednesday_start == dt.time(14)

    newcomer = factories.member(None, with_key=False)
    url = reverse("duty_area", args=[nord.pk])
    # Nobody is entered without consent, and the page says the same for any address.
    stranger = DutyDoctor.objects.create(kv=world.other_kv, user=factories.member(None, with_key=False))
    pages = []
    for email in ("unbekannt@example.org", stranger.user.email, newcomer.email.upper()):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url, {"email": email, "kind": "obliged", "weight": "0.75", "qualifications": ["sitting"]}, follow=True
            )
        pages.append(response.content.decode().replace(email.lower(), "ADRESSE"))
        assert "Eine Einladung an" in pages[-1]
    said = {tuple(re.findall(r'<li class="(\w+)" role="\w+">([^<]*ADRESSE[^<]*)</li>', p)) for p in pages}
    assert len(said) == 1 and all('class="error"' not in p for p in pages)
    assert not DutyDoctor.objects.filter(user=newcomer).exists()
    stranger.refresh_from_db()
    assert stranger.kv == world.other_kv  # nothing changed for another KV's doctor
    link = re.search(r"http://testserver(/dienste/einladung/\S+/)", mailoutbox[-1].body).group(1)
    assert mailoutbox[-1].to == [newcomer.email.lower()]
    # The newcomer agrees.
    client.logout()
    logged_in(client, newcomer)
    assert "Zustimmen" in client.get(link).content.decode()
    client.post(link, {"decision": "accept"})
    entered = DutyDoctor.objects.get(user=newcomer)
    assert (entered.kv, entered.area, entered.weight, entered.qualifications) == (
        world.kv,
        nord,
        Decimal("0.75"),
        ["sitting"],
    )
    assert client.get(link).status_code == 404  # used up
    client.logout()
    logged_in(client, world.staff)
    page = client.get(url).content.decode()
    assert str(entered) in page and "Dienstarten und ihre Zeiten" in page
    # "Ändern" fills the form with the entry; saving it changes weight and qualifications.
    page = client.get(url, {"aendern": entered.pk}).content.decode()
    assert f"Eintrag von {entered} ändern" in page and f'value="{newcomer.email}"' in page
    assert 'value="0.75"' in page and 'value="sitting" checked' in page.replace('id="id_qualifications_0" ', "")
    client.post(url, {"email": newcomer.email, "kind": "obliged", "weight": "1"})
    entered.refresh_from_db()
    assert (entered.weight, entered.qualifications) == (Decimal(1), [])
    # Another KV's doctor cannot be opened for editing.
    assert client.get(url, {"aendern": stranger.pk}).status_code == 404
    assert client.get(url, {"aendern": "x"}).status_code == 200


def test_the_kvs_hand_planning_names_the_doctor_not_ihr(world):
    """In the draft the KV's staff act: a refusal names the doctor ("der Dienst von Dr. …"), it does
    not speak to the staff member as if it were their duty (found by a new user's walk)."""
    draft = plans.generate_plan(world.area, next_monday(6), next_monday(6) + dt.timedelta(days=2))
    duties = list(draft.duties.order_by("start"))
    busy = next(d for d in duties if d.doctor_id)
    clash = next(d for d in duties if d.pk != busy.pk and d.doctor_id != busy.doctor_id and d.day == busy.day)
    with pytest.raises(errors.DutyError) as refused:
        plans.assign_by_hand(draft, clash, busy.doctor)
    assert f"der Dienst von {busy.doctor} am" in str(refused.value) and "Ihr" not in str(refused.value)


def test_the_navigation_marks_one_page_as_current(client, world):
    """On the exchange (/dienste/boerse/) both "Dienste" and "Dienstbörse" were marked current
    (a new user's walk): the exchange's own link only; statements under /dienste/ stay "Dienste"."""
    logged_in(client, world.k_arzt.user)
    for url, current in (("duty_exchange", "Dienstbörse"), ("duty_mine", "Dienste"), ("duty_statements", "Dienste")):
        page = client.get(reverse(url)).content.decode()
        marked = re.findall(r'aria-current="page">.*?<span>([^<]+)</span>', page)
        assert marked == [current], (url, marked)


def test_an_area_created_by_mistake_is_deleted_one_in_use_is_not(client, world):
    """A new user's walk created an area named "<script>…" with no way to remove it. An unused
    area goes (with its Notfallpraxis and duty types); one with doctors or plans stays, and the
    page says why; another KV's staff get 404."""
    from sprechzimmer.duty import areas
    from sprechzimmer.duty.models import Area

    logged_in(client, world.staff)
    mistake = areas.create_area(
        world.kv,
        {
            "name": "Versehen",
            "practice_name": "NFP",
            "practice_address": "Weg 1",
            "practice_bsnr": "521234599",
            "with_driving": True,
            "wednesday_start": dt.time(13),
            "friday_start": dt.time(16),
            "rest_hours": 24,
        },
    )
    page = client.get(reverse("duty_area", args=[mistake.pk])).content.decode()
    assert reverse("duty_area_delete", args=[mistake.pk]) in page
    response = client.post(reverse("duty_area_delete", args=[world.area.pk]), follow=True)
    assert "lässt sich nicht löschen; an ihm hängen noch: eingetragene Ärztinnen und Ärzte" in response.content.decode()
    assert Area.objects.filter(pk=world.area.pk).exists()
    client.logout()
    logged_in(client, world.other_staff)
    assert client.post(reverse("duty_area_delete", args=[mistake.pk])).status_code == 404
    client.logout()
    logged_in(client, world.staff)
    assert client.get(reverse("duty_area_delete", args=[mistake.pk])).status_code == 405
    response = client.post(reverse("duty_area_delete", args=[mistake.pk]), follow=True)
    assert "Der Bereich „Versehen“ ist gelöscht." in response.content.decode()
    assert not Area.objects.filter(pk=mistake.pk).exists()


def test_every_relation_to_an_area_is_named_for_the_staff_or_goes_with_it():
    """A relation to Area added later keeps an area from deletion and must have German words."""
    from sprechzimmer.duty.areas import GOES_WITH_THE_AREA, KEEPS_THE_AREA
    from sprechzimmer.duty.models import Area

    names = {relation.get_accessor_name() for relation in Area._meta.related_objects}
    assert names == GOES_WITH_THE_AREA | set(KEEPS_THE_AREA), names
