"""The main pages ask the database a fixed number of times, however much a practice holds (issue 20:
"a test bounds the number of queries of every main page"). A page whose count grows with its data
(one query per appointment, per member, per device) is found here long before a practice with
10 000 appointments finds it; bench/api_latency.py measures what the remaining queries cost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.accounts.models import Device
from sprechzimmer.api.models import SCOPES, ApiClient
from sprechzimmer.contracts.models import Contract, Plan
from sprechzimmer.video.models import Appointment
from tests import factories

pytestmark = pytest.mark.django_db

#: More than any main page needs today; a page over it does work that should be one query.
MOST = 20


def main_pages() -> list[str]:
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    week = f"?von={monday:%Y-%m-%d}&bis={monday + dt.timedelta(days=6):%Y-%m-%d}"
    return [
        reverse("dashboard"),
        reverse("calendar"),
        reverse("api_appointments") + week,
        reverse("members"),
        reverse("devices"),
        reverse("practice_settings"),
        reverse("contract"),
        reverse("api_clients"),
        reverse("booking_settings"),
    ]


def counts(client) -> dict[str, int]:
    found = {}
    for url in main_pages():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        found[url] = len(captured.captured_queries)
    return found


def grow(practice, doctors, n: int) -> None:
    """n more appointments this week (every status), members, devices and API clients."""
    now = timezone.now()
    statuses = list(Appointment.Status)
    Appointment.objects.bulk_create(
        Appointment(
            organisation=practice,
            doctor=doctors[i % len(doctors)],
            start=now + dt.timedelta(minutes=15 * (i % 300) - 600),
            patient_ciphertext=factories.envelope("A256GCM"),
            status=statuses[i % len(statuses)],
        )
        for i in range(n)
    )
    for _ in range(5):
        colleague = factories.member(practice)
        Device.objects.create(user=colleague, name="Praxis-PC", token_hash=f"{colleague.pk:064x}")
        ApiClient.create(practice, f"Zugang {colleague.pk}", list(SCOPES), doctors[0])


def test_the_main_pages_ask_the_same_number_of_queries_with_ten_times_the_data(client):
    practice = factories.practice("Praxis Abfragen")
    main = factories.member(practice, main=True)
    Contract.objects.create(organisation=practice, plan=Plan.PLUS)
    client.force_login(main)
    client.get(reverse("dashboard"))  # binds the session to a device
    grow(practice, [main], 20)
    counts(client)  # warm: once-per-session work (device seen, session saved) is done
    few = counts(client)
    grow(practice, [main, *practice.members.all()], 200)
    many = counts(client)
    assert many == few, {url: (few[url], many[url]) for url in few if few[url] != many[url]}
    assert max(many.values()) <= MOST, many


def test_a_request_reads_the_user_with_its_organisation_and_older_sessions_stay_valid(client):
    """Every page needs the user's organisation (is it a practice?) and whether they serve duties:
    the session's user comes with both in one query (accounts/backends.py). A session made under allauth's backend, before ours was
    listed, is still a valid login."""
    practice = factories.practice("Praxis Sitzung")
    main = factories.member(practice, main=True)
    client.force_login(main)
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("calendar")).status_code == 200
    organisation_reads = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "accounts_organisation"')
    ]
    assert organisation_reads == [], organisation_reads
    # Nor the duty profile the navigation asks about: in the same query (it was one per page).
    profile_reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "duty_dutydoctor"')]
    assert profile_reads == [], profile_reads

    older = type(client)()
    older.force_login(main, backend="allauth.account.auth_backends.AuthenticationBackend")
    older.get(reverse("dashboard"))
    assert older.get(reverse("calendar")).status_code == 200


class CountingHasher(MD5PasswordHasher):
    """MD5 (fast) that counts how often a password is checked."""

    checks = 0

    def verify(self, password, encoded):
        CountingHasher.checks += 1
        return super().verify(password, encoded)


def test_a_wrong_password_is_checked_once_not_once_per_listed_backend(settings):
    settings.PASSWORD_HASHERS = ["tests.test_query_bounds.CountingHasher"]
    user = factories.member(factories.practice("Praxis Passwort"), main=True)
    user.set_password("richtig-richtig-1")
    user.save()
    CountingHasher.checks = 0
    assert authenticate(None, email=user.email, password="falsch-falsch-1") is None
    assert CountingHasher.checks == 1
    assert authenticate(None, email=user.email, password="richtig-richtig-1") == user
