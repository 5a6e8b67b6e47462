from django.core.exceptions import ValidationError

from sprechzimmer.accounts.keyblobs import b64url_decode


class DerivedSecretValidator:
    """Accepts only the 256-bit authentication secret that our browser code derives from a password.

    A client that sent the typed password itself would leave the user without working keys (and
    would hand the server the password), so such a request is refused.
    """

    def validate(self, password, user=None):
        try:
            ok = len(password) == 43 and len(b64url_decode(password)) == 32
        except ValueError:
            ok = False
        if not ok:
            raise ValidationError(
                "Ihr Passwort wurde nicht im Browser verschlüsselt. Bitte aktivieren Sie JavaScript "
                "und laden Sie die Seite neu.",
                code="not_derived",
            )

    def get_help_text(self):
        return "Mindestens 10 Zeichen; Ihr Browser prüft das Passwort, unser Server sieht es nie."
