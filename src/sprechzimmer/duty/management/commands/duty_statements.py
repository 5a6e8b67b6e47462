import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from sprechzimmer.billing.domain.report import euro_text
from sprechzimmer.duty import services
from sprechzimmer.duty.models import DutyDoctor
from sprechzimmer.duty.pdf import month_label


class Command(BaseCommand):
    help = ("Tells every K-Arzt with duties in a month that the pay statement is ready (default: the "
            "previous month). Run once on the 15th, e.g. from a systemd timer (docs/operations.md). The "
            "mail carries the amounts and a link, not the statement itself.")

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
        sent = 0
        doctors = DutyDoctor.objects.filter(kind=DutyDoctor.Kind.COOPERATING, user__is_active=True).select_related("user")
        for doctor in doctors:
            statement = services.monthly_statement(doctor, first.year, first.month)
            if not statement.lines and not statement.missed:
                continue
            link = base_url.rstrip("/") + reverse("duty_statement", args=[first.year, first.month])
            send_mail(
                f"[{settings.SITE_NAME}] Ihre Vergütungsabrechnung {label}",
                f"Guten Tag {doctor.user.full_name},\n\nIhre Vergütungsabrechnung für {label} liegt bereit: "
                f"{len(statement.lines)} Dienst(e), brutto {euro_text(statement.gross)}, Abzüge "
                f"{euro_text(statement.deductions)}, Auszahlung am {statement.pay_date:%d.%m.%Y}: "
                f"{euro_text(statement.payout)}.\n\nAbrechnung und PDF (nach Anmeldung): {link}\n\n{statement.note}\n\n"
                "Ihr Sprechzimmer\n",
                None, [doctor.user.email])
            sent += 1
        self.stdout.write(f"{sent} Abrechnung(en) für {label} mitgeteilt.")
