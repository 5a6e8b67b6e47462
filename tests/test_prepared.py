"""``sprechzimmer.prepared.ByKey`` returns what the ORM returns: every field of the row and of the
rows ``select_related`` joins, converted as the ORM converts them (times, decimals, JSON), on the
database the suite runs on (CI runs it on SQLite and on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sprechzimmer.accounts.backends import AuthenticationBackend
from sprechzimmer.accounts.models import Device, User
from sprechzimmer.duty.models import DutyDoctor
from sprechzimmer.prepared import ByKey
from tests import factories

pytestmark = pytest.mark.django_db

USER = ByKey(lambda: User._default_manager.select_related("organisation", "duty_profile"))


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_a_user_with_organisation_and_duty_profile_is_the_orms_in_one_query():
    practice = factories.practice("Praxis Gleich")
    user = factories.member(practice, main=True)
    DutyDoctor.objects.create(kv=practice, user=user, weight=Decimal("0.75"), qualifications=["home", "video"])
    expected = User._default_manager.select_related("organisation", "duty_profile").get(pk=user.pk)

    with CaptureQueriesContext(connection) as queries:
        found = USER.get(user.pk)
        organisation, profile = found.organisation, found.duty_profile  # from the same row
    assert len(queries) == 1
    assert _fields(found) == _fields(expected)
    assert _fields(organisation) == _fields(expected.organisation)
    assert _fields(profile) == _fields(expected.duty_profile)
    assert profile.weight == Decimal("0.75") and profile.qualifications == ["home", "video"]
    assert found.date_joined.tzinfo is not None and found.date_joined == expected.date_joined
    assert profile.user is found and found._state.db == expected._state.db and not found._state.adding


def test_a_user_without_organisation_or_profile_answers_as_the_orm_does_without_a_query():
    user = factories.member(None, with_key=False)
    found = USER.get(user.pk)
    assert _fields(found) == _fields(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        assert found.organisation is None
        with pytest.raises(User.duty_profile.RelatedObjectDoesNotExist):
            found.duty_profile  # noqa: B018 (the access is the test)
    assert len(queries) == 0


@pytest.mark.parametrize("key", [0, -1, 2**31, 2**63, 10**30])
def test_a_missing_or_out_of_range_key_is_none_not_a_driver_error(key):
    assert USER.get(key) is None and USER.get(None) is None
    assert not User.objects.filter(pk=key).exists()  # the ORM agrees


def test_the_backend_and_the_device_lookup_refuse_what_is_not_theirs():
    practice = factories.practice("Praxis Gerät")
    user, other = factories.member(practice, main=True), factories.member(practice)
    device = Device.objects.create(user=other, token_hash="d" * 64, name="Tablet", status=Device.Status.APPROVED)
    backend = AuthenticationBackend()
    assert backend.get_user(user.pk).pk == user.pk
    assert backend.get_user("abc") is None and backend.get_user(None) is None
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert backend.get_user(user.pk) is None  # an inactive user is no longer logged in
    found = ByKey(lambda: Device.objects.all()).get(device.pk)
    assert _fields(found) == _fields(Device.objects.get(pk=device.pk))
    assert found.last_seen_at == Device.objects.get(pk=device.pk).last_seen_at


def test_a_queryset_that_filters_on_the_same_value_is_refused():
    from sprechzimmer.prepared import _SENTINEL

    with pytest.raises(ValueError, match="without a filter on the same value"):
        ByKey(lambda: User.objects.filter(pk__gte=_SENTINEL)).get(1)


def test_a_queryset_with_a_filter_of_its_own_keeps_it():
    practice = factories.practice("Praxis Filter")
    user = factories.member(practice, main=True)
    active = ByKey(lambda: User.objects.filter(is_active=True, email__contains="@"))
    assert active.get(user.pk).pk == user.pk
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert active.get(user.pk) is None


def test_sessions_read_with_built_sql_answer_as_djangos_do():
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore as DjangoStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from sprechzimmer.sessions import SessionStore

    store = SessionStore()
    store["device"] = 42
    store.create()
    assert SessionStore(store.session_key).load() == DjangoStore(store.session_key).load() == {"device": 42}
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None  # as Django's: a new one on save
    assert SessionStore("nichtvorhanden1").load() == {} and SessionStore(None).load() == {}


def test_whether_a_member_has_a_second_factor_answers_as_allauth_does():
    from allauth.mfa.adapter import DefaultMFAAdapter
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import is_mfa_enabled

    practice = factories.practice("Praxis Faktor")
    with_totp, without = factories.member(practice, main=True), factories.member(practice, totp=False)
    for user in (with_totp, without):
        assert is_mfa_enabled(user) == DefaultMFAAdapter().is_mfa_enabled(user)
    assert is_mfa_enabled(with_totp) and not is_mfa_enabled(without)
    assert is_mfa_enabled(with_totp, [Authenticator.Type.TOTP])  # with types: allauth's own query
    assert not is_mfa_enabled(with_totp, [Authenticator.Type.WEBAUTHN])
    Authenticator.objects.filter(user=with_totp).delete()
    assert not is_mfa_enabled(with_totp)  # removed: the next question sees it


def test_the_request_user_brings_its_contract_for_the_banner():
    from sprechzimmer.contracts.context import contract
    from sprechzimmer.contracts.models import Contract

    practice = factories.practice("Praxis Vertrag")
    user = factories.member(practice, main=True)
    Contract.objects.update_or_create(organisation=practice, defaults={"ends_on": dt.date(2027, 3, 31)})
    found = AuthenticationBackend().get_user(user.pk)
    request = type("Request", (), {"user": found})()
    with CaptureQueriesContext(connection) as queries:
        assert contract(request) == {"contract_ends_on": dt.date(2027, 3, 31)}
    assert len(queries) == 0
    Contract.objects.filter(organisation=practice).delete()
    assert contract(type("Request", (), {"user": AuthenticationBackend().get_user(user.pk)})()) == {
        "contract_ends_on": None
    }


def test_rows_from_a_date_on_are_the_orms_in_its_order():
    from sprechzimmer.approval.models import NewsBanner
    from sprechzimmer.prepared import RowsFrom

    today = dt.date(2026, 12, 2)
    for start, end in [(-30, -1), (-5, 0), (-1, 3), (2, 9), (-400, 400)]:
        NewsBanner.objects.create(
            text=f"{start}", shown_from=today + dt.timedelta(start), shown_until=today + dt.timedelta(end)
        )
    rows = RowsFrom(lambda: NewsBanner.objects.all(), "shown_until__gte").all(today)
    expected = list(NewsBanner.objects.filter(shown_until__gte=today))  # Meta.ordering: newest first
    assert [_fields(row) for row in rows] == [_fields(row) for row in expected]
    assert [row.text for row in rows] == ["2", "-1", "-5", "-400"]
    assert RowsFrom(lambda: NewsBanner.objects.all(), "shown_until__gte").all(None) == []
