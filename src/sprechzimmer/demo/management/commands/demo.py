from django.core.management.base import BaseCommand
from django.db import transaction

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.contracts.domain import Plan
from sprechzimmer.contracts.models import Contract
from sprechzimmer.demo import keys as demo_keys
from sprechzimmer.demo import provisioning
from sprechzimmer.demo.data import DEMO_BSNR, DEMO_K_ARZT, DEMO_KV_STAFF, DEMO_PASSWORD, DEMO_SUBSTITUTE, DEMO_USERS
from sprechzimmer.records.models import EncryptedRecord


class Command(BaseCommand):
    help = "Creates the demo practice with real keys and an encrypted note (does nothing if it exists)."

    def handle(self, *args, **options):
        if Organisation.objects.filter(bsnr=DEMO_BSNR).exists():
            self.stdout.write("Demo-Praxis ist bereits vorhanden.")
            return
        with transaction.atomic():
            (email, name, role, lanr, secret), *others = DEMO_USERS
            organisation, main, practice_key, recovery = provisioning.create_practice(
                name="Hausarztpraxis Dr. Demo",
                bsnr=DEMO_BSNR,
                main_email=email,
                main_name=name,
                password=DEMO_PASSWORD,
                lanr=lanr,
                role=role,
            )
            provisioning.enable_totp(main, secret)
            # plus, so that every feature (screen sharing, conferences …) can be tried in the demo
            Contract.objects.create(organisation=organisation, plan=Plan.PLUS)
            doctor = main
            for email, name, role, lanr, secret in others:
                member = provisioning.add_member(
                    organisation,
                    email=email,
                    name=name,
                    password=DEMO_PASSWORD,
                    role=role,
                    lanr=lanr,
                    practice_key=practice_key,
                )
                member.key_granted_by = main
                member.save(update_fields=["key_granted_by"])
                provisioning.enable_totp(member, secret)
            kind = "practice-note"
            EncryptedRecord.objects.create(
                organisation=organisation,
                kind=kind,
                updated_by=main,
                ciphertext=demo_keys.encrypt_record(
                    practice_key,
                    demo_keys.record_context(organisation.pk, kind),
                    {
                        "text": "Willkommen in der Demo-Praxis. Diese Notiz ist Ende-zu-Ende-verschlüsselt: "
                        "der Server speichert nur Geheimtext."
                    },
                ),
            )
        from sprechzimmer.demo import duty as duty_demo

        duty_demo.create(doctor)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo-Praxis angelegt. Anmeldung: {', '.join(u[0] for u in DEMO_USERS)} / {DEMO_PASSWORD}\n"
                f"Bereitschaftsdienst: {DEMO_KV_STAFF[0]} (KV), {DEMO_K_ARZT[0]} (K-Arzt), {DEMO_SUBSTITUTE[0]}\n"
                f"Zweiter Faktor: `sprechzimmer totp E-MAIL` zeigt den aktuellen Code.\n"
                f"Wiederherstellungsschlüssel der Demo-Praxis: {recovery}"
            )
        )
