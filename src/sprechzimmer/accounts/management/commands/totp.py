from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError

from sprechzimmer.accounts.demo_data import DEMO_BSNR
from sprechzimmer.accounts.totp import code_now


class Command(BaseCommand):
    help = "Prints the current TOTP code of a demo user (the demo practice only)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, email, **options):
        authenticator = Authenticator.objects.filter(
            user__email__iexact=email, user__organisation__bsnr=DEMO_BSNR, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            raise CommandError("Kein Demo-Benutzer mit dieser E-Mail-Adresse.")
        self.stdout.write(code_now(get_adapter().decrypt(authenticator.data["secret"])))
