from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand
from django.db import transaction

from sprechzimmer.accounts import mfa_adapter
from sprechzimmer.api import webhooks


class Command(BaseCommand):
    help = (
        "Verschlüsselt die TOTP-Geheimnisse und Wiederherstellungscodes mit dem ersten Schlüssel aus MFA_KEYS "
        "und die Webhook-Schlüssel mit dem ersten aus WEBHOOK_KEYS neu (nach dem Voranstellen eines neuen "
        "Schlüssels; docs/operations.md)."
    )

    def handle(self, **options):
        with transaction.atomic():
            changed = mfa_adapter.rotate(Authenticator.objects.select_for_update().order_by("pk"))
        self.stdout.write(f"{changed} Zweitfaktor(en) mit dem aktuellen Schlüssel neu verschlüsselt.")
        with transaction.atomic():
            hooks = webhooks.rotate()
        self.stdout.write(f"{hooks} Webhook-Schlüssel mit dem aktuellen Schlüssel neu verschlüsselt.")
