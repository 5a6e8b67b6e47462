"""Integrated e-mail invitations (issue 16, docs/invitations.md): real SMTP (aiosmtpd), the queue's
clock under test control, and no address left behind."""

from __future__ import annotations

import datetime as dt
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.invitations.models import ContactHold, OutgoingMessage
from sprechzimmer.video.models import Appointment
from tests.invitations.conftest import ADDRESS, patch_json, post_json
from tests.invitations.queue import TestQueue


@pytest.fixture
def queue(tmp_path):
    q = TestQueue(tmp_path / "tasks.sqlite3")
    yield q
    q.close()


def send(clinic, to=ADDRESS, code=None, appointment=None):
    appointment = appointment or clinic.appointment
    url = reverse("api_send_invitation", args=[appointment.pk])
    return post_json(clinic.client, url, {"channel": "email", "to": to, "code": code or clinic.code})


def database_text() -> str:
    """Every row of every table, as a dump would show it."""
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            lines += [" ".join(str(v) for v in row) for row in cursor.fetchall()]
    return "\n".join(lines)


def statuses(appointment) -> list[tuple[str, str]]:
    return list(appointment.outgoing_messages.order_by("due_at", "pk").values_list("kind", "status"))


def assert_nothing_left(clinic, queue, server_log):
    assert not ContactHold.objects.exists()
    for secret in (ADDRESS, clinic.code):
        assert secret not in database_text()
        assert secret.encode() not in queue.storage_bytes()
        assert not [line for line in server_log if secret in line]


def test_the_invitation_arrives_in_german_with_the_link_and_code(
    clinic, smtp, queue, server_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(clinic)
    assert response.status_code == 201, response.content
    assert ADDRESS not in response.content.decode()
    # Only message ids wait in the queue: the invitation now, reminders 24 h and 1 h before.
    assert sorted(queue.pending_arguments()) == sorted((m.pk,) for m in OutgoingMessage.objects.all())
    assert ADDRESS.encode() not in queue.storage_bytes()
    hold = ContactHold.objects.get()
    assert ADDRESS not in hold.sealed and clinic.code not in hold.sealed
    assert queue.run_now() == 1

    message = smtp.mailbox.wait_for(ADDRESS, "Ihre Videosprechstunde am")
    start = timezone.localtime(clinic.appointment.start)
    weekday = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")[start.weekday()]
    assert (
        message["Subject"]
        == f"[Sprechzimmer] Ihre Videosprechstunde am {weekday}, {start:%d.%m.%Y} um {start:%H:%M} Uhr"
    )
    text = message.get_body(("plain",)).get_content()
    assert "Guten Tag," in text and "Dr. Maria Linde (Praxis Sonnenhof)" in text
    assert f"https://sprechzimmer.example.org/sprechstunde/#code={clinic.code}" in text
    assert "Gerätetest" in text and "Mit freundlichen Grüßen" in text
    html = message.get_body(("html",)).get_content()
    assert f'href="https://sprechzimmer.example.org/sprechstunde/#code={clinic.code}"' in html
    # The device check before the appointment, on its own page that needs no code.
    check_link = f"https://sprechzimmer.example.org/sprechstunde/technik/#code={clinic.code}"
    assert check_link in text and f'href="{check_link}"' in html and "Gerätetest öffnen" in html
    check_page = Client().get(smtp.mailbox.link_in(message, "technik").split("sprechzimmer.example.org")[1])
    assert check_page.status_code == 200
    page = check_page.content.decode()
    assert 'id="check-continue"' in page and "/js/pages/devicecheck." in page and 'id="code"' not in page
    # The code of the link opens this appointment on the patient page (before its window: the
    # page names the appointment's date instead of calling the code unknown).
    code = smtp.mailbox.link_in(message, "sprechstunde").split("#code=")[1]
    assert clinic.client.get(reverse("join")).status_code == 200
    access = post_json(clinic.client, reverse("api_patient_access"), {"code": code}).json()
    assert f"{start:%d.%m.%Y um %H:%M}" in access["error"]

    shown = clinic.client.get(reverse("api_appointment", args=[clinic.appointment.pk])).json()["appointment"]
    assert [(m["kind"], m["status_label"]) for m in shown["messages"]] == [
        ("invitation", "gesendet"),
        ("reminder", "geplant"),
        ("reminder", "geplant"),
    ]
    assert ADDRESS not in str(shown)


def test_reminders_arrive_at_their_times_and_then_no_address_is_left(
    clinic, smtp, queue, server_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(clinic)
    queue.run_now()
    start = clinic.appointment.start
    assert queue.run_until(start - timedelta(hours=24, minutes=1)) == 0
    assert queue.run_until(start - timedelta(hours=24)) == 1
    assert "Erinnerung" in smtp.mailbox.wait_for(ADDRESS, "Erinnerung")["Subject"]
    assert ContactHold.objects.exists()  # the 1-hour reminder still needs it
    assert queue.run_until(start - timedelta(hours=1)) == 1
    assert len([m for rcpts, m in smtp.mailbox.messages if ADDRESS in rcpts]) == 3
    assert statuses(clinic.appointment) == [("invitation", "sent"), ("reminder", "sent"), ("reminder", "sent")]
    assert_nothing_left(clinic, queue, server_log)


def test_a_moved_appointment_gets_corrected_reminders(
    clinic, smtp, queue, server_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(clinic)
    queue.run_now()
    old = clinic.appointment.start
    new = old + timedelta(days=2, hours=3)
    url = reverse("api_appointment", args=[clinic.appointment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = patch_json(clinic.client, url, {"start": new.isoformat(), "base_version": 1})
    assert response.status_code == 200, response.content
    queue.run_now()
    local = timezone.localtime(new)
    moved = smtp.mailbox.wait_for(ADDRESS, "verschoben")
    assert f"{local:%d.%m.%Y} um {local:%H:%M} Uhr" in moved.get_body(("plain",)).get_content()
    # At the old times nothing goes out; at the new ones the reminders do.
    before = len(smtp.mailbox.messages)
    queue.run_until(old - timedelta(hours=1))
    assert len(smtp.mailbox.messages) == before
    queue.run_until(new - timedelta(hours=1))
    reminders = [m for rcpts, m in smtp.mailbox.messages[before:] if "Erinnerung" in m["Subject"]]
    assert len(reminders) == 2 and all(f"{local:%d.%m.%Y}" in m["Subject"] for m in reminders)
    assert [s for k, s in statuses(clinic.appointment) if k == "reminder"] == ["dropped", "dropped", "sent", "sent"]
    assert_nothing_left(clinic, queue, server_log)


def test_a_cancelled_appointment_gets_a_cancellation_and_no_reminder(
    clinic, smtp, queue, server_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(clinic)
    queue.run_now()
    url = reverse("api_appointment", args=[clinic.appointment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        patch_json(clinic.client, url, {"status": "cancelled", "base_version": 1})
    queue.run_now()
    assert "abgesagt" in smtp.mailbox.wait_for(ADDRESS, "Abgesagt").get_body(("plain",)).get_content()
    count = len(smtp.mailbox.messages)
    queue.run_until(clinic.appointment.start)
    assert len(smtp.mailbox.messages) == count
    assert statuses(clinic.appointment) == [
        ("invitation", "sent"),
        ("cancelled", "sent"),
        ("reminder", "dropped"),
        ("reminder", "dropped"),
    ]
    assert_nothing_left(clinic, queue, server_log)


def test_an_unreachable_mail_server_is_retried_and_the_practice_sees_the_failure(
    clinic, queue, server_log, settings, django_capture_on_commit_callbacks
):
    from tests.browser.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.MAIL_RETRIES, settings.MAIL_RETRY_SECONDS = 1, 1
    with django_capture_on_commit_callbacks(execute=True):
        send(clinic)
    queue.run_now()
    invitation = OutgoingMessage.objects.get(kind="invitation")
    assert invitation.get_status_display() == "wird wiederholt"
    queue.run_until(timezone.now() + timedelta(seconds=30))
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts) == ("failed", 2)
    shown = clinic.client.get(reverse("api_appointment", args=[clinic.appointment.pk])).json()["appointment"]
    assert shown["messages"][0]["status_label"] == "fehlgeschlagen"
    assert any("not sent" in line for line in server_log)
    assert not [line for line in server_log if ADDRESS in line]
    assert ContactHold.objects.exists()  # the reminders still wait for it


def test_done_appointments_and_those_that_are_over_let_go_of_the_address(
    clinic, queue, django_capture_on_commit_callbacks
):
    from sprechzimmer.invitations import actions

    with django_capture_on_commit_callbacks(execute=True):
        send(clinic)
    Appointment.objects.filter(pk=clinic.appointment.pk).update(start=timezone.now() - timedelta(hours=3))
    assert actions.purge_over() == 1
    assert not ContactHold.objects.exists()
    assert {s for _, s in statuses(clinic.appointment)} == {"dropped"}


def test_basis_is_refused_with_what_plus_would_bring(clinic, client):
    client.force_login(clinic.basis_doctor)
    url = reverse("api_send_invitation", args=[clinic.basis_appointment.pk])
    response = post_json(client, url, {"channel": "email", "to": ADDRESS, "code": clinic.basis_code})
    assert response.status_code == 403
    assert "Einladung per integrierter E-Mail ist in Ihrem Vertrag basis nicht enthalten" in response.json()["error"]
    assert not ContactHold.objects.exists() and not OutgoingMessage.objects.exists()
    page = client.get(reverse("calendar")).content.decode()
    assert "In Ihrem E-Mail-Programm öffnen" in page and "plus" in page
    assert 'id="invitation-send"' not in page


def test_it_validates_ownership(clinic, client):
    client.force_login(clinic.outsider)
    response = send(type("C", (), {"client": client, "code": clinic.code, "appointment": clinic.appointment}))
    assert response.status_code == 404
    assert not ContactHold.objects.exists() and not OutgoingMessage.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "part"),
    [
        ({"to": "keine-adresse"}, 400, "E-Mail-Adresse ist ungültig"),
        ({"to": ["a@example.org"]}, 400, "E-Mail-Adresse des Patienten"),
        ({"to": "a@example.org\nBcc: b@example.org"}, 400, "ungültig"),
        ({"code": "ACDEF-34679"}, 409, "Zugangscode gilt"),
        ({"code": 12}, 409, "Zugangscode gilt"),
        ({"channel": "brieftaube"}, 400, "Versandart"),
        ({"channel": {"x": 1}}, 400, "Versandart"),
    ],
)
def test_bad_input_gets_a_german_message_and_changes_nothing(clinic, body, status, part):
    data = {"channel": "email", "to": ADDRESS, "code": clinic.code, **body}
    response = post_json(clinic.client, reverse("api_send_invitation", args=[clinic.appointment.pk]), data)
    assert response.status_code == status
    assert part in response.json()["error"]
    assert not ContactHold.objects.exists() and not OutgoingMessage.objects.exists()


def test_a_cancelled_appointment_is_not_invited(clinic):
    clinic.appointment.status = Appointment.Status.CANCELLED
    clinic.appointment.save()
    response = send(clinic)
    assert response.status_code == 409 and "keine Einladungen" in response.json()["error"]
    assert not ContactHold.objects.exists()


def test_the_practice_rate_limit(clinic, settings):
    settings.INVITATIONS_PER_PRACTICE_HOUR = 2
    assert [send(clinic).status_code for _ in range(3)] == [201, 201, 429]
    # A repeated invitation replaces the waiting messages instead of piling them up.
    assert OutgoingMessage.objects.filter(status__in=OutgoingMessage.WAITING).count() == 3


def test_a_sealed_contact_opens_only_for_its_own_appointment(clinic):
    from sprechzimmer.atrest import SealedDataError
    from sprechzimmer.invitations import contacts

    sealed = contacts.seal(contacts.Contact(ADDRESS, clinic.code), clinic.appointment.pk, "email")
    assert contacts.open_sealed(sealed, clinic.appointment.pk, "email").to == ADDRESS
    with pytest.raises(SealedDataError):
        contacts.open_sealed(sealed, clinic.basis_appointment.pk, "email")


def test_reminder_times_skip_what_is_already_past(settings):
    from sprechzimmer.invitations.actions import reminder_times

    settings.REMINDER_HOURS = (24, 1)
    now = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
    assert reminder_times(now + timedelta(hours=5), now) == [now + timedelta(hours=4)]
    assert reminder_times(now + timedelta(minutes=70), now) == []


def test_the_sending_records_go_with_the_call_metadata_after_three_months(clinic, settings):
    from django.core.management import call_command

    from sprechzimmer.invitations.models import Channel

    old = timezone.now() - timedelta(days=settings.METADATA_RETENTION_DAYS + 1)
    for due_at in (old, timezone.now()):
        OutgoingMessage.objects.create(
            organisation=clinic.practice,
            appointment=clinic.appointment,
            channel=Channel.EMAIL,
            kind="invitation",
            due_at=due_at,
        )
    out = io.StringIO()
    call_command("purge_metadata", stdout=out)
    assert "1 Versanddatensätze" in out.getvalue()
    assert OutgoingMessage.objects.get().due_at > old


def test_a_patient_not_in_the_waiting_room_gets_a_nudge_with_one_click(
    clinic, smtp, queue, server_log, django_capture_on_commit_callbacks
):
    url = reverse("api_send_late_reminder", args=[clinic.appointment.pk])
    body = {"channel": "email", "to": ADDRESS}
    # Before the start (and before three minutes past it) there is nothing to nudge.
    response = post_json(clinic.client, url, body)
    assert response.status_code == 409 and "drei Minuten nach Beginn" in response.json()["error"]
    Appointment.objects.filter(pk=clinic.appointment.pk).update(start=timezone.now() - timedelta(minutes=4))
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(clinic.client, url, body)
    assert response.status_code == 201, response.content
    queue.run_now()
    mail = smtp.mailbox.wait_for(ADDRESS, "hat um")
    text = mail.get_body(("plain",)).get_content()
    assert "noch nicht im Wartezimmer" in text and "Link aus Ihrer Einladung" in text
    assert statuses(clinic.appointment) == [("late", "sent")]
    assert_nothing_left(clinic, queue, server_log)
    # The access code was not replaced: the invitation's link still opens the appointment.
    clinic.appointment.refresh_from_db()
    assert clinic.appointment.code_is_open()


def test_no_nudge_for_a_patient_who_is_waiting_or_for_another_practice(clinic, client):
    Appointment.objects.filter(pk=clinic.appointment.pk).update(
        start=timezone.now() - timedelta(minutes=4), status=Appointment.Status.WAITING
    )
    url = reverse("api_send_late_reminder", args=[clinic.appointment.pk])
    assert post_json(clinic.client, url, {"channel": "email", "to": ADDRESS}).status_code == 409
    client.force_login(clinic.outsider)
    assert post_json(client, url, {"channel": "email", "to": ADDRESS}).status_code == 404
    assert not ContactHold.objects.exists() and not OutgoingMessage.objects.exists()
