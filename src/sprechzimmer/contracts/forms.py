from __future__ import annotations

from django import forms

from sprechzimmer.contracts.models import Contract


class BillingDetailsForm(forms.ModelForm):
    """Rechnungsdaten → Organisation: where invoices go and the practice's VAT ID if it has one."""

    class Meta:
        model = Contract
        fields = ["billing_email", "vat_id"]
        help_texts = {
            "billing_email": "Leer: Rechnungen gehen an den Hauptnutzer.",
            "vat_id": "Arztpraxen haben meist keine; sie erscheint dann nicht auf der Rechnung.",
        }

    def clean_vat_id(self):
        value = "".join((self.cleaned_data.get("vat_id") or "").split()).upper()
        if value and not (len(value) == 11 and value.startswith("DE") and value[2:].isdigit()):
            raise forms.ValidationError("Eine deutsche USt-IdNr. besteht aus DE und 9 Ziffern, z. B. DE123456789.")
        return value


class BankDetailsForm(forms.Form):
    """Rechnungsdaten → Bankverbindung with the SEPA direct-debit mandate (Lastschriftmandat).

    IBAN and BIC are checked with schwifty (maintained, knows every country's IBAN format and
    checksum and the German banks' BICs from the Bundesbank's register), so a typo is caught before
    the first debit bounces."""

    account_holder = forms.CharField(label="Kontoinhaber(in)", max_length=70)
    iban = forms.CharField(label="IBAN", max_length=42)
    bic = forms.CharField(label="BIC", max_length=11, required=False, help_text="Leer: aus der IBAN ermittelt.")
    #: The mandate text is on the page, with the operator's name and creditor ID (contract.html).
    mandate = forms.BooleanField(
        label="SEPA-Lastschriftmandat",
        error_messages={"required": "Bitte erteilen Sie das SEPA-Lastschriftmandat, um per Lastschrift zu zahlen."},
    )

    def clean_iban(self):
        from schwifty import IBAN
        from schwifty.exceptions import SchwiftyException

        try:
            return str(IBAN(self.cleaned_data["iban"]).compact)
        except SchwiftyException:
            raise forms.ValidationError(
                "Diese IBAN ist ungültig. Bitte prüfen Sie Länge, Ländercode und Prüfziffer (z. B. DE89 3704 0044 0532 0130 00)."
            ) from None

    def clean(self):
        from schwifty import BIC, IBAN
        from schwifty.exceptions import SchwiftyException

        cleaned = super().clean()
        iban, bic = cleaned.get("iban"), "".join((cleaned.get("bic") or "").split()).upper()
        if not iban:
            return cleaned
        if bic:
            try:
                cleaned["bic"] = str(BIC(bic))
            except SchwiftyException:
                self.add_error("bic", "Diese BIC ist ungültig (8 oder 11 Zeichen, z. B. COBADEFFXXX).")
        else:
            found = IBAN(iban).bic
            if found is None:
                self.add_error("bic", "Zu dieser IBAN kennen wir die BIC nicht. Bitte geben Sie sie an.")
            else:
                cleaned["bic"] = str(found)
        return cleaned
