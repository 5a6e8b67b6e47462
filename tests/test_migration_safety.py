"""Migrations since the release in tests/data/upgrade keep that release working on the new schema
(docs/operations.md, "Upgrades": migrate first, then restart the processes one by one). What would
break the old processes in between is refused here: removing or renaming what they read, and new
columns they cannot insert without (NOT NULL without a database default)."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

RELEASE = Path(__file__).parent / "data" / "upgrade" / "sqlite" / "manifest.json"
BREAKING = (
    migrations.RemoveField,
    migrations.DeleteModel,
    migrations.RenameField,
    migrations.RenameModel,
    migrations.AlterModelTable,
)


def problems(operation, app: str, state) -> str | None:
    if isinstance(operation, BREAKING):
        return f"{type(operation).__name__} (in two releases: stop using it, then remove it)"
    if isinstance(operation, migrations.AddField):
        # The column as the whole `migrate` leaves it: a later migration of the same run may give it
        # its database default before any old process inserts again.
        field = state.models[app, operation.model_name_lower].fields[operation.name]
        if (
            not field.null
            and field.db_default is models.NOT_PROVIDED
            and not field.many_to_many
            and not isinstance(field, models.GeneratedField)
        ):
            return f"AddField {operation.name} NOT NULL without db_default (the old release cannot insert)"
    return None


def test_migrations_since_the_release_keep_the_old_processes_working():
    released = {tuple(m) for m in json.loads(RELEASE.read_text())["migrations"]}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    new = [key for key in loader.disk_migrations if key not in released and key[0] in APPS]
    assert released, "the release fixture names no migrations"
    state = loader.project_state()
    found = []
    for key in sorted(new):
        for operation in loader.disk_migrations[key].operations:
            if (problem := problems(operation, key[0], state)) and key not in ALLOWED:
                found.append(f"{key[0]}.{key[1]}: {problem}")
    assert not found, "\n".join(found)


APPS = {"accounts", "records", "video", "billing", "duty", "contracts", "approval", "status", "api"}
APPS |= {"invitations", "conference", "booking", "core", "jobs", "operations"}
#: Migrations reviewed to be safe despite the rule, each with the reason.
ALLOWED: dict[tuple[str, str], str] = {}
