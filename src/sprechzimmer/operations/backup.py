"""Backups of a running instance and their restore into an empty one (docs/operations.md, "Backups").

A backup is a directory:

- ``database.sqlite3`` (the embedded default, copied with SQLite's online backup API while the
  server writes, never as a file copy of a live database) or ``database.pgdump`` (PostgreSQL,
  ``pg_dump --format=custom``, one consistent snapshot);
- ``documents/`` and ``invoices/``: the encrypted K-Arzt documents and the operator's invoice files,
  copied *after* the database snapshot, so that every file the snapshot names is there (a file is
  written before the row that names it commits; an extra file is an orphan that
  ``purge_metadata`` deletes);
- ``manifest.json``: when, from which engine, and the migrations the database had.

Not in it: the keys from the environment (``SECRET_KEY`` or ``DATA_DIR/secret_key``, ``MFA_KEYS``,
``DOCUMENT_KEY``, ``WEBHOOK_KEYS``), which are kept apart so that a stolen backup yields neither a
second factor nor a document; and the task queue (pending mails are not sent twice after a restore).

The backup is written under ``<target>.partial`` and renamed at the end: a directory named like the
target is always a whole backup. The restore checks everything before it changes anything, then
restores the database in one step (one transaction on PostgreSQL; a file renamed into place on
SQLite), the files, and migrates the database forward when the backup came from an older release.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
#: The directories of files the database refers to, by their name in the backup.
FILE_DIRS = {"documents": "DOCUMENTS_DIR", "invoices": "INVOICES_DIR"}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is German and names what to do."""


@dataclass(frozen=True)
class Result:
    path: Path
    engine: str
    files: dict[str, int]
    migrated: bool = False


def engine() -> str:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"Die Datenbank {vendor} wird nicht unterstützt.")
    return vendor


def _pg_env() -> dict[str, str]:
    """libpq's variables for pg_dump and pg_restore: the password never on a command line."""
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _run_pg(tool: str, *args: str) -> None:
    if not shutil.which(tool):
        raise BackupError(f"{tool} fehlt (Debian: apt-get install postgresql-client).")
    done = subprocess.run([tool, *args], env=_pg_env(), capture_output=True, text=True)
    if done.returncode:
        raise BackupError(f"{tool} ist fehlgeschlagen: {done.stderr.strip()[-500:]}")


def _migrations(cursor) -> list[list[str]]:
    """The applied migrations, in order, from a DB-API cursor (Django's or sqlite3's)."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return [[app, name] for app, name in cursor.fetchall()]


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def _sqlite_snapshot(path: Path) -> tuple[list[list[str]], dict[str, int]]:
    """Copies the live SQLite database with the online backup API into one self-contained file (no
    write-ahead log beside it, which a reader would otherwise create); migrations and row counts are
    read from the copy, so they describe exactly what the backup holds."""
    source = sqlite3.connect(f"file:{settings.DATABASES['default']['NAME']}?mode=ro", uri=True)
    copy = sqlite3.connect(path)
    try:
        with copy:
            source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        return _migrations(copy.cursor()), _counts(copy.cursor(), _sqlite_tables(copy))
    finally:
        copy.close()
        source.close()


def _pg_snapshot(path: Path) -> tuple[list[list[str]], dict[str, int]]:
    """pg_dump of the snapshot this transaction exports (REPEATABLE READ): the migrations and row
    counts in the manifest are those of exactly the dumped data, whatever the server writes
    meanwhile."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        migrations = _migrations(cursor)
        rows = _counts(cursor, connection.introspection.table_names(cursor))
        _run_pg(
            "pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", f"--file={path}"
        )
    return migrations, rows


def _copy_tree(source: Path, target: Path) -> int:
    """Copies the files below source into target (created); returns their number. Files being
    written (``*.tmp``, ``.*``) are left out."""
    count = 0
    target.mkdir(parents=True, exist_ok=True)
    if not source.is_dir():
        return 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or path.suffix == ".tmp":
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        count += 1
    return count


def create(target: Path) -> Result:
    """Writes a backup of the configured database and files to the new directory target."""
    target = target.resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} gibt es schon und ist nicht leer; wählen Sie ein neues Verzeichnis.")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    # Only the operator's account reads it: ciphertext, but also the sealed second factors.
    partial.mkdir(parents=True, mode=0o700)
    try:
        kind = engine()
        if kind == "sqlite":
            migrations, rows = _sqlite_snapshot(partial / SQLITE_FILE)
        else:
            migrations, rows = _pg_snapshot(partial / PG_FILE)
        files = {
            name: _copy_tree(Path(getattr(settings, setting)), partial / name) for name, setting in FILE_DIRS.items()
        }
        manifest = {
            "format": FORMAT,
            "created": timezone.now().isoformat(),
            "engine": kind,
            "migrations": migrations,
            "rows": rows,
            "files": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Result(target, kind, files)


def _read_manifest(source: Path) -> dict:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"In {source} liegt keine Sicherung ({MANIFEST} fehlt).") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{source / MANIFEST} ist beschädigt.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST} hat ein unbekanntes Format.")
    return manifest


def _check_restorable(source: Path, manifest: dict, kind: str) -> None:
    if manifest.get("engine") != kind:
        raise BackupError(
            f"Die Sicherung stammt aus {manifest.get('engine')}, konfiguriert ist {kind}; "
            "stellen Sie sie in dieselbe Datenbankart wieder her."
        )
    dump = source / (SQLITE_FILE if kind == "sqlite" else PG_FILE)
    if not dump.is_file():
        raise BackupError(f"{dump} fehlt: die Sicherung ist unvollständig.")
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    newer = [f"{app}.{name}" for app, name in manifest.get("migrations", []) if (app, name) not in known]
    if newer:
        raise BackupError(
            "Die Sicherung stammt von einer neueren Version von Sprechzimmer (unbekannte Migrationen: "
            f"{', '.join(newer[:5])}). Installieren Sie mindestens diese Version und stellen Sie dann wieder her."
        )
    if kind == "sqlite":
        path = Path(settings.DATABASES["default"]["NAME"])
        if path.exists() and _has_tables(path):
            raise BackupError(f"Die Datenbank {path} ist nicht leer; wiederhergestellt wird nur in eine leere.")
    elif connection.introspection.table_names():
        raise BackupError(
            f"Die Datenbank {settings.DATABASES['default']['NAME']} ist nicht leer; "
            "wiederhergestellt wird nur in eine leere (createdb)."
        )
    for setting in FILE_DIRS.values():
        directory = Path(getattr(settings, setting))
        if directory.is_dir() and any(p.is_file() for p in directory.rglob("*")):
            raise BackupError(
                f"{directory} ({setting}) ist nicht leer; wiederhergestellt wird nur in ein leeres Verzeichnis."
            )


def _has_tables(path: Path) -> bool:
    """Whether the SQLite file holds any table at all (SQLite's own included)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone() is not None
    finally:
        db.close()


def _sqlite_tables(db: sqlite3.Connection) -> list[str]:
    """The tables of a SQLite database, without SQLite's own (sqlite_sequence …)."""
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [name for name in names if not name.startswith("sqlite_")]


def restore(source: Path) -> Result:
    """Restores the backup in source into the configured, empty database and file directories,
    then migrates the database forward if the backup is older than this release."""
    from django.core.management import call_command

    source = source.resolve()
    manifest = _read_manifest(source)
    kind = engine()
    _check_restorable(source, manifest, kind)
    connection.close()
    if kind == "sqlite":
        path = Path(settings.DATABASES["default"]["NAME"])
        path.parent.mkdir(parents=True, exist_ok=True)
        incoming = path.with_name(path.name + ".restoring")
        incoming.unlink(missing_ok=True)
        # immutable: the backup is only read, and nothing (no -shm, no -wal) is written beside it
        backup = sqlite3.connect(f"file:{source / SQLITE_FILE}?mode=ro&immutable=1", uri=True)
        fresh = sqlite3.connect(incoming)
        try:
            with fresh:
                backup.backup(fresh)
        finally:
            fresh.close()
            backup.close()
        for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"), path):
            leftover.unlink(missing_ok=True)
        incoming.rename(path)
    else:
        _run_pg(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={settings.DATABASES['default']['NAME']}",
            str(source / PG_FILE),
        )
    try:
        with connection.cursor() as cursor:
            restored = _counts(cursor, list(manifest.get("rows", {})))
    except DatabaseError:
        raise BackupError(f"{source / MANIFEST} nennt Tabellen, die die Sicherung nicht enthält.") from None
    if restored != manifest.get("rows", {}):
        differing = [table for table in restored if restored[table] != manifest["rows"][table]]
        raise BackupError(
            "Die wiederhergestellte Datenbank stimmt nicht mit der Sicherung überein (Tabellen "
            f"{', '.join(differing[:5])}). Leeren Sie die Datenbank und stellen Sie erneut wieder her; "
            "bleibt es so, ist die Sicherung beschädigt."
        )
    files = {name: _copy_tree(source / name, Path(getattr(settings, setting))) for name, setting in FILE_DIRS.items()}
    before = {tuple(m) for m in manifest.get("migrations", [])}
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        migrated = {tuple(m) for m in _migrations(cursor)} != before
    return Result(source, kind, files, migrated)
