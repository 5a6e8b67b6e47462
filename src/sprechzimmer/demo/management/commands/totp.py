from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from sprechzimmer.accounts.totp import code_now
from sprechzimmer.demo.data import DEMO_BSNR, DEMO_K_ARZT, DEMO_KV_STAFF, DEMO_SUBSTITUTE


class Command(BaseCommand):
    help = "Prints the current TOTP code of a demo user (the demo practice and the demo duty logins only)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, email, **options):
        demo_duty = {DEMO_KV_STAFF[0], DEMO_K_ARZT[0], DEMO_SUBSTITUTE[0]}
        authenticator = Authenticator.objects.filter(
            Q(user__organisation__bsnr=DEMO_BSNR) | Q(user__email__in=demo_duty),
            user__email__iexact=email,
            type=Authenticator.Type.TOTP,
        ).first()
        if authenticator is None:
            raise CommandError("Kein Demo-Benutzer mit dieser E-Mail-Adresse.")
        self.stdout.write(code_now(get_adapter().decrypt(authenticator.data["secret"])))
