"""Checking an uploaded quarter file and storing its report: one path for the practice's page
(billing/views.upload, the browser pseudonymises first) and the API (POST /api/v1/billing-checks,
the client must send a file without patient data, like the browser does; the reader refuses one
that still has it)."""

from __future__ import annotations

from decimal import Decimal
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .domain.model import BillingError, Quarter
from .domain.report import report_dict
from .domain.run import CheckRun
from .models import QuarterReport


class UploadRefused(Exception):
    """A German message for the uploader; nothing was stored."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_upload(organisation, upload, raw_quarter: str, user) -> QuarterReport:
    """Checks the uploaded file (a Django ``UploadedFile``) and stores its report, replacing the
    quarter's earlier one. Raises ``UploadRefused`` for a missing, empty, too large or unreadable
    file, before anything is stored."""
    if upload is None:
        raise UploadRefused("Bitte wählen Sie eine Quartalsdatei (KVDT .con oder JSON-Fallformat).")
    if upload.size == 0:
        raise UploadRefused("Die Datei ist leer.")
    if upload.size > settings.EBM_UPLOAD_MAX_BYTES:
        raise UploadRefused(f"Die Datei ist größer als {settings.EBM_UPLOAD_MAX_BYTES // (1024 * 1024)} MB.")
    with upload.open("rb") as stream:
        return check_stream(organisation, stream, (upload.name or "")[:200], raw_quarter, user)


def check_stream(organisation, stream: IO[bytes], filename: str, raw_quarter: str, user) -> QuarterReport:
    raw_quarter = (raw_quarter or "").strip()
    try:
        quarter = Quarter.parse(raw_quarter) if raw_quarter else None
        if quarter is not None and quarter.first_day > timezone.localdate():
            raise BillingError(f"Das Quartal {quarter} hat noch nicht begonnen.")
        run = CheckRun(stream, quarter=quarter, privacy=True, window=None)
        report = report_dict(run, only_findings=True)
    except BillingError as exc:
        raise UploadRefused(f"Die Datei wurde nicht übernommen. {exc}") from None
    stated = run.stated_quarter
    if quarter is not None and stated is not None and stated != quarter:
        # A report titled 2/2099 over a file of 3/2026 would be checked under the wrong rule set and
        # stay in the list of checked quarters. A file without 9204 takes the quarter given.
        raise UploadRefused(
            f"Die Datei wurde nicht übernommen. Sie ist die Abrechnung des Quartals {stated} (Feld 9204), "
            f"eingetragen ist {quarter}. Bitte lassen Sie das Feld „Quartal“ leer oder tragen Sie {stated} ein."
        )
    totals = report["totals"]
    limit = report["caps"][0]["limit"] if report["caps"] else None
    with transaction.atomic():
        saved, _ = QuarterReport.objects.update_or_create(
            organisation=organisation,
            year=run.quarter.year,
            number=run.quarter.number,
            defaults={
                "ruleset": report["ruleset"],
                "filename": filename,
                "uploaded_by": user,
                "uploaded_at": timezone.now(),  # a new upload for the quarter replaces the report, its time too
                "cases": totals["cases"],
                "counted_cases": totals["counted_cases"],
                "video_only_cases": totals["counted_video_only_cases"],
                "limit": Decimal(limit) if limit is not None else None,
                "errors": totals["findings"]["error"],
                "report": report,
            },
        )
    return saved
