"""Anlage 31b BMV-Ä, requirement by requirement: what it asks, how Sprechzimmer meets it, and the
tests that show it. The Selbstauskunft (documents.py) and docs/compliance.md are made from this one
table, so the document a practice sends its KV can never claim more than the tests show; a test
(tests/approval/test_compliance.py) fails when a named test no longer exists or the doc differs.

Source of the requirements: Anlage 31b zum Bundesmantelvertrag-Ärzte (BMV-Ä), "Vereinbarung über
die Anforderungen an die technischen Verfahren zur Videosprechstunde gemäß § 365 Abs. 1 SGB V", in
the order of its text; the numbers A1–A13 are ours.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    id: str
    requirement: str
    how: str
    tests: tuple[str, ...]


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "A1",
        "Der Arzt registriert sich beim Videodienstanbieter; ein zweiter Zugang für Praxispersonal dient nur "
        "der Organisation.",
        "Praxen registrieren sich mit BSNR; Mitglieder haben die Rollen Ärztin/Arzt (führt Gespräche) und "
        "Praxispersonal (verwaltet Termine). Jeder Zugang ist an die eigene Praxis gebunden.",
        (
            "tests/accounts/test_ownership.py::test_practice_pages_show_only_own_practice",
            "tests/browser/test_video_call.py::test_practice_staff_open_a_room_and_admit_a_waiting_patient",
        ),
    ),
    Requirement(
        "A2",
        "Patienten nehmen ohne Konto und ohne Registrierung teil; ihr Klarname ist für den Arzt sichtbar; der "
        "Zugang führt nur zum Kontakt mit diesem Arzt.",
        "Patienten geben ihren Namen und einen Zugangscode ein; ein Code öffnet genau den Raum eines Termins, "
        "nur im Zeitfenster des Termins und nicht nach einer Absage.",
        (
            "tests/video/test_access.py::test_right_code_gives_a_token",
            "tests/video/test_access.py::test_wrong_codes_are_refused",
            "tests/video/test_access.py::test_cancelled_appointment_code_is_refused",
            "tests/browser/test_video_call.py::test_video_call_peer_to_peer",
        ),
    ),
    Requirement(
        "A3",
        "Der Arzt wird nicht durch Anrufe anderer Teilnehmer gestört.",
        "Patienten warten im Wartezimmer; erst die Praxis lässt sie herein. Ein Raum nimmt nie mehr als zwei "
        "Teilnehmer auf.",
        (
            "tests/video/test_signalling_peer.py::test_refusals_keep_the_room_to_two_participants",
            "tests/browser/test_keyboard.py::test_doctor_books_and_admits_by_keyboard_alone",
        ),
    ),
    Requirement(
        "A4",
        "Die Verbindung soll Peer-to-Peer ohne zentralen Medienserver aufgebaut werden.",
        "Bild und Ton laufen per WebRTC direkt zwischen den Browsern; ein TURN-Server leitet nur dort weiter, "
        "wo Netzwerke keine direkte Verbindung erlauben, und sieht dabei nur verschlüsselte Daten.",
        (
            "tests/browser/test_video_call.py::test_video_call_peer_to_peer",
            "tests/video/test_access.py::test_turn_credentials_follow_the_coturn_rest_scheme",
        ),
    ),
    Requirement(
        "A5",
        "Alle Inhalte sind während der gesamten Übertragung Ende-zu-Ende verschlüsselt, nach dem Stand der "
        "Technik (BSI TR-02102).",
        "Medien mit DTLS-SRTP von Browser zu Browser; Patientendaten werden im Browser mit AES-256-GCM "
        "verschlüsselt, Schlüssel mit ECDH P-256 verteilt, Passwörter verlassen den Browser nie.",
        (
            "tests/browser/test_onboarding.py::test_practice_onboarding_and_shared_encrypted_note",
            "tests/browser/test_onboarding.py::test_no_typed_password_left_the_browser",
            "tests/accounts/test_key_scheme.py::test_record_cannot_be_moved_to_another_practice_or_kind",
        ),
    ),
    Requirement(
        "A6",
        "Bild und Ton passen sich schwankender Bandbreite an; die Teilnehmer entscheiden, ob sie bei schlechter "
        "Qualität fortfahren.",
        "Die Verbindungsqualität wird angezeigt; ein Gespräch wird nie von uns aus beendet, sondern heilt nach "
        "einer Netzunterbrechung ohne Neuladen.",
        (
            "tests/browser/test_network_interruption.py::test_thirty_seconds_without_network_heal_without_reload",
            "tests/browser/test_call_layout.py::test_call_screen_on_every_size_and_a_clean_end",
        ),
    ),
    Requirement(
        "A7",
        "Der Anbieter darf Inhalte weder einsehen noch speichern.",
        "Keine Aufzeichnung, kein Medienserver; auf dem Server liegen Patientendaten nur verschlüsselt, ohne "
        "Schlüssel.",
        (
            "tests/browser/test_onboarding.py::test_practice_onboarding_and_shared_encrypted_note",
            "tests/browser/test_early_connection.py::test_connected_before_admission_without_media",
        ),
    ),
    Requirement(
        "A8",
        "Server in der EU; Metadaten werden spätestens nach drei Monaten gelöscht.",
        "Ein täglicher Auftrag löscht Verbindungsdaten der Gespräche nach der eingestellten Frist (höchstens "
        "drei Monate); der Speicherort steht im Auftragsverarbeitungsvertrag.",
        ("tests/video/test_retention.py::test_purge_metadata_deletes_only_old_call_sessions",),
    ),
    Requirement(
        "A9",
        "Die Nutzungsbedingungen sind vollständig in deutscher Sprache und ohne Registrierung lesbar.",
        "Nutzungsbedingungen, Datenschutzerklärung und Impressum sind öffentliche Seiten in deutscher Sprache.",
        ("tests/test_language.py::test_public_pages_use_formal_german",),
    ),
    Requirement(
        "A10",
        "Keine Werbung.",
        "Keine Skripte, Schriftarten, CDNs oder Tracker Dritter: jede Datei kommt von der Instanz selbst "
        "(Content-Security-Policy).",
        ("tests/test_security_headers.py::test_no_third_party_assets_and_no_inline_scripts",),
    ),
    Requirement(
        "A11",
        "Nachweise: IT-Sicherheitszertifikat (nach ISO/IEC 17065 akkreditierte Stelle) und "
        "Datenschutzzertifikat (Art. 42 DSGVO).",
        "Jedes Dokument für die KV nennt den Betreiber als Videodienstanbieter und seine gültigen Zertifikate "
        "mit Aussteller, Nummer und Gültigkeit; Mitglieder der Praxis laden die Zertifikate als PDF herunter. "
        "Der Betreiber wird 60 Tage vor Ablauf gewarnt; Praxen, die ein Dokument mit einem inzwischen "
        "erneuerten Zertifikat gesendet haben, werden benachrichtigt.",
        (
            "tests/approval/test_documents.py::test_every_document_of_every_kv_names_the_practice_and_its_doctors",
            "tests/approval/test_certificates.py::test_documents_name_the_current_certificates",
            "tests/approval/test_certificates.py::test_certificate_pdfs_for_members_only_and_only_valid_ones",
            "tests/approval/test_certificates.py::test_expiry_warning_fires_60_days_before_and_only_once",
            "tests/approval/test_certificates.py::"
            "test_renewal_mail_goes_only_to_practices_that_sent_a_document_naming_the_old_certificate",
        ),
    ),
    Requirement(
        "A12",
        "Arzt und Patient brauchen Bildschirm, Kamera, Mikrofon und Lautsprecher und etwa 2.000 kbit/s.",
        "Vor dem Wartezimmer prüfen Patienten Kamera, Mikrofon und Lautsprecher; wer die Kamera verweigert hat, "
        "bekommt einen Ausweg.",
        ("tests/browser/test_device_check.py::test_denied_camera_has_a_way_out_and_the_check_then_works",),
    ),
    Requirement(
        "A13",
        "Alle Anwesenden werden vorgestellt; niemand zeichnet auf; der Patient willigt ein (Art. 9 Abs. 2 "
        "lit. a, Art. 7 DSGVO).",
        "Die Einwilligung wird je Termin mit dem gültigen Text festgehalten; die Seite sagt, dass Aufzeichnen "
        "verboten ist.",
        ("tests/video/test_access.py::test_consent_needs_a_valid_token_and_the_current_text",),
    ),
)


def markdown() -> str:
    """docs/compliance.md's table, made from REQUIREMENTS."""
    lines = [
        "| | Anforderung (Anlage 31b BMV-Ä) | Wie Sprechzimmer sie erfüllt | Tests |",
        "|---|---|---|---|",
    ]
    for r in REQUIREMENTS:
        tests = "<br>".join(f"`{t}`" for t in r.tests)
        lines.append(f"| {r.id} | {r.requirement} | {r.how} | {tests} |")
    return "\n".join(lines) + "\n"
