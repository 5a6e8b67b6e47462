"""K-Arzt pay statements on screen and as PDF, missed duties, notice (issue 6); outsiders refused."""

import datetime as dt
import io
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.core import formats
from sprechzimmer.duty import exchange, payment, plans
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Duty, DutyDoctor, MissedDuty, Notice

from .helpers import doctor, kv, logged_in, pdf_lines, published_plan, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world):
    return world.served_last_month()


def test_monthly_statement_on_screen_and_as_pdf(client, world):
    logged_in(client, world.k_arzt.user)
    year, month = world.first.year, world.first.month
    assert f"/dienste/abrechnung/{year}/{month}/" in client.get(reverse("duty_statements")).content.decode()
    page = client.get(reverse("duty_statement", args=[year, month])).content.decode()
    hours = sum(d.hours for d in world.taken)
    assert page.count("<tr><td>") == 3 and formats.euro(hours * 50) in page and "vorsorglich" in page
    assert f"Auszahlung am 15.{month % 12 + 1:02d}." in page
    response = client.get(reverse("duty_statement_pdf", args=[year, month]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    text = pdf_lines(response.content)
    assert world.k_arzt.lanr in text and f"{world.taken[0].local_start:%d.%m.%Y}" in text
    assert formats.euro(hours * 50).replace("\u00a0", " ") in text  # a PDF line has no NBSP


def test_a_missed_duty_is_deducted_and_not_paid(client, world):
    logged_in(client, world.staff)
    missed = world.taken[0]
    client.post(reverse("duty_record_missed", args=[world.plan.pk, missed.pk]))
    assert MissedDuty.objects.filter(duty=missed, doctor=world.k_arzt).exists()
    response = client.post(reverse("duty_record_missed", args=[world.plan.pk, missed.pk]), follow=True)
    assert "bereits erfasst" in response.content.decode()
    # An obliged doctor's duty: the flat fee is for K-Ärzte.
    obliged_duty = world.plan.duties.exclude(doctor=world.k_arzt).first()
    response = client.post(reverse("duty_record_missed", args=[world.plan.pk, obliged_duty.pk]), follow=True)
    assert "gilt für Kooperationsärzte" in response.content.decode()
    statement = payment.monthly_statement(world.k_arzt, world.first.year, world.first.month)
    assert len(statement.lines) == 2 and statement.deductions == 1000
    assert statement.payout == statement.gross - 1000
    page = client.get(
        reverse("duty_doctor_statement", args=[world.k_arzt.pk, world.first.year, world.first.month])
    ).content.decode()
    assert f"Nichtantritt ohne Vertretung – {formats.euro(1000)}" in page


def test_notice_ends_six_weeks_to_a_month_end_and_returns_later_duties(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    future = published_plan(world.area, weeks_ahead=12)
    later = list(future.duties.order_by("start"))[:2]
    Duty.objects.filter(pk__in=[d.pk for d in later]).update(doctor=world.k_arzt)
    logged_in(client, world.staff)
    received = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("duty_record_notice", args=[world.k_arzt.pk]), {"received": received.isoformat()})
    notice = Notice.objects.get(doctor=world.k_arzt)
    assert notice.ends >= received + dt.timedelta(weeks=6) and (notice.ends + dt.timedelta(days=1)).day == 1
    for duty in later:
        duty.refresh_from_db()
        assert duty.status == Duty.Status.OPEN and duty.doctor is None  # back in the exchange
    assert mailoutbox[-1].to == [world.k_arzt.user.email] and f"{notice.ends:%d.%m.%Y}" in mailoutbox[-1].body
    assert f"{settings.SITE_URL}/dienste/\n" in mailoutbox[-1].body  # no request behind it: SITE_URL
    # After the end the K-Arzt cannot take duties any more.
    client.logout()
    logged_in(client, world.k_arzt.user)
    response = client.post(reverse("duty_take", args=[later[0].pk]), follow=True)
    assert "endet am" in response.content.decode()
    # The pages say so before a click: no "Übernehmen" for a duty after the end (a new user's walk).
    page = client.get(reverse("duty_exchange")).content.decode()
    row = re.search(rf'data-duty="{later[0].pk}".*?</tr>', page, re.S).group(0)
    assert "nach dem Ende Ihrer Kooperation" in row and "Übernehmen" not in row
    assert f"Ihre Kooperationsvereinbarung endet am {notice.ends:%d.%m.%Y}" in page
    assert 'id="agreement-ends"' in client.get(reverse("duty_mine")).content.decode()
    # Nor as a substitute: a colleague's request to stand in after the end is refused on accepting
    # (found by a new user's walk: the exchange refused, the handover did not).
    owner = world.area.doctors.filter(kind=DutyDoctor.Kind.OBLIGED).first()
    Duty.objects.filter(pk=later[1].pk).update(doctor=owner, status=Duty.Status.ASSIGNED)
    exchange.request_handover(Duty.objects.get(pk=later[1].pk), owner, world.k_arzt)
    with pytest.raises(DutyError, match="Ihre Kooperationsvereinbarung endet am"):
        exchange.answer_handover(Duty.objects.get(pk=later[1].pk), world.k_arzt, True)
    assert Duty.objects.get(pk=later[1].pk).substitute is None
    # A date in the future or no date changes nothing.
    client.logout()
    logged_in(client, world.staff)
    other = doctor(world.kv, kind=DutyDoctor.Kind.COOPERATING)
    # The page asks first: recording a notice cannot be undone and hands later duties back.
    page = client.get(reverse("duty_cooperating")).content.decode()
    row = page[page.index(f'data-doctor="{other.pk}"') :]
    confirm = row[row.index('<details class="record-notice">') : row.index("</details>")]
    assert "lässt sich nicht zurücknehmen" in confirm and str(other) in confirm
    assert reverse("duty_record_notice", args=[other.pk]) in confirm and "verbindlich erfassen" in confirm
    client.post(
        reverse("duty_record_notice", args=[other.pk]), {"received": (received + dt.timedelta(days=3)).isoformat()}
    )
    client.post(reverse("duty_record_notice", args=[other.pk]), {"received": ""})
    assert not Notice.objects.filter(doctor=other).exists()
    # A date whose notice period is over already (a typo like 1999, found by a new user's walk)
    # would end the agreement in the past, take served duties away and mail the doctor: refused.
    mails = len(mailoutbox)
    response = client.post(reverse("duty_record_notice", args=[other.pk]), {"received": "1999-01-01"}, follow=True)
    assert "wäre die Kooperation schon am 28.02.1999 beendet" in response.content.decode()
    long_ago = received - dt.timedelta(weeks=6) - dt.timedelta(days=received.day + 1)
    client.post(reverse("duty_record_notice", args=[other.pk]), {"received": long_ago.isoformat()})
    assert not Notice.objects.filter(doctor=other).exists() and len(mailoutbox) == mails


def test_statements_are_private(client, world):
    other_k = doctor(world.kv, kind=DutyDoctor.Kind.COOPERATING)
    year, month = world.first.year, world.first.month
    # Another K-Arzt sees only their own (empty) statement under the same URL, and no staff view.
    logged_in(client, other_k.user)
    page = client.get(reverse("duty_statement", args=[year, month])).content.decode()
    assert "Keine Dienste in diesem Monat" in page and world.k_arzt.lanr not in page
    assert client.get(reverse("duty_doctor_statement", args=[world.k_arzt.pk, year, month])).status_code == 404
    # Obliged doctors have no hourly statements; another KV's staff cannot open this one.
    obliged = world.area.doctors.filter(kind=DutyDoctor.Kind.OBLIGED).first()
    for outsider in (obliged.user, staff(kv("KV Zwei"))):
        client.logout()
        logged_in(client, outsider)
        assert client.get(reverse("duty_statement", args=[year, month])).status_code == 404
        assert client.get(reverse("duty_doctor_statement_pdf", args=[world.k_arzt.pk, year, month])).status_code == 404
        assert (
            client.post(reverse("duty_record_notice", args=[world.k_arzt.pk]), {"received": "2026-01-01"}).status_code
            == 404
        )
    assert not Notice.objects.exists()
    # Staff of the KV see it.
    client.logout()
    logged_in(client, world.staff)
    assert client.get(reverse("duty_doctor_statement", args=[world.k_arzt.pk, year, month])).status_code == 200


def test_new_terms_apply_from_their_date_and_never_to_past_statements(client, world):
    before = payment.monthly_statement(world.k_arzt, world.first.year, world.first.month).gross
    logged_in(client, world.staff)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(
        reverse("duty_terms_add"),
        {
            "valid_from": yesterday.isoformat(),
            "hourly_rate": "60",
            "missed_duty_fee": "1000",
            "bonus_share": "0.5",
            "notice_weeks": "4",
        },
    )
    assert response.status_code == 400 and "frühestens ab heute" in response.content.decode()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    client.post(
        reverse("duty_terms_add"),
        {
            "valid_from": tomorrow.isoformat(),
            "hourly_rate": "60",
            "missed_duty_fee": "1000",
            "bonus_share": "0.5",
            "notice_weeks": "4",
        },
    )
    assert payment.monthly_statement(world.k_arzt, world.first.year, world.first.month).gross == before
    later = tomorrow + dt.timedelta(days=40)
    plan = plans.generate_plan(world.area, later, later)
    plans.publish(plan)
    duty = plan.duties.first()
    Duty.objects.filter(pk=duty.pk).update(doctor=world.k_arzt)
    statement = payment.monthly_statement(world.k_arzt, later.year, later.month)
    assert statement.lines[0].rate == 60 and statement.gross == duty.hours * 60
    # Notice given after the change: four weeks to the month end.
    ends = payment.record_notice(world.k_arzt, tomorrow)
    assert ends >= tomorrow + dt.timedelta(weeks=4) and (ends - tomorrow).days < 4 * 7 + 31
    page = client.get(reverse("duty_cooperating")).content.decode()
    assert formats.euro(60) in page and formats.euro(50) in page


def test_statement_mails_on_the_15th(client, world, mailoutbox, django_capture_on_commit_callbacks):
    from django.core.management import call_command as django_call_command
    from django.core.management.base import CommandError

    def call_command(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            django_call_command(*args, **kwargs)

    out = io.StringIO()
    call_command("duty_statements", "--base-url", "https://sz.example.org", stdout=out)
    assert "1 Abrechnung(en)" in out.getvalue()  # only the K-Arzt with duties last month
    mail = mailoutbox[-1]
    assert mail.to == [world.k_arzt.user.email]
    assert f"https://sz.example.org/dienste/abrechnung/{world.first.year}/{world.first.month}/" in mail.body
    gross = sum(d.hours for d in world.taken) * 50
    assert formats.euro(gross) in mail.body
    # The staff see that (and what) the K-Arzt was told.
    logged_in(client, world.staff)
    page = client.get(reverse("duty_cooperating")).content.decode()
    assert f"(mitgeteilt am {timezone.localdate():%d.%m.%Y}: " in page
    # A second run (a timer that fired twice) mails nobody again ...
    count = len(mailoutbox)
    call_command("duty_statements", "--base-url", "https://sz.example.org", stdout=out)
    assert len(mailoutbox) == count and "0 Abrechnung(en)" in out.getvalue().splitlines()[-1]
    # ... unless the statement changed since: then the K-Arzt gets the new amounts as an update.
    MissedDuty.objects.create(duty=world.taken[0], doctor=world.k_arzt)
    call_command("duty_statements", "--base-url", "https://sz.example.org", stdout=out)
    assert len(mailoutbox) == count + 1 and "1 aktualisiert" in out.getvalue().splitlines()[-1]
    update = mailoutbox[-1]
    assert "(aktualisiert)" in update.subject and "wurde aktualisiert" in update.body
    assert formats.euro(gross - world.taken[0].hours * 50 - 1000) in update.body
    with pytest.raises(CommandError, match="JJJJ-MM"):
        call_command("duty_statements", "--base-url", "x", "--month", "10/2026")
