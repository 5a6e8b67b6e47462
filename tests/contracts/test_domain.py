"""The contract's pure rules: notice period, plan switches, proration (no database)."""

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sprechzimmer.contracts import domain
from sprechzimmer.contracts.domain import Feature, Plan, UsageDay


def test_the_issues_examples_of_the_notice_period():
    assert domain.cancellation_end(dt.date(2026, 11, 29)) == dt.date(2027, 3, 31)
    assert domain.cancellation_end(dt.date(2027, 1, 1)) == dt.date(2027, 6, 30)


def test_notice_on_the_last_possible_day_still_reaches_the_quarter():
    assert domain.cancellation_end(dt.date(2026, 12, 31)) == dt.date(2027, 3, 31)
    assert domain.cancellation_end(dt.date(2026, 11, 30)) == dt.date(2027, 3, 31)  # 28.02. + quarter
    assert domain.cancellation_end(dt.date(2027, 3, 31)) == dt.date(2027, 6, 30)
    assert domain.cancellation_end(dt.date(2027, 4, 1)) == dt.date(2027, 9, 30)


def _is_quarter_end(day: dt.date) -> bool:
    return day.month in (3, 6, 9, 12) and (day + dt.timedelta(days=1)).day == 1


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_the_end_is_the_first_quarter_end_at_least_three_months_after_the_notice(notice):
    end = domain.cancellation_end(notice)
    assert _is_quarter_end(end)
    three_months = domain.add_months(notice, 3)
    assert end >= three_months
    # and no earlier quarter end would do: the one before lies within the three months
    previous_quarter_end = dt.date(end.year, end.month - 2, 1) - dt.timedelta(days=1)
    assert previous_quarter_end < three_months
    assert (end - notice).days <= 92 + 92  # never more than six months


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_a_switch_down_waits_for_the_end_of_the_billed_month(day):
    start = domain.downgrade_from(day)
    assert start.day == 1 and start > day and (start - dt.timedelta(days=1)).month == day.month


def test_basis_and_plus_allow_what_seed_000_lists():
    for feature in (Feature.APPOINTMENTS, Feature.VIDEO, Feature.FULLSCREEN, Feature.MANUAL_EMAIL_INVITATION):
        assert domain.allows(Plan.BASIS, feature) and domain.allows(Plan.PLUS, feature)
    for feature in (Feature.SCREEN_SHARING, Feature.CONFERENCES, Feature.SMS_INVITATION, Feature.AVV_CONFIRMATION):
        assert not domain.allows(Plan.BASIS, feature) and domain.allows(Plan.PLUS, feature)
    assert domain.max_users(Plan.BASIS) == 5 and domain.max_users(Plan.PLUS) is None


def test_a_whole_month_of_plus_for_three_users_is_three_times_19_euros():
    days = [UsageDay(dt.date(2027, 2, d), Plan.PLUS, 3) for d in range(1, 29)]
    charge = domain.month_charge(2027, 2, days)
    assert charge.user_months == Decimal("3.0000")
    assert charge.users_net == Decimal("57.00")
    assert charge.vat == Decimal("10.83") and charge.gross == Decimal("67.83")


def test_a_switch_up_on_the_16th_of_november_is_prorated_by_days():
    days = [UsageDay(dt.date(2026, 11, d), Plan.BASIS, 2) for d in range(1, 16)]
    days += [UsageDay(dt.date(2026, 11, d), Plan.PLUS, 2) for d in range(16, 31)]
    days[20] = UsageDay(dt.date(2026, 11, 21), Plan.PLUS, 3, sms=7)  # a third user for one day, 7 SMS
    charge = domain.month_charge(2026, 11, days)
    assert charge.user_days == 31  # 15 days × 2 users + 1 extra user-day
    assert charge.user_months == Decimal("1.0333")  # 31 / 30
    assert charge.users_net == Decimal("19.63")  # 1.0333 × 19 = 19.6327
    assert charge.sms == 7 and charge.sms_net == Decimal("0.70")
    assert charge.net == Decimal("20.33") and charge.vat == Decimal("3.86") and charge.gross == Decimal("24.19")


def test_basis_months_cost_nothing_but_sms_are_counted():
    days = [UsageDay(dt.date(2026, 11, d), Plan.BASIS, 2, sms=1) for d in range(1, 31)]
    charge = domain.month_charge(2026, 11, days)
    assert charge.users_net == Decimal("0.00") and charge.sms == 30 and charge.sms_net == Decimal("3.00")
