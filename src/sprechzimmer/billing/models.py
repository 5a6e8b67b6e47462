"""Stored quarter reports of the EBM 4.3.1 check (one per practice and quarter)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation


class QuarterReport(models.Model):
    """The result of checking one quarter's billing file. Holds no patient data: the browser blanks
    names, addresses and diagnoses before upload and the reader refuses a file that still has them;
    what stays is the practice's case number (field 3000), GOPs, dates and LANRs."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="quarter_reports")
    year = models.PositiveSmallIntegerField()
    number = models.PositiveSmallIntegerField()
    ruleset = models.CharField(max_length=40)
    filename = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    cases = models.PositiveIntegerField()
    counted_cases = models.PositiveIntegerField()
    video_only_cases = models.PositiveIntegerField()
    limit = models.DecimalField(max_digits=4, decimal_places=3, null=True)  # None: cap suspended
    errors = models.PositiveIntegerField()
    report = models.JSONField()  # the JSON contract of docs/ebm.md, cases with findings only

    class Meta:
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year", "number"], name="one_report_per_quarter")
        ]

    def __str__(self) -> str:
        return f"EBM-Prüfung {self.number}/{self.year} ({self.organisation})"

    @property
    def quarter_label(self) -> str:
        return f"{self.number}/{self.year}"

    @property
    def share(self):
        return self.video_only_cases / self.counted_cases if self.counted_cases else 0.0
