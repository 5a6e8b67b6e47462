"""The browser's rules for a new password (lib/passwords.js), run in Node: the server never sees a
typed password, so these are the only check (a new user's walk set "1234567890")."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "src/sprechzimmer/static/sprechzimmer/js/lib/passwords.js"

CASES = [
    # (password, context, expected start of the message or None)
    ("kurz", {}, "Das Passwort muss mindestens 10 Zeichen"),
    ("1234567890", {}, "Ein Passwort nur aus Ziffern"),
    ("9384710265", {}, "Ein Passwort nur aus Ziffern"),
    ("aaaaaaaaaaaa", {}, "Das Passwort hat zu wenige verschiedene Zeichen"),
    ("abababababab", {}, "Das Passwort hat zu wenige verschiedene Zeichen"),
    ("Passwort123", {}, "Dieses Passwort ist sehr verbreitet"),
    ("qwertzuiop", {}, "Dieses Passwort ist sehr verbreitet"),
    ("abcdefghijk", {}, "Dieses Passwort ist sehr verbreitet"),
    ("Anna.Demo-2026!", {"email": "anna.demo@example.org"}, "Das Passwort darf Ihre E-Mail-Adresse nicht enthalten"),
    ("Kaffee am Morgen 7", {"previous": "Kaffee am Morgen 7"}, "Das neue Passwort muss sich vom bisherigen"),
    ("Kaffee am Morgen 7", {"repeat": "Kaffee am Morgen 8"}, "Die beiden Passwörter stimmen nicht überein"),
    # Accepted: long enough, not common, not the address, not the old one.
    ("Kaffee am Morgen 7", {"repeat": "Kaffee am Morgen 7", "email": "anna@example.org", "previous": "x"}, None),
    ("Demo-Praxis-2026", {"email": "arzt@demo.sprechzimmer.test"}, None),
    ("tränenüberströmt", {}, None),
]


def test_weak_passwords_are_refused_with_a_german_reason():
    if not shutil.which("node"):
        pytest.fail("Node.js wird für die Tests benötigt (Debian: apt-get install nodejs)")
    script = (
        f"import {{ passwordWeakness }} from {json.dumps(MODULE.as_uri())};\n"
        f"const cases = {json.dumps([[p, c] for p, c, _ in CASES])};\n"
        "console.log(JSON.stringify(cases.map(([p, c]) => passwordWeakness(p, c))));\n"
    )
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    answers = json.loads(out.stdout)
    for (password, context, expected), answer in zip(CASES, answers, strict=True):
        if expected is None:
            assert answer is None, (password, answer)
        else:
            assert answer and answer.startswith(expected), (password, context, answer)
