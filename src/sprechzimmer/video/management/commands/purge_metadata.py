from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand
from django.utils import timezone

from sprechzimmer.api.models import WebhookDelivery
from sprechzimmer.approval.models import OperatorCertificate
from sprechzimmer.duty import documents
from sprechzimmer.duty.models import ApplicationDocument
from sprechzimmer.invitations.models import OutgoingMessage
from sprechzimmer.video import services


class Command(BaseCommand):
    help = (
        "Löscht Verbindungsdaten, die älter als METADATA_RETENTION_DAYS sind (Anlage 31b A8: höchstens drei "
        "Monate), Versanddaten von Einladungen und Erinnerungen und Webhook-Zustellungen ebenso alt, abgelaufene Sitzungen und verwaiste verschlüsselte Dokumentdateien. Täglich ausführen (docs/operations.md)."
    )

    def handle(self, *args, **options):
        cut_off = timezone.now() - timedelta(days=settings.METADATA_RETENTION_DAYS)
        deleted = services.delete_old_metadata(cut_off)
        self.stdout.write(f"{deleted} Verbindungsdatensätze vor {cut_off:%d.%m.%Y} gelöscht.")
        messages, _ = OutgoingMessage.objects.filter(due_at__lt=cut_off).delete()
        if messages:
            self.stdout.write(f"{messages} Versanddatensätze von Einladungen und Erinnerungen gelöscht.")
        deliveries, _ = WebhookDelivery.objects.filter(created_at__lt=cut_off).delete()
        if deliveries:
            self.stdout.write(f"{deliveries} Webhook-Zustellungen gelöscht.")
        # Django keeps an expired session's row (the user, the device, when the second factor was
        # last given) until someone deletes it; nothing else does.
        sessions, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
        if sessions:
            self.stdout.write(f"{sessions} abgelaufene Sitzung(en) gelöscht.")
        referenced = set(ApplicationDocument.objects.values_list("stored_name", flat=True))
        referenced |= set(OperatorCertificate.objects.values_list("stored_name", flat=True))
        orphans = documents.delete_orphans(referenced)
        if orphans:
            self.stdout.write(f"{orphans} verwaiste Dokumentdatei(en) gelöscht.")
