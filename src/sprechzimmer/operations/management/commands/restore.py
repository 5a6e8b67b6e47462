from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sprechzimmer.core.formats import number
from sprechzimmer.operations import backup


class Command(BaseCommand):
    help = (
        "Stellt eine Sicherung von `sprechzimmer backup` in die konfigurierte, leere Datenbank und leere "
        "Dateiverzeichnisse wieder her und migriert sie auf diese Version (docs/operations.md). Der Server "
        "läuft dabei nicht; danach braucht er dieselben Schlüssel wie bei der Sicherung."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="Verzeichnis einer Sicherung")

    def handle(self, *args, source: Path, **options):
        try:
            result = backup.restore(source)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        counts = ", ".join(f"{number(n, 0)} Datei(en) in {name}/" for name, n in result.files.items())
        migrated = " und auf diese Version migriert" if result.migrated else ""
        self.stdout.write(
            f"Sicherung aus {result.path} wiederhergestellt ({result.engine}): Datenbank, {counts}{migrated}."
        )
