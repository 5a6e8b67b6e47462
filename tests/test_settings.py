"""Settings come from the environment only and a bad value stops start-up with a clear message."""

import os
import subprocess
import sys

import pytest


def start(**env):
    full = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import sprechzimmer.settings"], env=full, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "vielleicht"}, "DEBUG: erwartet true oder false"),
        ({"SECRET_KEY": ""}, "SECRET_KEY: fehlt"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY: muss mindestens 32 Zeichen"),
        ({"SECRET_KEY": "x" * 40, "INVITATION_DAYS": "sieben"}, "INVITATION_DAYS: erwartet eine ganze Zahl"),
        ({"SECRET_KEY": "x" * 40, "DATABASE_URL": "mysql://db/x"}, "DATABASE_URL: das Schema"),
        ({"SECRET_KEY": "x" * 40, "EMAIL_HOST": "mail", "EMAIL_PORT": "99999"}, "EMAIL_PORT: darf höchstens"),
        ({"SECRET_KEY": "x" * 40, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL: erwartet"),
        ({"SECRET_KEY": "x" * 40, "MFA_KEYS": "zu-kurz"}, "MFA_KEYS: ein Schlüssel muss 32 Bytes lang sein"),
        ({"SECRET_KEY": "x" * 40, "SECRET_KEY_FILE": "/nicht/da"}, "SECRET_KEY_FILE: die Datei /nicht/da ist nicht"),
        ({"SECRET_KEY": "x" * 40, "JANUS_SECRET": "kurz"}, "JANUS_SECRET: muss mindestens 32 Zeichen"),
        ({"SECRET_KEY": "x" * 40, "JANUS_WS_URL": "https://janus"}, "JANUS_WS_URL: muss mit wss://"),
        ({"SECRET_KEY": "x" * 40, "LOG_FORMAT": "xml"}, "LOG_FORMAT: erwartet einen der Werte plain, json"),
        ({"SECRET_KEY": "x" * 40, "METRICS_TOKEN": "kurz"}, "METRICS_TOKEN: muss mindestens 32 Zeichen"),
        ({"SECRET_KEY": "x" * 40, "PROMETHEUS_MULTIPROC_DIR": "/nicht/da"}, "PROMETHEUS_MULTIPROC_DIR: /nicht/da ist"),
    ],
)
def test_bad_values_stop_start_up_with_a_german_message(env, message, tmp_path):
    result = start(DATA_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert f"Konfigurationsfehler: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    # German, not half English: none of the words the old messages used.
    assert not set(result.stderr.lower().split()) & {"expected", "required", "must", "got", "unless", "cannot"}


def test_good_environment_starts():
    assert start(SECRET_KEY="x" * 40).returncode == 0


def test_a_janus_on_another_origin_is_the_one_extra_place_browsers_may_connect_to():
    code = "from sprechzimmer import settings; print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['connect-src'])"
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(SECRET_KEY="x" * 40, JANUS_WS_URL="wss://janus.example.org:8989/janus/")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "[\"'self'\", 'wss://janus.example.org:8989']"


def test_every_variable_read_is_in_env_example():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    source = (root / "src/sprechzimmer/settings.py").read_text()
    used = set(re.findall(r'env(?:str|bool|int|list|choice|keys)\("([A-Z_]+)"', source))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert used - documented == set()
