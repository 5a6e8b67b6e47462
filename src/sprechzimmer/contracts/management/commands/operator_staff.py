"""``sprechzimmer operator_staff EMAIL``: an account of the operator for the back office (/betrieb/).

The login page never sends a password, only the secret the browser derives from it (docs/e2ee.md),
so the account is made the same way: the password typed here is derived with the same scheme and
only Django's hash of the derived secret is stored. The account belongs to no practice; at its
first login it enrols a second factor like every account.
"""

from __future__ import annotations

import getpass
import sys

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand, CommandError

from sprechzimmer.accounts.models import User


class Command(BaseCommand):
    help = "Legt ein Konto des Betreibers für das Backoffice (/betrieb/) an."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="Betrieb")
        parser.add_argument("--password-stdin", action="store_true", help="Passwort aus der ersten Zeile der Eingabe")

    def handle(self, email, name, password_stdin, **options):
        # The same derivation the browser runs (demo/keys.py writes it in Python for fixtures).
        from sprechzimmer.demo.keys import derive_login_secrets

        email = email.strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError("Mit dieser E-Mail-Adresse besteht bereits ein Benutzerkonto.")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Passwort: ")
            if getpass.getpass("Passwort wiederholen: ") != password:
                raise CommandError("Die Passwörter stimmen nicht überein.")
        if len(password) < 10:
            raise CommandError("Das Passwort muss mindestens 10 Zeichen lang sein.")
        auth_secret, _ = derive_login_secrets(email, password)
        user = User.objects.create_user(email, auth_secret, full_name=name, is_staff=True)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        self.stdout.write(f"Konto {email} für das Backoffice angelegt.")
