"""Writes src/sprechzimmer/locale/de/LC_MESSAGES/django.po: formal German ("Sie") for the texts of
django-allauth whose German translation says "du". Our LOCALE_PATHS come before allauth's own
catalogue. Run after upgrading allauth, then `msgfmt -o django.mo django.po` in that folder."""

from pathlib import Path

FORMAL = {
    "You cannot remove your primary email address.": "Sie können Ihre primäre E-Mail-Adresse nicht löschen.",
    "Please type your current password.": "Bitte geben Sie Ihr aktuelles Passwort ein.",
    "Too many failed login attempts. Try again later.": "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es später erneut.",
    "Your primary email address must be verified.": "Ihre primäre E-Mail-Adresse muss bestätigt werden.",
    "Please select only one.": "Bitte wählen Sie nur eine Möglichkeit aus.",
    "Be patient, you are sending too many requests.": "Bitte haben Sie etwas Geduld, Sie senden zu viele Anfragen.",
    "You must type the same password each time.": "Bitte geben Sie zweimal dasselbe Passwort ein.",
    "You must type the same email each time.": "Bitte geben Sie zweimal dieselbe E-Mail-Adresse ein.",
    "Your account has no password set up.": "Für Ihr Konto wurde noch kein Passwort festgelegt.",
    "Your account has no verified email address.": "Ihr Konto hat keine bestätigte E-Mail-Adresse.",
    "Thank you for using %(site_name)s!\n%(site_domain)s": "Vielen Dank, dass Sie %(site_name)s nutzen!\n%(site_domain)s",
    "Please Confirm Your Email Address": "Bitte bestätigen Sie Ihre E-Mail-Adresse",
    "Your password has been changed.": "Ihr Passwort wurde geändert.",
    "You're receiving this email because you or someone else has requested a password reset for your user "
    "account.\nIt can be safely ignored if you did not request a password reset. Click the link below to reset "
    "your password.": "Sie erhalten diese E-Mail, weil für Ihr Benutzerkonto das Zurücksetzen des Passworts angefordert "
    "wurde.\nWenn Sie das nicht waren, können Sie diese E-Mail ignorieren. Über den folgenden Link setzen Sie "
    "Ihr Passwort zurück.",
    "Your email address is still pending verification.": "Ihre E-Mail-Adresse ist noch nicht bestätigt.",
    'Please confirm that <a href="mailto:%(email)s">%(email)s</a> is an email address for user %(user_display)s.': 'Bitte bestätigen Sie, dass <a href="mailto:%(email)s">%(email)s</a> eine E-Mail-Adresse von '
    "%(user_display)s ist.",
    "If you have not created an account yet, then please %(link)ssign up%(end_link)s first.": "Ihre Praxis hat noch kein Konto? Dann %(link)sregistrieren Sie sie bitte zuerst%(end_link)s.",
    "Are you sure you want to sign out?": "Möchten Sie sich wirklich abmelden?",
    "You have confirmed %(email)s.": "Sie haben die Adresse %(email)s bestätigt.",
    "You have signed out.": "Sie haben sich abgemeldet.",
    "Forgotten your password? Enter your email address below, and we'll send you an email allowing you to reset "
    "it.": "Passwort vergessen? Geben Sie Ihre E-Mail-Adresse ein; wir senden Ihnen einen Link, mit dem Sie ein "
    "neues Passwort festlegen.",
    "We have sent you an email. If you have not received it please check your spam folder. Otherwise contact us "
    "if you do not receive it in a few minutes.": "Wir haben Ihnen eine E-Mail gesendet. Falls sie nicht ankommt, prüfen Sie bitte Ihren Spam-Ordner oder "
    "wenden Sie sich an uns.",
    "The password reset link was invalid, possibly because it has already been used.  Please request a <a "
    'href="%(passwd_reset_url)s">new password reset</a>.': "Der Link zum Zurücksetzen des Passworts ist ungültig, vermutlich wurde er bereits benutzt. Bitte "
    '<a href="%(passwd_reset_url)s">fordern Sie einen neuen Link an</a>.',
    "Your password is now changed.": "Ihr Passwort wurde geändert.",
    "Already have an account? Then please %(link)ssign in%(end_link)s.": "Sie haben bereits ein Konto? Dann %(link)smelden Sie sich an%(end_link)s.",
    "You are already logged in as %(user_display)s.": "Sie sind bereits als %(user_display)s angemeldet.",
    "Verify Your Email Address": "Bestätigen Sie Ihre E-Mail-Adresse",
    "We have sent an email to you for verification. Follow the link provided to finalize the signup process. If "
    "you do not see the verification email in your main inbox, check your spam folder. Please contact us if you "
    "do not receive the verification email within a few minutes.": "Wir haben Ihnen eine E-Mail zur Bestätigung gesendet. Bitte öffnen Sie den Link darin, um die "
    "Registrierung abzuschließen. Falls sie nicht ankommt, prüfen Sie bitte Ihren Spam-Ordner.",
    "This part of the site requires us to verify that\nyou are who you claim to be. For this purpose, we require "
    "that you\nverify ownership of your email address. ": "Für diesen Bereich müssen wir sicherstellen, dass Sie die Person sind,\nfür die Sie sich ausgeben. "
    "Bitte bestätigen Sie dazu Ihre E-Mail-Adresse. ",
    "We have sent an email to you for\nverification. Please click on the link inside that email. If you do not "
    "see the verification email in your main inbox, check your spam folder. Otherwise\ncontact us if you do not "
    "receive it within a few minutes.": "Wir haben Ihnen eine E-Mail zur Bestätigung gesendet.\nBitte öffnen Sie den Link darin. Falls sie nicht "
    "ankommt, prüfen Sie bitte Ihren Spam-Ordner.",
    "You are about to generate a new set of recovery codes for your account.": "Sie erzeugen einen neuen Satz Wiederherstellungscodes für Ihr Konto.",
    "You are about to deactivate authenticator app based authentication. Are you sure?": "Sie deaktivieren die Anmeldung mit Authenticator-App. Sind Sie sicher?",
}


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "src/sprechzimmer/locale/de/LC_MESSAGES/django.po"
    lines = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', '"Language: de\\n"', ""]
    for msgid, msgstr in FORMAL.items():
        lines += [f"msgid {quote(msgid)}", f"msgstr {quote(msgstr)}", ""]
    out.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
