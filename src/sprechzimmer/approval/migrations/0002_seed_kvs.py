"""The 17 KVs as shipped (approval/directory.py); the operator edits them afterwards."""

from django.db import migrations


def seed(apps, schema_editor):
    from sprechzimmer.approval.directory import KVS

    KvProcedure = apps.get_model("approval", "KvProcedure")
    for kv in KVS:
        KvProcedure.objects.update_or_create(
            code=kv.code,
            defaults={
                "name": kv.name,
                "short_name": kv.short_name,
                "procedure": kv.procedure,
                "documents": ",".join(kv.documents),
                "steps": kv.steps,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("approval", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
