"""Settings come from the environment only and a bad value stops start-up with a clear message."""

import os
import subprocess
import sys

import pytest


def start(**env):
    full = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", "import sprechzimmer.settings"], env=full, capture_output=True, text=True)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "vielleicht"}, "DEBUG: expected true/false"),
        ({"SECRET_KEY": ""}, "SECRET_KEY: is required"),
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"SECRET_KEY": "x" * 40, "INVITATION_DAYS": "sieben"}, "INVITATION_DAYS: expected a whole number"),
        ({"SECRET_KEY": "x" * 40, "DATABASE_URL": "mysql://db/x"}, "unsupported scheme"),
        ({"SECRET_KEY": "x" * 40, "EMAIL_HOST": "mail", "EMAIL_PORT": "99999"}, "EMAIL_PORT: must be at most"),
        ({"SECRET_KEY": "x" * 40, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_values_stop_start_up_with_a_message(env, message):
    result = start(**env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_good_environment_starts():
    assert start(SECRET_KEY="x" * 40).returncode == 0


def test_every_variable_read_is_in_env_example():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    source = (root / "src/sprechzimmer/settings.py").read_text()
    used = set(re.findall(r'env(?:str|bool|int|list|choice)\("([A-Z_]+)"', source))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert used - documented == set()
