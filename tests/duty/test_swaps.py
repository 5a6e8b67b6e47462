"""Swapping duties (duty/swaps.py) through the exchange page: a named swap, an open offer answered
by a colleague, the hard rules for both doctors, mails and calendar feeds, bad input, and outsiders
(another KV, a colleague the offer is not addressed to, the offering doctor themselves)."""

import datetime as dt

import pytest
from django.urls import reverse

from sprechzimmer.duty import calendar_feed, exchange, swaps
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import Duty, DutyDoctor, SwapOffer, SwapProposal

from .helpers import doctor, logged_in, published_plan

pytestmark = pytest.mark.django_db


class Pair:
    """A published fortnight in which A serves only X (the first duty), B only Y (a week later) and
    C only Z (ten days in); everything else is served by a fourth doctor, so that only the rules the
    test sets up decide whether a swap is allowed."""

    def __init__(self, world):
        self.world = world
        self.a, self.b, self.c, filler = world.obliged
        self.plan = published_plan(world.area, days=14)
        duties = list(self.plan.duties.order_by("start"))
        Duty.objects.filter(plan=self.plan).update(doctor=filler)
        self.x, self.y, self.z = duties[0], duties[14], duties[20]
        for duty, owner in ((self.x, self.a), (self.y, self.b), (self.z, self.c)):
            Duty.objects.filter(pk=duty.pk).update(doctor=owner)
            duty.refresh_from_db()

    def owners(self):
        return [Duty.objects.get(pk=d.pk).doctor_id for d in (self.x, self.y, self.z)]


@pytest.fixture
def pair(world):
    return Pair(world)


def page(client):
    return client.get(reverse("duty_exchange")).content.decode()


def test_a_named_swap_offered_accepted_mailed_and_in_the_calendars(
    client, pair, mailoutbox, django_capture_on_commit_callbacks
):
    logged_in(client, pair.a.user)
    assert f'<option value="{pair.x.pk}"' in page(client)  # A's own duty is offered for the swap
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("duty_swap_offer"),
            {"duty": pair.x.pk, "email": pair.b.user.email.upper(), "day": pair.y.day.isoformat()},
            follow=True,
        )
    assert f"Ihr Tauschangebot ist an {pair.b} geschickt" in response.content.decode()
    offer = SwapOffer.objects.get()
    assert (offer.offered, offer.partner, offer.wanted, offer.status) == (pair.x, pair.b, pair.y, "open")
    assert [m.to for m in mailoutbox] == [[pair.b.user.email]]
    assert "Tauschanfrage" in mailoutbox[0].subject and f"{pair.y.local_start:%d.%m.%Y}" in mailoutbox[0].body
    assert "http://testserver/dienste/boerse/" in mailoutbox[0].body
    assert pair.owners() == [pair.a.pk, pair.b.pk, pair.c.pk]  # nothing changes before the answer

    client.logout()
    logged_in(client, pair.b.user)
    shown = page(client)
    assert f'data-swap="{offer.pk}"' in shown and "Tauschanfragen an Sie" in shown
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("duty_swap_accept", args=[offer.pk]), follow=True)
    assert "Der Tausch ist vollzogen" in response.content.decode()
    assert pair.owners() == [pair.b.pk, pair.a.pk, pair.c.pk]
    offer.refresh_from_db()
    assert offer.status == SwapOffer.Status.DONE and offer.decided_at is not None
    done = mailoutbox[1:]
    assert sorted(m.to[0] for m in done) == sorted([pair.a.user.email, pair.b.user.email])
    to_a = next(m for m in done if m.to == [pair.a.user.email])
    assert "Diensttausch" in to_a.subject and str(pair.b) in to_a.subject
    assert f"nicht mehr eingeteilt für: {pair.x.duty_type.get_kind_display()} am {pair.x.local_start:%d.%m.%Y}" in (
        to_a.body
    )
    assert f"jetzt eingeteilt für: {pair.y.duty_type.get_kind_display()} am {pair.y.local_start:%d.%m.%Y}" in (
        to_a.body
    )
    # The calendar feeds follow: each duty is in its new doctor's feed only.
    feed_a, feed_b = calendar_feed.calendar_feed(pair.a), calendar_feed.calendar_feed(pair.b)
    assert f"duty-{pair.y.pk}@".encode() in feed_a and f"duty-{pair.x.pk}@".encode() not in feed_a
    assert f"duty-{pair.x.pk}@".encode() in feed_b and f"duty-{pair.y.pk}@".encode() not in feed_b
    # Accepting again changes nothing back.
    response = client.post(reverse("duty_swap_accept", args=[offer.pk]), follow=True)
    assert "Dieses Tauschangebot ist getauscht." in response.content.decode()
    assert pair.owners() == [pair.b.pk, pair.a.pk, pair.c.pk]


def test_an_open_offer_answered_by_a_colleague_and_accepted(
    client, pair, mailoutbox, django_capture_on_commit_callbacks
):
    logged_in(client, pair.a.user)
    client.post(reverse("duty_swap_offer"), {"duty": pair.x.pk, "email": "", "day": ""})
    offer = SwapOffer.objects.get(wanted=None)
    # B and C both see it; each proposes their duty (a mail to A each).
    for colleague, duty in ((pair.b, pair.y), (pair.c, pair.z)):
        client.logout()
        logged_in(client, colleague.user)
        assert f'data-swap="{offer.pk}"' in page(client)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("duty_swap_propose", args=[offer.pk]), {"duty": duty.pk}, follow=True)
        assert "Ihr Vorschlag ist gesendet" in response.content.decode()
    assert [m.to for m in mailoutbox] == [[pair.a.user.email]] * 2
    assert pair.owners() == [pair.a.pk, pair.b.pk, pair.c.pk]
    # C cannot accept their own proposal: only the offering doctor can.
    from_c = SwapProposal.objects.get(doctor=pair.c)
    assert client.post(reverse("duty_swap_proposal_accept", args=[from_c.pk])).status_code == 404

    client.logout()
    logged_in(client, pair.a.user)
    shown = page(client)
    assert f'data-proposal="{from_c.pk}"' in shown
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("duty_swap_proposal_accept", args=[from_c.pk]))
    assert pair.owners() == [pair.c.pk, pair.b.pk, pair.a.pk]
    assert SwapProposal.objects.get(doctor=pair.b).status == SwapOffer.Status.DECLINED
    assert SwapOffer.objects.get().status == SwapOffer.Status.DONE
    assert sorted(m.to[0] for m in mailoutbox[2:]) == sorted([pair.a.user.email, pair.c.user.email])
    # B's proposal is no longer open: accepting it changes nothing.
    response = client.post(
        reverse("duty_swap_proposal_accept", args=[SwapProposal.objects.get(doctor=pair.b).pk]), follow=True
    )
    assert "nicht mehr offen" in response.content.decode()
    assert pair.owners() == [pair.c.pk, pair.b.pk, pair.a.pk]


def test_a_swap_keeps_the_hard_rules_for_both_doctors(client, pair):
    # B is qualified only for the other duty type than X: refused when offered …
    other = "driving" if pair.x.duty_type.kind == "sitting" else "sitting"
    DutyDoctor.objects.filter(pk=pair.b.pk).update(qualifications=[other])
    pair.b.refresh_from_db()
    with pytest.raises(DutyError, match=f"{pair.b} darf den Dienst am .* nicht übernehmen"):
        swaps.offer_swap(pair.a, pair.x.pk, pair.b, pair.y.pk)
    # … and when accepted (qualification changed after the offer): nothing changes.
    DutyDoctor.objects.filter(pk=pair.b.pk).update(qualifications=[])
    pair.b.refresh_from_db()
    offer = swaps.offer_swap(pair.a, pair.x.pk, pair.b, pair.y.pk)
    DutyDoctor.objects.filter(pk=pair.b.pk).update(qualifications=[other])
    pair.b.refresh_from_db()
    with pytest.raises(DutyError, match="Sie sind für den .* nicht qualifiziert"):
        swaps.accept(offer.pk, pair.b)
    assert pair.owners() == [pair.a.pk, pair.b.pk, pair.c.pk]
    assert SwapOffer.objects.get().status == SwapOffer.Status.OPEN
    # Rest period: A got a duty the evening before Y in the meantime; taking Y would clash.
    DutyDoctor.objects.filter(pk=pair.b.pk).update(qualifications=[])
    pair.b.refresh_from_db()
    before_y = Duty.objects.filter(plan=pair.plan, start__lt=pair.y.start, day=pair.y.day - dt.timedelta(days=1))
    Duty.objects.filter(pk=before_y.first().pk).update(doctor=pair.a)
    with pytest.raises(DutyError, match=f"{pair.a} darf den Dienst am .* nicht übernehmen"):
        swaps.accept(offer.pk, pair.b)
    assert Duty.objects.get(pk=pair.x.pk).doctor == pair.a and Duty.objects.get(pk=pair.y.pk).doctor == pair.b


def test_a_swap_offer_for_a_duty_taken_meanwhile_fails_cleanly(client, pair, world):
    Duty.objects.filter(pk=pair.x.pk).update(status=Duty.Status.OFFERED)  # also in the exchange
    offer = swaps.offer_swap(pair.a, pair.x.pk, pair.b, pair.y.pk)
    exchange.take(pair.x.pk, world.k_arzt)
    offer.refresh_from_db()
    assert offer.status == SwapOffer.Status.VOID
    logged_in(client, pair.b.user)
    assert f'data-swap="{offer.pk}"' not in page(client)
    response = client.post(reverse("duty_swap_accept", args=[offer.pk]), follow=True)
    assert response.status_code == 200 and "Dieses Tauschangebot ist hinfällig." in response.content.decode()
    assert Duty.objects.get(pk=pair.x.pk).doctor == world.k_arzt and Duty.objects.get(pk=pair.y.pk).doctor == pair.b
    # Even without the void mark (an offer left open), the changed owner stops the swap.
    SwapOffer.objects.filter(pk=offer.pk).update(status=SwapOffer.Status.OPEN)
    with pytest.raises(DutyError, match="bereits vergeben"):
        swaps.accept(offer.pk, pair.b)
    assert Duty.objects.get(pk=pair.y.pk).doctor == pair.b


def test_outsiders_cannot_see_or_accept_and_nobody_accepts_their_own_offer(client, pair, world):
    named = swaps.offer_swap(pair.a, pair.x.pk, pair.b, pair.y.pk)
    free = swaps.offer_swap(pair.a, pair.x.pk)
    stranger = doctor(world.other_kv, kind=DutyDoctor.Kind.COOPERATING)
    logged_in(client, stranger.user)
    shown = page(client)
    assert f'data-swap="{named.pk}"' not in shown and f'data-swap="{free.pk}"' not in shown
    for name, args, data in (
        ("duty_swap_accept", [named.pk], {}),
        ("duty_swap_decline", [named.pk], {}),
        ("duty_swap_withdraw", [named.pk], {}),
        ("duty_swap_propose", [free.pk], {"duty": pair.z.pk}),
    ):
        assert client.post(reverse(name, args=args), data).status_code == 404, name
    # A colleague of the same KV sees the open offer, but not one addressed to B, nor can accept it.
    client.logout()
    logged_in(client, pair.c.user)
    shown = page(client)
    assert f'data-swap="{named.pk}"' not in shown and f'data-swap="{free.pk}"' in shown
    assert client.post(reverse("duty_swap_accept", args=[named.pk])).status_code == 404
    assert client.post(reverse("duty_swap_withdraw", args=[named.pk])).status_code == 404
    # A colleague cannot propose someone else's duty.
    response = client.post(reverse("duty_swap_propose", args=[free.pk]), {"duty": pair.y.pk}, follow=True)
    assert "Bitte wählen Sie einen Ihrer anstehenden Dienste." in response.content.decode()
    # A cannot accept or answer their own offers.
    client.logout()
    logged_in(client, pair.a.user)
    assert client.post(reverse("duty_swap_accept", args=[named.pk])).status_code == 404
    response = client.post(reverse("duty_swap_propose", args=[free.pk]), {"duty": pair.x.pk}, follow=True)
    assert "Das ist Ihr eigenes Tauschangebot." in response.content.decode()
    with pytest.raises(DutyError, match="mit sich selbst"):
        swaps.offer_swap(pair.a, pair.x.pk, pair.a, pair.x.pk)
    assert pair.owners() == [pair.a.pk, pair.b.pk, pair.c.pk]
    # The offering doctor may withdraw; B can then no longer accept.
    client.post(reverse("duty_swap_withdraw", args=[named.pk]))
    with pytest.raises(DutyError, match="zurückgezogen"):
        swaps.accept(named.pk, pair.b)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"duty": "abc"}, "Bitte wählen Sie einen Ihrer anstehenden Dienste."),
        ({"duty": "99999999999999999999999"}, "Bitte wählen Sie einen Ihrer anstehenden Dienste."),
        ({"duty": ""}, "Bitte wählen Sie einen Ihrer Dienste."),
        ({"email": "kein-mail", "day": "2030-01-01"}, "Bitte geben Sie eine gültige E-Mail-Adresse an."),
        ({"email": "x@example.org", "day": "31.02.2030"}, "Bitte geben Sie den Tag als Datum an"),
        ({"email": "x@example.org"}, "geben Sie E-Mail-Adresse und Tag an"),
        ({"email": "niemand@example.org", "day": "2030-01-01"}, "Unter dieser E-Mail-Adresse ist niemand"),
    ],
)
def test_bad_swap_input_is_named_in_german_and_changes_nothing(client, pair, fields, message):
    logged_in(client, pair.a.user)
    data = {"duty": pair.x.pk, "email": "", "day": "", **fields}
    response = client.post(reverse("duty_swap_offer"), data, follow=True)
    assert response.status_code == 200 and message in response.content.decode()
    assert not SwapOffer.objects.exists()


def test_a_partner_without_a_duty_that_day_or_a_duty_begun_is_refused(client, pair):
    logged_in(client, pair.a.user)
    response = client.post(
        reverse("duty_swap_offer"),
        {"duty": pair.x.pk, "email": pair.b.user.email, "day": pair.x.day.isoformat()},
        follow=True,
    )
    assert f"{pair.b} hat am {pair.x.day:%d.%m.%Y} keinen Dienst." in response.content.decode()
    offer = swaps.offer_swap(pair.a, pair.x.pk, pair.b, pair.y.pk)
    # Y has begun in the meantime (moved into the past): the swap is refused, nothing changes.
    Duty.objects.filter(pk=pair.y.pk).update(
        start=pair.y.start - dt.timedelta(days=60), end=pair.y.end - dt.timedelta(days=60)
    )
    with pytest.raises(DutyError, match="hat bereits begonnen"):
        swaps.accept(offer.pk, pair.b)
    assert pair.owners() == [pair.a.pk, pair.b.pk, pair.c.pk]
