"""Call metadata older than the retention period is deleted by the daily command (A8)."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from sprechzimmer.video.models import CallSession, VideoContact
from tests.video.helpers import video_practice


def test_purge_metadata_deletes_only_old_call_sessions(db, settings):
    settings.METADATA_RETENTION_DAYS = 90
    _, doctor, appointment, _ = video_practice("Praxis Archiv")
    old = CallSession.objects.create(appointment=appointment, admitted_at=timezone.now() - timedelta(days=91))
    recent = CallSession.objects.create(appointment=appointment, admitted_at=timezone.now() - timedelta(days=89))
    contact = VideoContact.objects.create(organisation=appointment.organisation, appointment=appointment,
                                          doctor=doctor, started_at=old.admitted_at, duration_seconds=600)
    out = StringIO()
    call_command("purge_metadata", stdout=out)
    assert "1 Verbindungsdatensätze" in out.getvalue()
    assert not CallSession.objects.filter(pk=old.pk).exists()
    assert CallSession.objects.filter(pk=recent.pk).exists()
    # Video contacts are the practice's billing records, not provider metadata.
    assert VideoContact.objects.filter(pk=contact.pk).exists()
