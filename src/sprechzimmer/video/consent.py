"""The consent text a patient accepts before the video consultation (A13; Art. 9(2)(a), 7 DSGVO).

Versions are kept, never edited: the appointment stores which version was accepted and when.
"""

CURRENT_VERSION = "2026-11"

TEXTS = {
    "2026-11": (
        "Ich willige ein, dass meine Behandlung als Videosprechstunde stattfindet. Bild und Ton werden "
        "Ende-zu-Ende-verschlüsselt direkt zwischen meinem Gerät und dem Gerät der Praxis übertragen "
        "und nirgends gespeichert. Ich kann diese Einwilligung jederzeit widerrufen, indem ich das "
        "Gespräch beende; die Behandlung kann dann in der Praxis fortgesetzt werden.\n\n"
        "Die Videosprechstunde darf von niemandem aufgezeichnet werden – weder von der Praxis noch von "
        "mir. Ich nehme aus einem geschlossenen Raum teil und stelle zu Beginn alle anwesenden Personen vor."
    ),
}
