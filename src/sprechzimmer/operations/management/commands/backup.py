from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sprechzimmer.core.formats import number
from sprechzimmer.operations import backup


class Command(BaseCommand):
    help = (
        "Sichert Datenbank, K-Arzt-Dokumente und Rechnungsdateien in ein neues Verzeichnis, während der "
        "Server läuft (docs/operations.md, „Sicherungen“). Die Schlüssel aus der Umgebung gehören nicht "
        "hinein: bewahren Sie sie getrennt auf."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", type=Path, help="neues oder leeres Verzeichnis für die Sicherung")

    def handle(self, *args, target: Path, **options):
        try:
            result = backup.create(target)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        counts = ", ".join(f"{number(n, 0)} Datei(en) in {name}/" for name, n in result.files.items())
        self.stdout.write(f"Sicherung ({result.engine}) in {result.path}: Datenbank, {counts}.")
        self.stdout.write(
            "Nicht enthalten: SECRET_KEY, MFA_KEYS, DOCUMENT_KEY und WEBHOOK_KEYS. Ohne sie lässt sich die "
            "Sicherung nicht vollständig nutzen; bewahren Sie sie getrennt von ihr auf."
        )
