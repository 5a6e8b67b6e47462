import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from sprechzimmer import mail
from sprechzimmer.core import formats
from sprechzimmer.duty import payment
from sprechzimmer.duty.models import DutyDoctor, StatementMail


class Command(BaseCommand):
    help = (
        "Tells every K-Arzt with duties in a month that the pay statement is ready (default: the "
        "previous month). Run on the 15th, e.g. from a systemd timer (docs/operations.md). The "
        "mail carries the amounts and a link, not the statement itself. Running it again mails only "
        "those whose payout changed since their mail (as an update)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: the previous month)")
        parser.add_argument(
            "--base-url",
            default=None,
            help="die öffentliche Adresse, z. B. https://sprechzimmer.example.org (Standard: SITE_URL)",
        )

    def handle(self, *args, month=None, base_url=None, **options):
        base_url = base_url or settings.SITE_URL
        if month:
            try:
                first = dt.datetime.strptime(month, "%Y-%m").date()
            except ValueError:
                raise CommandError("--month erwartet JJJJ-MM, z. B. 2026-10.") from None
        else:
            first = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        label = formats.month(first.year, first.month)
        sent = updated = 0
        doctors = DutyDoctor.objects.filter(kind=DutyDoctor.Kind.COOPERATING, user__is_active=True).select_related(
            "user"
        )
        for doctor in doctors:
            statement = payment.monthly_statement(doctor, first.year, first.month)
            if not statement.lines and not statement.missed:
                continue
            # The record and the mail in one transaction: a mail that fails is tried again next run.
            with transaction.atomic():
                record = (
                    StatementMail.objects.select_for_update()
                    .filter(doctor=doctor, year=first.year, month=first.month)
                    .first()
                )
                if record is not None and record.payout == statement.payout:
                    continue
                update = record is not None
                if update:
                    record.payout, record.sent_at = statement.payout, timezone.now()
                    record.save(update_fields=["payout", "sent_at"])
                else:
                    StatementMail.objects.create(
                        doctor=doctor, year=first.year, month=first.month, payout=statement.payout
                    )
                self._mail(doctor, statement, label, first, base_url, update)
            if update:
                updated += 1
            else:
                sent += 1
        self.stdout.write(f"{sent} Abrechnung(en) für {label} mitgeteilt, {updated} aktualisiert.")

    @staticmethod
    def _mail(doctor, statement, label, first, base_url, update):
        link = base_url.rstrip("/") + reverse("duty_statement", args=[first.year, first.month])
        mail.send(
            "duty_statement",
            doctor.user.email,
            {
                "full_name": doctor.user.full_name,
                "label": label,
                "statement": statement,
                "link": link,
                "update": update,
            },
        )
