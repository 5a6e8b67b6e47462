import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.billing.domain.report import euro_text
from sprechzimmer.duty import services
from sprechzimmer.duty.models import DutyDoctor, StatementMail
from sprechzimmer.duty.pdf import month_label


class Command(BaseCommand):
    help = ("Tells every K-Arzt with duties in a month that the pay statement is ready (default: the "
            "previous month). Run on the 15th, e.g. from a systemd timer (docs/operations.md). The "
            "mail carries the amounts and a link, not the statement itself. Running it again mails only "
            "those whose payout changed since their mail (as an update).")

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: the previous month)")
        parser.add_argument("--base-url", required=True, help="the public address, e.g. https://sprechzimmer.example.org")

    def handle(self, *args, month=None, base_url, **options):
        if month:
            try:
                first = dt.datetime.strptime(month, "%Y-%m").date()
            except ValueError:
                raise CommandError("--month erwartet JJJJ-MM, z. B. 2026-10.") from None
        else:
            first = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        label = month_label(first.year, first.month)
        sent = updated = 0
        doctors = DutyDoctor.objects.filter(kind=DutyDoctor.Kind.COOPERATING, user__is_active=True).select_related("user")
        for doctor in doctors:
            statement = services.monthly_statement(doctor, first.year, first.month)
            if not statement.lines and not statement.missed:
                continue
            # The record and the mail in one transaction: a mail that fails is tried again next run.
            with transaction.atomic():
                record = (StatementMail.objects.select_for_update()
                          .filter(doctor=doctor, year=first.year, month=first.month).first())
                if record is not None and record.payout == statement.payout:
                    continue
                update = record is not None
                if update:
                    record.payout, record.sent_at = statement.payout, timezone.now()
                    record.save(update_fields=["payout", "sent_at"])
                else:
                    StatementMail.objects.create(doctor=doctor, year=first.year, month=first.month,
                                                 payout=statement.payout)
                self._mail(doctor, statement, label, first, base_url, update)
            if update:
                updated += 1
            else:
                sent += 1
        self.stdout.write(f"{sent} Abrechnung(en) für {label} mitgeteilt, {updated} aktualisiert.")

    @staticmethod
    def _mail(doctor, statement, label, first, base_url, update):
        link = base_url.rstrip("/") + reverse("duty_statement", args=[first.year, first.month])
        what = "wurde aktualisiert" if update else "liegt bereit"
        send_mail(
            f"[{settings.SITE_NAME}] Ihre Vergütungsabrechnung {label}" + (" (aktualisiert)" if update else ""),
            f"Guten Tag {doctor.user.full_name},\n\nIhre Vergütungsabrechnung für {label} {what}: "
            f"{len(statement.lines)} Dienst(e), brutto {euro_text(statement.gross)}, Abzüge "
            f"{euro_text(statement.deductions)}, Auszahlung am {statement.pay_date:%d.%m.%Y}: "
            f"{euro_text(statement.payout)}.\n\nAbrechnung und PDF (nach Anmeldung): {link}\n\n{statement.note}\n\n"
            "Ihr Sprechzimmer\n",
            None, [doctor.user.email])
