"""Emergency duty (Ärztlicher Bereitschaftsdienst): areas, doctors, plans, duties.

Every row hangs off a KV (an Organisation of kind KV) so that each query can be scoped to the
KV of the user asking. Doctors (obliged contract doctors and volunteering K-Ärzte) have their own
logins and a ``DutyDoctor`` profile with the KV that plans them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from sprechzimmer.accounts.models import Organisation
from sprechzimmer.duty.domain.calendar import BERLIN, HOLIDAY, WEEKDAY, WEEKEND, DutyTimes


class Area(models.Model):
    """Notfalldienstbereich: one planning unit with its Notfallpraxen and duty times."""

    kv = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="duty_areas")
    name = models.CharField("Name", max_length=200)
    state = models.CharField("Bundesland (Feiertage)", max_length=2, default="BW")
    weekday_start = models.TimeField("Beginn Mo/Di/Do", default=dt.time(18))
    wednesday_start = models.TimeField("Beginn Mittwoch", default=dt.time(13))
    friday_start = models.TimeField("Beginn Freitag", default=dt.time(16))
    rest_hours = models.PositiveSmallIntegerField("Ruhezeit zwischen zwei Diensten (Stunden)", default=24)
    max_blocked_days = models.PositiveSmallIntegerField("Sperrtage je Jahr höchstens", default=40)
    giveback_days = models.PositiveSmallIntegerField("Rückgabe bis Tage vor Dienstbeginn", default=14)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmergencyPractice(models.Model):
    """Notfallpraxis of an area."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="practices")
    name = models.CharField("Name", max_length=200)
    address = models.CharField("Anschrift", max_length=300)
    bsnr = models.CharField("BSNR", max_length=9)

    def __str__(self) -> str:
        return self.name


class DutyType(models.Model):
    """Dienstart of an area: Sitzdienst (in a Notfallpraxis), Fahrdienst (home visits) or
    Video-Bereitschaftsdienst (the area's video waiting room, docs/duty.md "Video duty"; its
    Notfallpraxis names the BSNR its contacts are billed under)."""

    class Kind(models.TextChoices):
        SITTING = "sitting", "Sitzdienst"
        DRIVING = "driving", "Fahrdienst"
        VIDEO = "video", "Video-Bereitschaftsdienst"

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="duty_types")
    kind = models.CharField("Art", max_length=10, choices=Kind.choices)
    practice = models.ForeignKey(EmergencyPractice, null=True, blank=True, on_delete=models.SET_NULL)
    # Own evening starts of this duty type (e.g. a Notfallpraxis opening later); empty = the area's.
    weekday_start = models.TimeField("Beginn Mo/Di/Do", null=True, blank=True)
    wednesday_start = models.TimeField("Beginn Mittwoch", null=True, blank=True)
    friday_start = models.TimeField("Beginn Freitag", null=True, blank=True)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()

    def times(self) -> DutyTimes:
        area = self.area
        weekday = self.weekday_start or area.weekday_start
        return DutyTimes(
            {
                0: weekday,
                1: weekday,
                2: self.wednesday_start or area.wednesday_start,
                3: weekday,
                4: self.friday_start or area.friday_start,
            },
            area.state,
        )

    @property
    def place(self) -> str:
        if self.practice:
            return str(self.practice)
        if self.kind == self.Kind.VIDEO:
            return f"Video-Wartezimmer {self.area}"
        return f"Fahrdienst {self.area}"


class DutyDoctor(models.Model):
    """A doctor who serves duties: obliged (Vertragsarzt, planned) or a K-Arzt (takes open duties)."""

    class Kind(models.TextChoices):
        OBLIGED = "obliged", "zum Dienst verpflichtet"
        COOPERATING = "cooperating", "Kooperationsarzt (K-Arzt)"

    kv = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="duty_doctors")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="duty_profile")
    kind = models.CharField("Teilnahme", max_length=12, choices=Kind.choices, default=Kind.OBLIGED)
    area = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="doctors",
        help_text="Bereich, in dem verpflichtete Ärzte eingeteilt werden",
    )
    weight = models.DecimalField(
        "Gewicht",
        max_digits=4,
        decimal_places=2,
        default=Decimal(1),
        help_text="1,0 voller Versorgungsauftrag, 0,75, 0,5 …",
    )
    # NFD-Z (seed 004): further areas an obliged doctor may be planned in by the KV-wide planning,
    # which splits their weight among their areas (docs/duty.md, "A whole KV").
    extra_areas = models.ManyToManyField(
        Area,
        blank=True,
        related_name="extra_doctors",
        verbose_name="Auch einsetzbar in",
    )
    qualifications = models.JSONField("Qualifiziert für", default=list)  # DutyType.Kind values; [] = all
    preferred_weekdays = models.JSONField("Wunsch-Wochentage", default=list)  # 0 = Monday
    preferred_kinds = models.JSONField("Wunsch-Dienstarten", default=list)
    balance_hours = models.DecimalField("Saldo Stunden", max_digits=8, decimal_places=2, default=Decimal(0))
    balance_special = models.DecimalField(
        "Saldo Wochenend-/Feiertagsdienste", max_digits=6, decimal_places=2, default=Decimal(0)
    )
    ical_token_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["user__full_name"]

    def __str__(self) -> str:
        return self.user.full_name or self.user.email

    @property
    def lanr(self) -> str:
        return self.user.lanr

    @property
    def is_cooperating(self) -> bool:
        return self.kind == self.Kind.COOPERATING

    @property
    def agreement_ends(self):
        """A K-Arzt's last day once their notice is recorded (Notice.ends), else None."""
        notice = getattr(self, "notice", None) if self.is_cooperating else None
        return notice.ends if notice is not None else None

    @property
    def blocked_days_limit(self) -> int:
        """Blocked days a year: the home area's limit (K-Ärzte have none: the field's default)."""
        if self.area is not None:
            return self.area.max_blocked_days
        return Area._meta.get_field("max_blocked_days").default


class DutyInvitation(models.Model):
    """KV staff ask a person by e-mail to take part in their duty planning; only the person's own
    consent enters them (duty/enrolment.py). The link's token is stored as a digest."""

    kv = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="duty_invitations")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("E-Mail-Adresse")
    kind = models.CharField(max_length=12, choices=DutyDoctor.Kind.choices, default=DutyDoctor.Kind.OBLIGED)
    weight = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal(1))
    qualifications = models.JSONField(default=list)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Einladung an {self.email} ({self.kv})"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class BlockedDay(models.Model):
    """Sperrtag: no duty starts on this day."""

    doctor = models.ForeignKey(DutyDoctor, on_delete=models.CASCADE, related_name="blocked_days")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["doctor", "day"], name="blocked_day_once")]
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.doctor}: {self.day:%d.%m.%Y} gesperrt"


class Plan(models.Model):
    """A duty plan of one area for a period; a draft until staff publish it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Entwurf"
        PUBLISHED = "published", "veröffentlicht"

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="plans")
    first = models.DateField("von")
    last = models.DateField("bis")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    report = models.JSONField(default=dict)  # the planner's explanation (targets, balances, spread)
    # What re-creates the solver's last result (plans.recreate): its whole input (duties, doctors
    # with weights, qualifications, blocked days, wishes and balances as they were, pinned duties,
    # the previous draft, the rules with seed and deterministic budget), the planner and OR-Tools
    # versions, and the assignment it returned.
    planning_record = models.JSONField(
        default=dict, blank=True, db_default=models.Value({}, output_field=models.JSONField())
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-first"]

    def __str__(self) -> str:
        return f"{self.area}: {self.first:%d.%m.%Y} – {self.last:%d.%m.%Y}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class KvPlanningRun(models.Model):
    """A KV-wide planning of a period, run by the task queue (duty/kvruns.py): a draft plan per area
    of the KV, cross-area doctors planned over all their areas. Progress and outcome for the staff."""

    class Status(models.TextChoices):
        QUEUED = "queued", "wartet auf den Start"
        RUNNING = "running", "läuft"
        DONE = "done", "fertig"
        FAILED = "failed", "fehlgeschlagen"

    kv = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="duty_planning_runs")
    first = models.DateField("von")
    last = models.DateField("bis")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    areas_total = models.PositiveIntegerField(default=0)
    areas_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)  # German, for the staff: why it failed, or what a finished run left out
    plans = models.ManyToManyField(Plan, blank=True, related_name="planning_runs")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Planung {self.kv}: {self.first:%d.%m.%Y} – {self.last:%d.%m.%Y}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class Duty(models.Model):
    """One duty of a plan.

    ``doctor`` is responsible for it (planned, or took it in the exchange) and the services are
    billed under their LANR. A ``substitute`` (Vertreter) serves in their place after accepting;
    billing stays with ``doctor``. ``offered`` puts it into the exchange while ``doctor`` remains
    responsible until someone takes it; a duty without ``doctor`` is open to all.
    """

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "eingeteilt"
        OFFERED = "offered", "in der Dienstbörse angeboten"
        OPEN = "open", "offen"

    KIND_CHOICES = [(WEEKDAY, "Wochentag"), (WEEKEND, "Wochenende"), (HOLIDAY, "Feiertag")]

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="duties")
    duty_type = models.ForeignKey(DutyType, on_delete=models.PROTECT, related_name="duties")
    day = models.DateField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    holiday = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ASSIGNED)
    doctor = models.ForeignKey(DutyDoctor, null=True, blank=True, on_delete=models.SET_NULL, related_name="duties")
    substitute = models.ForeignKey(
        DutyDoctor, null=True, blank=True, on_delete=models.SET_NULL, related_name="substitute_duties"
    )
    pending_substitute = models.ForeignKey(
        DutyDoctor, null=True, blank=True, on_delete=models.SET_NULL, related_name="handover_requests"
    )
    pinned = models.BooleanField(default=False)  # a manual decision of the staff, kept on re-solving
    # Stated by the serving doctor after the duty: no GKV patient came, so a pseudo case is billed.
    without_gkv_patients = models.BooleanField(default=False)

    class Meta:
        ordering = ["start", "duty_type__kind"]
        constraints = [models.UniqueConstraint(fields=["plan", "duty_type", "day"], name="one_duty_per_type_and_day")]

    def __str__(self) -> str:
        return f"{self.get_type_label()} {self.local_start:%d.%m.%Y %H:%M}"

    @classmethod
    def from_slot(cls, plan: Plan, duty_type: DutyType, slot, **fields) -> Duty:
        """An unsaved duty of ``plan`` for a calendar slot (``domain.calendar.DutySlot``)."""
        return cls(
            plan=plan,
            duty_type=duty_type,
            day=slot.day,
            start=slot.start,
            end=slot.end,
            kind=slot.kind,
            holiday=slot.holiday,
            **fields,
        )

    def get_type_label(self) -> str:
        return self.duty_type.get_kind_display()

    @property
    def hours(self) -> Decimal:
        return Decimal(int((self.end - self.start).total_seconds())) / 3600

    @property
    def local_start(self) -> dt.datetime:
        return self.start.astimezone(BERLIN)

    @property
    def local_end(self) -> dt.datetime:
        return self.end.astimezone(BERLIN)

    @property
    def serving(self) -> DutyDoctor | None:
        return self.substitute or self.doctor

    @property
    def billing_lanr(self) -> str:
        return self.doctor.lanr if self.doctor else ""


class SwapOffer(models.Model):
    """Tauschangebot: ``doctor`` offers their duty ``offered`` for the duty ``wanted`` of ``partner``
    (who accepts or declines), or, with neither, to the exchange for any duty in return (colleagues
    answer with a ``SwapProposal``, ``doctor`` accepts one). Both duties change hands in one
    transaction under the hard rules of taking a duty (duty/swaps.py)."""

    class Status(models.TextChoices):
        OPEN = "open", "offen"
        DONE = "done", "getauscht"
        DECLINED = "declined", "abgelehnt"
        WITHDRAWN = "withdrawn", "zurückgezogen"
        VOID = "void", "hinfällig"  # one of its duties changed hands otherwise

    doctor = models.ForeignKey(DutyDoctor, on_delete=models.CASCADE, related_name="swap_offers")
    offered = models.ForeignKey(Duty, on_delete=models.CASCADE, related_name="swap_offers")
    partner = models.ForeignKey(
        DutyDoctor, null=True, blank=True, on_delete=models.CASCADE, related_name="swap_requests"
    )
    wanted = models.ForeignKey(Duty, null=True, blank=True, on_delete=models.CASCADE, related_name="swap_wanted")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Tausch {self.offered} gegen {self.wanted or 'beliebigen Dienst'}"


class SwapProposal(models.Model):
    """A colleague's answer to an open swap offer (``wanted`` empty): one of their duties in return."""

    offer = models.ForeignKey(SwapOffer, on_delete=models.CASCADE, related_name="proposals")
    doctor = models.ForeignKey(DutyDoctor, on_delete=models.CASCADE, related_name="swap_proposals")
    duty = models.ForeignKey(Duty, on_delete=models.CASCADE, related_name="swap_proposals")
    status = models.CharField(max_length=10, choices=SwapOffer.Status.choices, default=SwapOffer.Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Vorschlag {self.duty} für {self.offer}"


# --- K-Ärzte: application, pay (issue 6) --------------------------------------------------------


class CooperationApplication(models.Model):
    """Antrag auf Teilnahme als Kooperationsarzt (K-Arzt). The applicant has no account: a secret
    link (token, stored as a digest) opens their application. Document facts (dates, certified
    copy, amounts) are entered by the applicant and checked by the staff against the uploads."""

    class Status(models.TextChoices):
        DRAFT = "draft", "in Bearbeitung"
        SUBMITTED = "submitted", "eingereicht"
        APPROVED = "approved", "angenommen"
        REJECTED = "rejected", "abgelehnt"

    #: not decided yet: the applicant may still change it
    OPEN = (Status.DRAFT, Status.SUBMITTED)

    kv = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="cooperation_applications")
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    #: why the KV rejected it, as the applicant was told by mail
    rejection_reason = models.TextField("Grund der Ablehnung", max_length=2000, blank=True, default="", db_default="")

    full_name = models.CharField("Name", max_length=200)
    email = models.EmailField("E-Mail-Adresse")
    birth_date = models.DateField("Geburtsdatum")
    existing_lanr = models.CharField("Vorhandene LANR", max_length=9, blank=True)
    areas = models.ManyToManyField(Area, blank=True, verbose_name="Gewünschte Notfalldienstbereiche")
    former_pool_doctor = models.BooleanField("Ich war früher Poolarzt/Poolärztin der KV", default=False)
    changed_since_pool = models.JSONField(default=list)  # ANLAGEN keys
    approbation_issued = models.DateField("Approbation: Datum der Beglaubigung", null=True, blank=True)
    approbation_certified = models.BooleanField("Approbation als amtlich beglaubigte Abschrift", default=False)
    specialist_issued = models.DateField("Facharzturkunde: Datum der Beglaubigung", null=True, blank=True)
    specialist_certified = models.BooleanField("Facharzturkunde als amtlich beglaubigte Abschrift", default=False)
    last_training_year = models.BooleanField("Ich bin im letzten Jahr der Weiterbildung", default=False)
    clinical_months = models.PositiveSmallIntegerField("Monate klinischer Tätigkeit", default=0)
    police_issued = models.DateField("Führungszeugnis: Ausstellungsdatum", null=True, blank=True)
    police_type_n_original = models.BooleanField("Privatführungszeugnis Belegart N im Original", default=False)
    liability_personal = models.DecimalField(
        "Deckungssumme Personenschäden (€)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    liability_property = models.DecimalField(
        "Deckungssumme Sachschäden (€)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    agreement_copies_received = models.PositiveSmallIntegerField(
        "Kooperationsvereinbarung: Originale eingegangen", default=0
    )
    doctor = models.OneToOneField(
        DutyDoctor, null=True, blank=True, on_delete=models.SET_NULL, related_name="application"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Antrag {self.full_name}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class ApplicationDocument(models.Model):
    """One uploaded Anlage, encrypted at rest in DOCUMENTS_DIR (duty/documents.py)."""

    application = models.ForeignKey(CooperationApplication, on_delete=models.CASCADE, related_name="documents")
    anlage = models.CharField(max_length=20)  # key of cooperation.ANLAGEN
    label = models.CharField(max_length=200, blank=True)  # Anlage 6: the device
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    stored_name = models.CharField(max_length=100)  # relative to DOCUMENTS_DIR
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["anlage", "uploaded_at"]

    def __str__(self) -> str:
        return f"Anlage {self.anlage} ({self.filename})"


class MissedDuty(models.Model):
    """A duty not served and no substitute named: the flat fee is due (recorded by the staff)."""

    duty = models.OneToOneField(Duty, on_delete=models.CASCADE, related_name="missed")
    doctor = models.ForeignKey(DutyDoctor, on_delete=models.CASCADE, related_name="missed_duties")
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Nichtantritt: {self.duty}"


class StatementMail(models.Model):
    """The pay statement mail a K-Arzt got for a month (``duty_statements``), with the payout it named:
    a second run of the command mails only those whose statement changed since (e.g. a missed duty
    recorded later), and says that it is an update."""

    doctor = models.ForeignKey(DutyDoctor, on_delete=models.CASCADE, related_name="statement_mails")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    payout = models.DecimalField(max_digits=10, decimal_places=2)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["doctor", "year", "month"], name="one_statement_mail_per_month")]

    def __str__(self) -> str:
        return f"Abrechnung {self.month:02d}/{self.year} an {self.doctor}"


class Notice(models.Model):
    """Kündigung of a K-Arzt's cooperation agreement, in writing: ends six weeks to a month end."""

    doctor = models.OneToOneField(DutyDoctor, on_delete=models.CASCADE, related_name="notice")
    received = models.DateField("Eingang der Kündigung")
    ends = models.DateField("Ende der Kooperation")
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Kündigung von {self.doctor} zum {self.ends:%d.%m.%Y}"


class QuarterRevenue(models.Model):
    """EBM revenue per doctor (LANR) from a Notfallpraxis's quarter file, for the half-year bonus.
    Only the figures are kept: the file itself is checked and dropped (patient fields never arrive,
    the browser strips them)."""

    practice = models.ForeignKey(EmergencyPractice, on_delete=models.CASCADE, related_name="revenues")
    year = models.PositiveSmallIntegerField()
    number = models.PositiveSmallIntegerField()
    lanr = models.CharField(max_length=9)
    cases = models.PositiveIntegerField()
    points_x100 = models.BigIntegerField()
    revenue = models.DecimalField(max_digits=12, decimal_places=2)
    filename = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "-number", "practice__name", "lanr"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "year", "number", "lanr"], name="one_revenue_per_practice_quarter_lanr"
            )
        ]

    def __str__(self) -> str:
        return f"Umsatz {self.number}/{self.year} LANR {self.lanr}"


class DutyTerms(models.Model):
    """The K-Arzt terms a KV decided, from a date on (seed 004: 50 €/h since 6 March 2024, 1 000 €
    per missed duty, 50 % bonus share, six weeks' notice). Without rows the seed's terms apply.
    New terms start today or later, so past statements never change."""

    kv = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="duty_terms")
    valid_from = models.DateField("gültig ab")
    hourly_rate = models.DecimalField("Stundensatz (€ brutto)", max_digits=7, decimal_places=2)
    missed_duty_fee = models.DecimalField("Pauschale bei Nichtantritt (€)", max_digits=8, decimal_places=2)
    bonus_share = models.DecimalField("Bonusanteil (0,5 = 50 %)", max_digits=4, decimal_places=3)
    notice_weeks = models.PositiveSmallIntegerField("Kündigungsfrist (Wochen zum Monatsende)")

    class Meta:
        ordering = ["valid_from"]
        constraints = [models.UniqueConstraint(fields=["kv", "valid_from"], name="one_terms_per_kv_and_day")]

    def __str__(self) -> str:
        return f"Sätze ab {self.valid_from:%d.%m.%Y} ({self.kv})"


@receiver(post_delete, sender=ApplicationDocument)
def _delete_document_file(sender, instance, **kwargs):
    """A deleted document's encrypted file goes too, once the deletion is committed."""
    from sprechzimmer.duty import documents

    stored = instance.stored_name
    transaction.on_commit(lambda: documents.delete(stored))


class VideoReferral(models.Model):
    """A patient the area's triage (the KV's dispatcher) sends to the video duty: an appointment of the
    KV's video waiting room with its own access code. Nothing about the patient is stored, not even
    encrypted (docs/e2ee.md, "Video duty"): the doctor on duty learns who it is in the call."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="video_referrals")
    appointment = models.OneToOneField("video.Appointment", on_delete=models.CASCADE, related_name="duty_referral")
    number = models.PositiveIntegerField()  # "Fall 3": counts per area and day, named on the pages
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # The duty doctor who admitted the patient (their LANR goes on the Schein), set at admission.
    served_by = models.ForeignKey(
        DutyDoctor, null=True, blank=True, on_delete=models.SET_NULL, related_name="video_referrals"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Fall {self.number} im Video-Bereitschaftsdienst {self.area}"
