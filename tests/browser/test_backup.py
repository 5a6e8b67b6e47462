"""Backups that restore (docs/operations.md, "Backups"): taken from a running server with
`sprechzimmer backup`, restored with `sprechzimmer restore` into a fresh database and data directory,
on the backend of the run (SQLite's online backup API, or pg_dump/pg_restore into a new PostgreSQL
database). After the restore the practice logs in on a new device and decrypts its note: keys and
ciphertext came back intact, and only the keys from the environment were needed besides the backup.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from tests.browser.conftest import (
    BIN,
    _create_pg_database,
    _drop_pg_database,
    free_port,
    instance_env,
    set_up_instance,
    start_daphne,
)
from tests.browser.helpers import login, read_note

DOCTOR_EMAIL, _, _, _, DOCTOR_TOTP = DEMO_USERS[0]
NOTE = "Vor der Sicherung: Schlüssel für den Medikamentenschrank bei Frau Ö. <b>nicht</b> fett & 1.234,56 €"
DOCUMENT = b"%PDF-1.4 Fuehrungszeugnis " * 5000
# A K-Arzt document stored and read as the application's views do (encrypted on disk, DOCUMENT_KEY).
STORE = "import os; from sprechzimmer.duty import documents; print(documents.store(open(os.environ['SZ_ARG'], 'rb'), 7, 'b'))"
READ = "import os, sys; from sprechzimmer.duty import documents; sys.stdout.buffer.write(b''.join(documents.read(os.environ['SZ_ARG'], 7, 'b')))"


class Instance:
    """A data directory and (on the PostgreSQL leg) a database of its own, with the keys from the
    environment that a backup does not hold."""

    def __init__(self, data_dir: Path):
        self.base_url = os.environ.get("DATABASE_URL")
        self.db_url = _create_pg_database(self.base_url) if self.base_url else None
        self.data_dir = data_dir
        database = {"DATABASE_URL": self.db_url} if self.db_url else {}
        self.env = instance_env(data_dir, "backup-test-secret-key-0123456789abcdef", LOG_LEVEL="WARNING", **database)
        self.process = None

    def manage(self, *args: str, check: bool = True, arg: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "sprechzimmer"), *args],
            env={**self.env, "SZ_ARG": arg},
            check=check,
            capture_output=True,
        )

    def start(self) -> str:
        port = free_port()
        self.process = start_daphne(self.env, port, self.data_dir / "server.log")
        return f"http://127.0.0.1:{port}"

    def close(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(30)
        if self.db_url:
            _drop_pg_database(self.base_url, self.db_url)


@pytest.fixture
def instances(tmp_path):
    made: list[Instance] = []

    def make(name: str) -> Instance:
        made.append(Instance(tmp_path / name))
        return made[-1]

    yield make
    for instance in made:
        instance.close()


def write_note(page, text: str) -> None:
    page.goto("/praxis/")
    page.wait_for_selector("#practice-note[data-state=ready]")
    page.fill("#note-text", text)
    before = page.get_attribute("#practice-note", "data-saved")
    page.click("#practice-note button")
    # data-saved is the version the server confirmed: a new one once this text is stored.
    page.wait_for_function(
        "before => (document.querySelector('#practice-note').dataset.saved ?? null) !== before", arg=before
    )


def device(browser, url: str):
    context = browser.new_context(base_url=url, locale="de-DE", timezone_id="Europe/Berlin")
    context.set_default_timeout(20_000)
    return context, context.new_page()


def test_a_backup_of_a_running_server_restores_and_the_practice_decrypts_its_note(browser, instances, tmp_path):
    original = instances("original")
    set_up_instance(original.env)
    original_url = original.start()
    context, page = device(browser, original_url)
    login(page, DOCTOR_EMAIL, DEMO_PASSWORD, DOCTOR_TOTP)
    write_note(page, NOTE)
    upload = tmp_path / "upload.pdf"
    upload.write_bytes(DOCUMENT)
    stored = original.manage("shell", "-v", "0", "-c", STORE, arg=str(upload)).stdout.decode().strip()

    # The backup runs while the server serves the practice (it is not stopped for it).
    backup_dir = tmp_path / "backup"
    done = original.manage("backup", str(backup_dir))
    assert "Sicherung (" in done.stdout.decode()
    assert not (tmp_path / "backup.partial").exists()
    # A change after the backup is not in it.
    write_note(page, "Nach der Sicherung")
    context.close()
    # What the backup holds is ciphertext: the note's text is nowhere in it.
    for path in backup_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert b"Medikamentenschrank" not in content, path
            assert b"Fuehrungszeugnis" not in content, path

    restored = instances("restored")
    done = restored.manage("restore", str(backup_dir))
    assert "wiederhergestellt" in done.stdout.decode()
    restored.manage("collectstatic", "--noinput", "-v0")
    context, page = device(browser, restored.start())
    login(page, DOCTOR_EMAIL, DEMO_PASSWORD, DOCTOR_TOTP)  # the TOTP secret, sealed under MFA_KEYS, opens
    assert read_note(page) == NOTE
    context.close()
    assert restored.manage("shell", "-v", "0", "-c", READ, arg=stored).stdout == DOCUMENT

    # Restoring again over the restored instance changes nothing and says why.
    again = restored.manage("restore", str(backup_dir), check=False)
    assert again.returncode == 1
    assert "ist nicht leer; wiederhergestellt wird nur in eine leere" in again.stderr.decode()


def test_a_restore_that_cannot_work_says_why_and_changes_nothing(instances, tmp_path):
    original = instances("original")
    original.manage("migrate", "--noinput", "-v0")
    backup_dir = tmp_path / "backup"
    original.manage("backup", str(backup_dir))
    refused = original.manage("backup", str(backup_dir), check=False)
    assert refused.returncode == 1
    assert "gibt es schon und ist nicht leer" in refused.stderr.decode()

    # A backup from a newer release (a migration this code does not know) is refused before
    # anything is written.
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    newer = {**manifest, "migrations": [*manifest["migrations"], ["video", "9999_from_the_future"]]}
    (backup_dir / "manifest.json").write_text(json.dumps(newer))
    target = instances("target")
    refused = target.manage("restore", str(backup_dir), check=False)
    assert refused.returncode == 1
    assert "neueren Version von Sprechzimmer" in refused.stderr.decode()
    assert "video.9999_from_the_future" in refused.stderr.decode()
    assert not (target.data_dir / "documents").exists()
    assert not (target.data_dir / "sprechzimmer.sqlite3").exists() or not target.manage(
        "shell", "-v", "0", "-c", "from django.db import connection; print(connection.introspection.table_names())"
    ).stdout.decode().strip("[]\n")

    for broken, message in (
        (tmp_path / "nowhere", "liegt keine Sicherung"),
        (tmp_path / "damaged", "ist beschädigt"),
    ):
        if broken.name == "damaged":
            broken.mkdir()
            (broken / "manifest.json").write_bytes(b"\xff{")
        refused = target.manage("restore", str(broken), check=False)
        assert refused.returncode == 1
        assert message in refused.stderr.decode()


UPGRADE = Path(__file__).parent.parent / "data" / "upgrade"
DEMO_NOTE = (
    "Willkommen in der Demo-Praxis. Diese Notiz ist Ende-zu-Ende-verschlüsselt: der Server speichert nur Geheimtext."
)


def test_a_database_of_the_previous_release_migrates_forward_with_its_data_intact(browser, instances):
    """tests/data/upgrade holds the demo data as an earlier release made it (its commit in RELEASE;
    renewed by scripts/upgrade-fixture at each release): restored and migrated by today's code, every
    row is still there and the practice still decrypts its note with the keys it had."""
    upgraded = instances("upgraded")
    engine = "postgresql" if upgraded.db_url else "sqlite"
    source = UPGRADE / engine
    manifest = json.loads((source / "manifest.json").read_text())
    upgraded.env["SECRET_KEY"] = "upgrade-fixture-secret-key-0123456789abcdef"  # the release's keys
    files = sorted(source.rglob("*"))
    done = upgraded.manage("restore", str(source))
    assert "auf diese Version migriert" in done.stdout.decode()
    assert sorted(source.rglob("*")) == files  # a restore only reads the backup (no -wal, no -shm)
    pending = upgraded.manage("migrate", "--check", check=False)
    assert pending.returncode == 0, pending.stdout.decode()

    counted = json.loads(
        upgraded.manage("shell", "-v", "0", "-c", COUNT, arg=json.dumps(sorted(manifest["rows"]))).stdout
    )
    # Every row of the release is still there; only Django's own bookkeeping grows with new models.
    bookkeeping = {"django_migrations", "django_content_type", "auth_permission"}
    assert {t: n for t, n in counted.items() if t not in bookkeeping} == {
        t: n for t, n in manifest["rows"].items() if t not in bookkeeping
    }
    assert sum(manifest["rows"][t] for t in manifest["rows"] if t not in bookkeeping) > 100

    upgraded.manage("collectstatic", "--noinput", "-v0")
    context, page = device(browser, upgraded.start())
    login(page, DOCTOR_EMAIL, DEMO_PASSWORD, DOCTOR_TOTP)
    assert read_note(page) == DEMO_NOTE
    context.close()


COUNT = (
    "import json, os; from django.db import connection; c = connection.cursor(); "
    "print(json.dumps({t: c.execute(f'SELECT count(*) FROM {connection.ops.quote_name(t)}').fetchone()[0] "
    "for t in json.loads(os.environ['SZ_ARG'])}))"
)
