from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from sprechzimmer.video import services


class Command(BaseCommand):
    help = ("Deletes call metadata older than METADATA_RETENTION_DAYS (Anlage 31b A8: three months at "
            "most). Run daily, e.g. from a systemd timer or cron (docs/operations.md).")

    def handle(self, *args, **options):
        cut_off = timezone.now() - timedelta(days=settings.METADATA_RETENTION_DAYS)
        deleted = services.delete_old_metadata(cut_off)
        self.stdout.write(f"{deleted} Verbindungsdatensätze vor {cut_off:%d.%m.%Y} gelöscht.")
