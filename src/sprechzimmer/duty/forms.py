"""Forms of the duty pages; German messages, nothing saved unless all of it is valid."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from sprechzimmer.core import formats
from sprechzimmer.duty.domain.calendar import DAY_START
from sprechzimmer.duty.models import Area, DutyDoctor, DutyType
from sprechzimmer.inputs import ModelIdsField

WEEKDAYS = [
    (0, "Montag"),
    (1, "Dienstag"),
    (2, "Mittwoch"),
    (3, "Donnerstag"),
    (4, "Freitag"),
    (5, "Samstag"),
    (6, "Sonntag"),
]


def _not_before_day_start(value: dt.time | None) -> None:
    if value is not None and value < DAY_START:
        raise forms.ValidationError(
            f"Ein Dienst endet um {DAY_START:%H:%M} Uhr des Folgetags. Ein Beginn vor {DAY_START:%H:%M} Uhr "
            "überschnitte sich mit dem Dienst der Nacht davor."
        )


def time_field(**kwargs) -> forms.TimeField:
    """An evening start of duties: shown as 18:00, not Django's default 18:00:00 (the hints say "wie
    18:00"), and not before the morning end of the night's duty (07:00 made 25-hour duties that
    overlapped the one before)."""
    return forms.TimeField(widget=forms.TimeInput(format="%H:%M"), validators=[_not_before_day_start], **kwargs)


class PlanForm(forms.Form):
    area = forms.ModelChoiceField(
        label="Bereich",
        queryset=Area.objects.none(),
        error_messages={"invalid_choice": "Bitte wählen Sie einen Bereich Ihrer KV."},
        empty_label="Bitte wählen",
    )
    first = forms.DateField(label="von", widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label="bis", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, kv, **kwargs):
        from django.utils import timezone

        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.filter(kv=kv)
        self.today = timezone.localdate()
        for name in ("first", "last"):  # the browser offers no past day either
            self.fields[name].widget.attrs["min"] = self.today.isoformat()

    def clean(self):
        from sprechzimmer.duty.plans import plan_period_problem

        data = super().clean()
        if data.get("first") and data.get("last"):
            problem = plan_period_problem(data["first"], data["last"], self.today)
            if problem:
                self.add_error(problem[0], problem[1])
        return data


class AreaForm(forms.Form):
    name = forms.CharField(label="Name des Bereichs", max_length=200)
    practice_name = forms.CharField(label="Notfallpraxis", max_length=200)
    practice_address = forms.CharField(label="Anschrift der Notfallpraxis", max_length=300)
    practice_bsnr = forms.RegexField(
        label="BSNR der Notfallpraxis", regex=r"^\d{9}$", error_messages={"invalid": "Die BSNR hat neun Ziffern."}
    )
    with_driving = forms.BooleanField(label="mit Fahrdienst", required=False, initial=True)
    wednesday_start = time_field(label="Beginn Mittwoch", initial=dt.time(13))
    friday_start = time_field(label="Beginn Freitag", initial=dt.time(16))
    rest_hours = forms.IntegerField(label="Ruhezeit (Stunden)", min_value=0, max_value=168, initial=24)


class VideoDutyForm(forms.Form):
    """The Notfallpraxis of an area's video duty: its contacts are billed under this BSNR, in a
    quarter file of their own (docs/duty.md, "Video duty")."""

    practice_name = forms.CharField(label="Name (z. B. Video-Notfallpraxis Stuttgart)", max_length=200)
    practice_bsnr = forms.RegexField(
        label="BSNR des Video-Bereitschaftsdienstes",
        regex=r"^\d{9}$",
        error_messages={"invalid": "Die BSNR hat neun Ziffern."},
    )


class DutyTypeTimesForm(forms.Form):
    """Own evening starts of one duty type; empty fields take the area's times."""

    weekday_start = time_field(
        label="Beginn Mo/Di/Do", required=False, error_messages={"invalid": "Bitte eine Uhrzeit wie 18:00 angeben."}
    )
    wednesday_start = time_field(
        label="Beginn Mittwoch", required=False, error_messages={"invalid": "Bitte eine Uhrzeit wie 13:00 angeben."}
    )
    friday_start = time_field(
        label="Beginn Freitag", required=False, error_messages={"invalid": "Bitte eine Uhrzeit wie 16:00 angeben."}
    )


class DoctorForm(forms.Form):
    email = forms.EmailField(label="E-Mail-Adresse (Zugang des Arztes)")
    kind = forms.ChoiceField(label="Teilnahme", choices=DutyDoctor.Kind.choices)
    weight = forms.DecimalField(label="Gewicht", min_value=0, max_value=2, decimal_places=2, initial=1)
    qualifications = forms.MultipleChoiceField(
        label="Qualifiziert für",
        choices=DutyType.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Nichts angekreuzt: alle Dienstarten.",
    )
    extra_areas = forms.ModelMultipleChoiceField(
        label="Auch einsetzbar in",
        queryset=Area.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=(
            "NFD-Z: weitere Bereiche, in denen die Planung der ganzen KV diese Person einteilen darf; ihr "
            "Gewicht wird auf ihre Bereiche verteilt. Gilt für Eingetragene („Ändern“), nicht für Einladungen."
        ),
        error_messages={"invalid_choice": "Bitte wählen Sie Bereiche Ihrer KV."},
    )

    def __init__(self, *args, kv=None, area=None, **kwargs):
        super().__init__(*args, **kwargs)
        areas = Area.objects.filter(kv=kv) if kv is not None else Area.objects.none()
        self.fields["extra_areas"].queryset = areas.exclude(pk=area.pk) if area is not None else areas


class KvRunForm(forms.Form):
    """A KV-wide planning run: every area of the KV for one period (duty/kvruns.py)."""

    first = forms.DateField(label="von", widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label="bis", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, kv, **kwargs):
        from django.utils import timezone

        super().__init__(*args, **kwargs)
        self.kv = kv
        self.today = timezone.localdate()
        for name in ("first", "last"):
            self.fields[name].widget.attrs["min"] = self.today.isoformat()

    def clean(self):
        from sprechzimmer.duty.kvruns import start_problem

        data = super().clean()
        if data.get("first") and data.get("last"):
            problem = start_problem(self.kv, data["first"], data["last"], today=self.today)
            if problem:
                self.add_error(None, problem)
        return data


class PreferencesForm(forms.Form):
    blocked = forms.CharField(
        label="Sperrtage",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ein Datum je Zeile oder durch Komma getrennt, z. B. 24.12.2026",
    )
    preferred_weekdays = forms.TypedMultipleChoiceField(
        label="Wunsch-Wochentage", choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, required=False
    )
    preferred_kinds = forms.MultipleChoiceField(
        label="Wunsch-Dienstarten", choices=DutyType.Kind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    #: How far ahead a blocked day may lie: the plans of the next two years at most.
    AHEAD = dt.timedelta(days=2 * 366)

    def __init__(self, *args, limit: int, today: dt.date | None = None, saved: frozenset = frozenset(), **kwargs):
        """``saved``: the doctor's blocked days as stored; past ones among them stay in the list."""
        super().__init__(*args, **kwargs)
        self.limit = limit
        self.today = today or dt.date.today()
        self.saved = saved

    def clean_blocked(self) -> list[dt.date]:
        days, wrong = set(), []
        for part in self.cleaned_data["blocked"].replace(",", "\n").split():
            try:
                days.add(dt.datetime.strptime(part.strip(), "%d.%m.%Y").date())
            except ValueError:
                wrong.append(part)
        if wrong:
            raise forms.ValidationError(f"Kein gültiges Datum (TT.MM.JJJJ): {', '.join(wrong[:5])}")
        past = sorted(day for day in days if day < self.today and day not in self.saved)
        if past:
            raise forms.ValidationError(
                f"Diese Tage liegen in der Vergangenheit: {', '.join(formats.date(day) for day in past[:5])}"
            )
        far = sorted(day for day in days if day > self.today + self.AHEAD)
        if far:
            raise forms.ValidationError(
                "Sperrtage lassen sich höchstens zwei Jahre im Voraus eintragen: "
                + ", ".join(formats.date(day) for day in far[:5])
            )
        per_year: dict[int, int] = {}
        for day in days:
            per_year[day.year] = per_year.get(day.year, 0) + 1
        for year, count in sorted(per_year.items()):
            if count > self.limit:
                raise forms.ValidationError(f"Höchstens {self.limit} Sperrtage je Jahr ({year}: {count}).")
        return sorted(days)


class HandoverForm(forms.Form):
    email = forms.EmailField(label="E-Mail-Adresse der Vertretung")


class SwapOfferForm(forms.Form):
    """A swap offer: one's own duty, and either a colleague (e-mail) and the day of their duty
    wanted in return, or neither (any duty in return)."""

    duty = forms.TypedChoiceField(
        label="Mein Dienst",
        coerce=int,
        error_messages={
            "required": "Bitte wählen Sie einen Ihrer Dienste.",
            "invalid_choice": "Bitte wählen Sie einen Ihrer anstehenden Dienste.",
        },
    )
    email = forms.EmailField(
        label="E-Mail-Adresse der Kollegin / des Kollegen",
        required=False,
        error_messages={"invalid": "Bitte geben Sie eine gültige E-Mail-Adresse an."},
    )
    day = forms.DateField(
        label="Tag ihres / seines Dienstes",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Bitte geben Sie den Tag als Datum an (TT.MM.JJJJ)."},
    )

    def __init__(self, *args, duties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duty"].choices = [(d.pk, str(d)) for d in duties]

    def clean(self):
        data = super().clean()
        if bool(data.get("email")) != bool(data.get("day")) and not self.errors:
            raise forms.ValidationError(
                "Für einen bestimmten Dienst im Tausch geben Sie E-Mail-Adresse und Tag an; "
                "für einen beliebigen Dienst lassen Sie beide leer."
            )
        return data


class SwapProposalForm(forms.Form):
    duty = forms.TypedChoiceField(
        label="Mein Dienst im Tausch",
        coerce=int,
        error_messages={
            "required": "Bitte wählen Sie einen Ihrer Dienste.",
            "invalid_choice": "Bitte wählen Sie einen Ihrer anstehenden Dienste.",
        },
    )

    def __init__(self, *args, duties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duty"].choices = [(d.pk, str(d)) for d in duties]


class ApplicationStartForm(forms.Form):
    kv = forms.ModelChoiceField(
        label="Kassenärztliche Vereinigung",
        queryset=None,
        error_messages={"invalid_choice": "Bitte wählen Sie eine KV aus der Liste."},
        empty_label="Bitte wählen",
    )
    full_name = forms.CharField(label="Vor- und Nachname, Titel", max_length=200)
    email = forms.EmailField(label="E-Mail-Adresse")
    birth_date = forms.DateField(label="Geburtsdatum", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        from sprechzimmer.accounts.models import Organisation

        super().__init__(*args, **kwargs)
        self.fields["kv"].queryset = Organisation.objects.filter(kind=Organisation.Kind.KV).order_by("name")

    def clean_birth_date(self):
        day = self.cleaned_data["birth_date"]
        # A K-Arzt holds an Approbation, which takes six years of study: nobody younger than 22
        # (a new user's walk applied with a birth date in 2020).
        today = dt.date.today()
        if not dt.date(1900, 1, 1) < day <= today.replace(year=today.year - 22, day=min(today.day, 28)):
            raise forms.ValidationError("Bitte prüfen Sie das Geburtsdatum.")
        return day


_FACTS = [
    "existing_lanr",
    "areas",
    "former_pool_doctor",
    "changed_since_pool",
    "approbation_issued",
    "approbation_certified",
    "specialist_issued",
    "specialist_certified",
    "last_training_year",
    "clinical_months",
    "police_issued",
    "police_type_n_original",
    "liability_personal",
    "liability_property",
]


class ApplicationFactsForm(forms.ModelForm):
    """What the applicant states about the documents; the staff check it against the uploads."""

    changed_since_pool = forms.MultipleChoiceField(
        label="Seit Ende des Poolarzt-Status geändert", required=False, widget=forms.CheckboxSelectMultiple, choices=[]
    )

    class Meta:
        from sprechzimmer.duty.models import CooperationApplication

        model = CooperationApplication
        fields = _FACTS
        widgets = {
            name: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            for name in ("approbation_issued", "specialist_issued", "police_issued")
        } | {"areas": forms.CheckboxSelectMultiple}
        field_classes = {"areas": ModelIdsField}

    def __init__(self, *args, **kwargs):
        from sprechzimmer.duty.domain.cooperation import ANLAGEN

        super().__init__(*args, **kwargs)
        self.fields["areas"].queryset = Area.objects.filter(kv=self.instance.kv)
        self.fields["changed_since_pool"].choices = [(k, v) for k, v in ANLAGEN.items() if k != "agreement"]

    def clean(self):
        # A document's date cannot lie ahead, an amount of cover cannot be negative (a new user's
        # walk saved 01.01.2099 and -1 without a word).
        cleaned = super().clean()
        today = timezone.localdate()
        for name in ("approbation_issued", "specialist_issued", "police_issued"):
            if (day := cleaned.get(name)) is not None and day > today:
                self.add_error(name, "Das Datum liegt in der Zukunft.")
        for name in ("liability_personal", "liability_property"):
            if (amount := cleaned.get(name)) is not None and amount < 0:
                self.add_error(name, "Bitte geben Sie einen Betrag ab 0 € an.")
        return cleaned

    def clean_existing_lanr(self):
        from sprechzimmer.accounts.domain import IdentifierError, parse_lanr

        value = self.cleaned_data["existing_lanr"].strip()
        if value:
            try:
                parse_lanr(value)
            except IdentifierError as error:
                raise forms.ValidationError(str(error)) from error
        return value


class ApplicationReviewForm(ApplicationFactsForm):
    class Meta(ApplicationFactsForm.Meta):
        fields = _FACTS + ["agreement_copies_received"]


class DutyTermsForm(forms.ModelForm):
    class Meta:
        from sprechzimmer.duty.models import DutyTerms

        model = DutyTerms
        fields = ["valid_from", "hourly_rate", "missed_duty_fee", "bonus_share", "notice_weeks"]
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, kv, **kwargs):
        super().__init__(*args, **kwargs)
        self.kv = kv

    def clean_valid_from(self):
        from django.utils import timezone

        from sprechzimmer.duty.models import DutyTerms

        day = self.cleaned_data["valid_from"]
        if day < timezone.localdate():
            raise forms.ValidationError(
                "Neue Sätze gelten frühestens ab heute: vergangene Abrechnungen bleiben, wie sie sind."
            )
        if DutyTerms.objects.filter(kv=self.kv, valid_from=day).exists():
            raise forms.ValidationError("Für diesen Tag gibt es schon Sätze.")
        return day

    def clean_bonus_share(self):
        share = self.cleaned_data["bonus_share"]
        if not 0 <= share <= 1:
            raise forms.ValidationError("Der Bonusanteil liegt zwischen 0 und 1.")
        return share
