from __future__ import annotations

from allauth.account.forms import (
    ChangePasswordForm,
    LoginForm,
    ReauthenticateForm,
    ResetPasswordKeyForm,
    SetPasswordForm,
    SignupForm,
)
from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone

from sprechzimmer.accounts import keyblobs
from sprechzimmer.accounts.domain import IdentifierError, parse_bsnr, parse_lanr
from sprechzimmer.accounts.models import Invitation, Organisation, User
from sprechzimmer.accounts.widgets import DerivedSecretFieldsMixin, DerivedSecretInput


def _clean_identifier(parse, value):
    try:
        return parse(value).value
    except IdentifierError as exc:
        raise forms.ValidationError(exc.message) from None


class MemberFieldsMixin:
    """Name, role and LANR of a practice member; a doctor needs a valid LANR."""

    def clean_lanr(self):
        value = (self.cleaned_data.get("lanr") or "").strip()
        return _clean_identifier(parse_lanr, value) if value else ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == User.Role.DOCTOR and not cleaned.get("lanr") and "lanr" not in self.errors:
            self.add_error("lanr", "Für Ärztinnen und Ärzte ist die LANR erforderlich.")
        return cleaned


def postcode_field() -> forms.RegexField:
    """A German postcode: five digits (it is printed on invoices and KV documents)."""
    return forms.RegexField(label="PLZ", regex=r"^\d{5}$", error_messages={"invalid": "Die PLZ besteht aus 5 Ziffern."})


class PracticeDetailsForm(MemberFieldsMixin, forms.Form):
    """The visible fields of the practice sign-up; also used to check them before keys are made."""

    practice_name = forms.CharField(label="Name der Praxis", max_length=200)
    street = forms.CharField(label="Straße und Hausnummer", max_length=200)
    postcode = postcode_field()
    city = forms.CharField(label="Ort", max_length=100)
    bsnr = forms.CharField(label="BSNR (Betriebsstättennummer)", max_length=20)
    full_name = forms.CharField(label="Ihr Name", max_length=200)
    role = forms.ChoiceField(label="Ihre Rolle", choices=User.Role.choices, initial=User.Role.DOCTOR)
    lanr = forms.CharField(label="Ihre LANR (bei Ärztinnen/Ärzten)", max_length=20, required=False)

    def clean_bsnr(self):
        value = _clean_identifier(parse_bsnr, self.cleaned_data["bsnr"])
        if Organisation.objects.filter(bsnr=value).exists():
            raise forms.ValidationError("Für diese BSNR ist bereits eine Praxis registriert.")
        return value


class KeyFieldsMixin:
    """Hidden fields that carry key material made in the browser."""

    key_fields: tuple[str, ...] = ()
    _checks = {
        "public_key": keyblobs.check_public_key,
        "wrapped_private_key": keyblobs.check_private_key_wrap,
        "wrapped_practice_key": keyblobs.check_practice_key_wrap,
        "recovery_wrapped_key": keyblobs.check_recovery_wrap,
        "recovery_public_key": keyblobs.check_public_key,
    }

    def add_key_fields(self, optional: tuple[str, ...] = ()):
        for name in self.key_fields:
            self.fields[name] = forms.CharField(widget=forms.HiddenInput, required=name not in optional)

    def clean(self):
        cleaned = super().clean()
        self.clean_keys()
        return cleaned

    def clean_keys(self):
        for name in self.key_fields:
            value = self.cleaned_data.get(name)
            if value:
                try:
                    self._checks[name](value)
                except forms.ValidationError as exc:
                    self.add_error(name if name in self.fields else None, exc)


class PracticeSignupForm(DerivedSecretFieldsMixin, KeyFieldsMixin, PracticeDetailsForm, SignupForm):
    """Sign-up of a practice and its main user (Hauptnutzer)."""

    key_fields = (
        "public_key",
        "wrapped_private_key",
        "wrapped_practice_key",
        "recovery_public_key",
        "recovery_wrapped_key",
    )
    # A new practice's recovery wrap is ECIES to the recovery key pair (docs/e2ee.md).
    _checks = {**KeyFieldsMixin._checks, "recovery_wrapped_key": keyblobs.check_practice_key_wrap}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_key_fields()
        self.fields["email"].label = "Ihre E-Mail-Adresse (Anmeldename)"

    def save(self, request):
        try:
            with transaction.atomic():
                return super().save(request)
        except IntegrityError:
            # Two sign-ups for one BSNR at the same moment: the database constraint decides.
            raise forms.ValidationError("Für diese BSNR ist bereits eine Praxis registriert.") from None

    def custom_signup(self, request, user):
        data = self.cleaned_data
        organisation = Organisation.objects.create(
            name=data["practice_name"],
            street=data["street"],
            postcode=data["postcode"],
            city=data["city"],
            bsnr=data["bsnr"],
            recovery_public_key=data["recovery_public_key"],
            recovery_wrapped_key=data["recovery_wrapped_key"],
        )
        user.organisation = organisation
        user.full_name = data["full_name"]
        user.role = data["role"]
        user.lanr = data["lanr"]
        user.is_main_user = True
        user.public_key = data["public_key"]
        user.wrapped_private_key = data["wrapped_private_key"]
        user.wrapped_practice_key = data["wrapped_practice_key"]
        user.save()


class KeyedChangePasswordForm(DerivedSecretFieldsMixin, KeyFieldsMixin, ChangePasswordForm):
    """Password change: the browser re-wraps the private key under the new password in the same step."""

    key_fields = ("wrapped_private_key",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_key_fields()

    def save(self):
        with transaction.atomic():
            self.user.wrapped_private_key = self.cleaned_data["wrapped_private_key"]
            self.user.save(update_fields=["wrapped_private_key"])
            super().save()


class KeyedResetPasswordKeyForm(DerivedSecretFieldsMixin, KeyFieldsMixin, ResetPasswordKeyForm):
    """Password reset: the old private key is lost, so the browser makes a new key pair.

    With the practice's recovery key the browser re-wraps the practice key at once; without it the
    user waits until a colleague with access grants it again (docs/e2ee.md).
    """

    key_fields = ("public_key", "wrapped_private_key", "wrapped_practice_key")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_key_fields(optional=("wrapped_practice_key",))

    def save(self):
        with transaction.atomic():
            self.user.public_key = self.cleaned_data["public_key"]
            self.user.wrapped_private_key = self.cleaned_data["wrapped_private_key"]
            self.user.wrapped_practice_key = self.cleaned_data.get("wrapped_practice_key") or ""
            # opened with the recovery sheet: the version the practice's recovery wrap holds (K-Ärzte
            # and applicants have no practice, hence no practice key: version 1 as at sign-up)
            organisation = self.user.organisation
            self.user.practice_key_version = organisation.recovery_key_version if organisation else 1
            self.user.key_granted_by = None
            self.user.save(
                update_fields=[
                    "public_key",
                    "wrapped_private_key",
                    "wrapped_practice_key",
                    "practice_key_version",
                    "key_granted_by",
                ]
            )
            super().save()


class InvitationForm(MemberFieldsMixin, forms.Form):
    full_name = forms.CharField(label="Name", max_length=200)
    email = forms.EmailField(label="E-Mail-Adresse")
    role = forms.ChoiceField(label="Rolle", choices=User.Role.choices)
    lanr = forms.CharField(label="LANR (bei Ärztinnen/Ärzten)", max_length=20, required=False)

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def _open_invitations(self):
        return Invitation.objects.filter(
            organisation=self.organisation, accepted_at=None, expires_at__gt=timezone.now()
        )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Mit dieser E-Mail-Adresse besteht bereits ein Benutzerkonto.")
        if self.organisation is not None:
            open_one = self._open_invitations().filter(email__iexact=email).first()
            if open_one is not None:
                raise forms.ValidationError(
                    f"An diese Adresse ging bereits eine Einladung, gültig bis {open_one.expires_at:%d.%m.%Y}. "
                    "Ziehen Sie sie unten zurück, wenn Sie neu einladen möchten."
                )
        return email

    def clean_lanr(self):
        # One doctor, one LANR, in any number of practices; but within one practice a LANR
        # belongs to one member (or one open invitation).
        lanr = super().clean_lanr()
        if (
            lanr
            and self.organisation is not None
            and (
                self.organisation.members.filter(lanr=lanr, is_active=True).exists()
                or self._open_invitations().filter(lanr=lanr).exists()
            )
        ):
            raise forms.ValidationError(
                "Diese LANR hat bereits ein Mitglied Ihrer Praxis (oder eine offene Einladung)."
            )
        return lanr


class AcceptInvitationForm(KeyFieldsMixin, forms.Form):
    """The invited colleague sets a password (derived in the browser) and brings a new key pair."""

    key_fields = ("public_key", "wrapped_private_key")
    full_name = forms.CharField(label="Ihr Name", max_length=200)
    password = forms.CharField(
        widget=DerivedSecretInput(attrs={"autocomplete": "new-password"}), label="Passwort", strip=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_key_fields()

    def clean_password(self):
        from django.contrib.auth.password_validation import validate_password

        value = self.cleaned_data["password"]
        validate_password(value)
        return value


class DerivedLoginForm(DerivedSecretFieldsMixin, LoginForm):
    """allauth's login; the password field carries the derived secret."""


class DerivedReauthenticateForm(DerivedSecretFieldsMixin, ReauthenticateForm):
    """allauth's reauthentication (before adding a second factor, …)."""


class DerivedSetPasswordForm(DerivedSecretFieldsMixin, SetPasswordForm):
    """allauth's "set a password" page; nobody reaches it (logins need a password), but if it is
    ever shown, it must not send a typed password either."""


class PracticeSettingsForm(forms.ModelForm):
    postcode = postcode_field()  # the model's max_length alone let "abc" through (a new user's walk)

    class Meta:
        model = Organisation
        fields = ["name", "street", "postcode", "city", "require_device_approval", "lock_minutes"]
