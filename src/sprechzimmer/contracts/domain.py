"""The contract's pure rules (no Django): plans and what they allow, when a plan change takes
effect, the notice period of a cancellation, and how user-months are prorated.

Figures and wording follow seed 000 ("Unser Vertragsverhältnis") and docs/contracts.md.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sprechzimmer.core.money import cents, round_to


class Plan(StrEnum):
    BASIS = "basis"
    PLUS = "plus"


class Feature(StrEnum):
    """What a plan allows; later features ask ``contracts.gate.plan_allows`` with one of these."""

    APPOINTMENTS = "appointments"
    VIDEO = "video"
    FULLSCREEN = "fullscreen"
    HIDE_OWN_PICTURE = "hide_own_picture"
    ONLINE_HELP = "online_help"
    MANUAL_EMAIL_INVITATION = "manual_email_invitation"
    SMS_INVITATION = "sms_invitation"
    INTEGRATED_EMAIL_INVITATION = "integrated_email_invitation"
    SCREEN_SHARING = "screen_sharing"
    CONFERENCES = "conferences"
    UNLIMITED_USERS = "unlimited_users"
    SUPPORT_CONTACTS = "support_contacts"
    AVV_CONFIRMATION = "avv_confirmation"


BASIS_FEATURES = frozenset(
    {
        Feature.APPOINTMENTS,
        Feature.VIDEO,
        Feature.FULLSCREEN,
        Feature.HIDE_OWN_PICTURE,
        Feature.ONLINE_HELP,
        Feature.MANUAL_EMAIL_INVITATION,
    }
)
PLUS_FEATURES = frozenset(Feature)
FEATURES: dict[Plan, frozenset[Feature]] = {Plan.BASIS: BASIS_FEATURES, Plan.PLUS: PLUS_FEATURES}

#: Users (active members plus open invitations) a basis practice may have. Five: a typical
#: single-handed practice (Einzelpraxis) is one doctor with two to four assistants (MFA) at the
#: front desk, and the free plan is meant to carry such a practice completely, as seed 000 promises
#: ("dauerhaft kostenlos"). Larger teams, group practices and MVZ are where plus ("beliebig viele
#: weitere Nutzer") earns its price. Practices that had more users before the plans existed keep
#: them; they only cannot add more on basis.
BASIS_MAX_USERS = 5

#: Net prices (seed 000), all plus VAT, billed monthly.
PRICE_PER_USER_MONTH = Decimal("19.00")
PRICE_PER_SMS = Decimal("0.10")
VAT_RATE = Decimal("19")  # percent, § 12 Abs. 1 UStG
#: User-months are stated with four places (EN 16931 allows four for a quantity).
QUANTITY_PLACES = Decimal("0.0001")

#: The labels the contract page shows for each feature, in the seed's order.
FEATURE_LABELS: dict[Feature, str] = {
    Feature.APPOINTMENTS: "Terminverwaltung",
    Feature.VIDEO: "unbegrenzte Videotermine mit zwei Gesprächsteilnehmern",
    Feature.FULLSCREEN: "Vollbildfunktion",
    Feature.HIDE_OWN_PICTURE: "das eigene Bild ausblenden",
    Feature.ONLINE_HELP: "Zugriff auf Online-Hilfe",
    Feature.MANUAL_EMAIL_INVITATION: "Einladung per manueller E-Mail",
    Feature.SMS_INVITATION: "Einladung per SMS",
    Feature.INTEGRATED_EMAIL_INVITATION: "Einladung per integrierter E-Mail",
    Feature.SCREEN_SHARING: "Bildschirmübertragung",
    Feature.CONFERENCES: "Konferenzen mit mehreren Teilnehmern",
    Feature.UNLIMITED_USERS: "beliebig viele weitere Benutzer",
    Feature.SUPPORT_CONTACTS: "persönlicher E-Mail- und Telefon-Support",
    Feature.AVV_CONFIRMATION: "schriftliche Bestätigung des AVV",
}


def allows(plan: Plan, feature: Feature) -> bool:
    return feature in FEATURES[plan]


def max_users(plan: Plan) -> int | None:
    """None: no limit."""
    return None if allows(plan, Feature.UNLIMITED_USERS) else BASIS_MAX_USERS


# --- dates ----------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months; a day the target month lacks becomes its last day
    (§ 188 Abs. 3 BGB: 30.11. + 3 Monate = 28.02.)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def quarter_end(day: dt.date) -> dt.date:
    """The last day of the calendar quarter ``day`` lies in."""
    month = ((day.month - 1) // 3 + 1) * 3
    return dt.date(day.year, month, calendar.monthrange(day.year, month)[1])


NOTICE_MONTHS = 3


def cancellation_end(notice: dt.date) -> dt.date:
    """The contract's last day for a notice given on ``notice``: three months to the end of a
    quarter (Kündigungsfrist: 3 Monate zum Quartalsende). The three months end on the day
    ``add_months`` gives (§§ 187 Abs. 1, 188 Abs. 2 BGB); the contract ends with the quarter that
    day falls in. 29.11.2026 → 31.03.2027; 31.12.2026 → 31.03.2027; 01.01.2027 → 30.06.2027."""
    return quarter_end(add_months(notice, NOTICE_MONTHS))


def month_end(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def downgrade_from(requested: dt.date) -> dt.date:
    """A switch down (plus → basis) takes effect on the first day after the billed month: plus
    has been paid for the month in which the switch is asked for."""
    return month_end(requested) + dt.timedelta(days=1)


# --- money ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageDay:
    """One metered day of a practice: its plan and its active users at the end of that day."""

    day: dt.date
    plan: Plan
    users: int
    sms: int = 0


@dataclass(frozen=True)
class MonthCharge:
    """What a practice owes for one month, net: user-months (four places) at € 19, SMS at € 0.10."""

    user_days: int
    days_in_month: int
    user_months: Decimal
    users_net: Decimal
    sms: int
    sms_net: Decimal

    @property
    def net(self) -> Decimal:
        return self.users_net + self.sms_net

    @property
    def vat(self) -> Decimal:
        return vat_of(self.net)

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


def vat_of(net: Decimal) -> Decimal:
    """VAT on a net total, rounded half up to the cent (one rate, computed on the total)."""
    return cents(net * VAT_RATE / 100)


def month_charge(year: int, month: int, days: list[UsageDay]) -> MonthCharge:
    """Proration (docs/contracts.md): each user counts for each calendar day on which the practice
    was on plus and the user was active; user-months = user-days / days of the month, rounded half
    up to four places; the users' net is user-months × € 19 rounded to the cent. SMS are counted
    whatever the plan on the day they were sent. Days of other months are ignored."""
    days_in_month = calendar.monthrange(year, month)[1]
    in_month = [d for d in days if d.day.year == year and d.day.month == month]
    user_days = sum(d.users for d in in_month if d.plan == Plan.PLUS)
    sms = sum(d.sms for d in in_month)
    user_months = round_to(Decimal(user_days) / Decimal(days_in_month), QUANTITY_PLACES)
    return MonthCharge(
        user_days=user_days,
        days_in_month=days_in_month,
        user_months=user_months,
        users_net=cents(user_months * PRICE_PER_USER_MONTH),
        sms=sms,
        sms_net=cents(sms * PRICE_PER_SMS),
    )
