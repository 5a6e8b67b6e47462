"""Every command the README names exists and works exactly as written (issue 11, item 19)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def readme_sprechzimmer_commands() -> set[str]:
    """`sprechzimmer X` anywhere, and the commands the "Command line" section names in backticks."""
    text = (ROOT / "README.md").read_text()
    named = set(re.findall(r"(?:\.venv/bin/)?sprechzimmer ([a-z_]+)", text))
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    named |= {m for m in re.findall(r"`([a-z_]+)(?: [^`]*)?`", section) if m != "sprechzimmer"}
    return named


def clean_env(**extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DATA_DIR", "EMAIL_HOST")
    }
    env.update(extra)
    return env


def test_every_named_command_exists():
    named = readme_sprechzimmer_commands()
    assert {"totp", "demo", "migrate", "purge_metadata", "duty_statements", "ebm"} <= named
    listed = subprocess.run(
        [str(BIN / "sprechzimmer"), "help", "--commands"],
        env=clean_env(DEBUG="true"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.split()
    assert named - set(listed) <= {"ebm"}, named - set(listed)


def test_totp_works_as_written_after_scripts_run(tmp_path):
    """scripts/run migrates and loads the demo in development mode; afterwards, in another shell,
    `.venv/bin/sprechzimmer totp arzt@demo.sprechzimmer.test` prints the code (no SECRET_KEY, no DEBUG)."""
    for command in (["migrate", "--noinput", "-v0"], ["demo"]):
        subprocess.run(
            [str(BIN / "sprechzimmer"), *command],
            env=clean_env(DEBUG="true"),
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
    result = subprocess.run(
        [str(BIN / "sprechzimmer"), "totp", "arzt@demo.sprechzimmer.test"],
        env=clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d{6}\n", result.stdout)


def test_without_any_key_the_message_is_german(tmp_path):
    result = subprocess.run(
        [str(BIN / "sprechzimmer"), "totp", "arzt@demo.sprechzimmer.test"],
        env=clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Konfigurationsfehler: SECRET_KEY: fehlt" in result.stderr and "./scripts/run" in result.stderr
