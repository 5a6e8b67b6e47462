"""Application documents move from the database (one AES-GCM blob each) to encrypted files in
DOCUMENTS_DIR, written and read in chunks (duty/documents.py)."""

import io

from django.db import migrations, models


def to_disk(apps, schema_editor):
    from sprechzimmer.duty import documents

    Document = apps.get_model("duty", "ApplicationDocument")
    for doc in Document.objects.exclude(ciphertext=b"").iterator():
        plain = documents.open_legacy(doc.ciphertext, doc.application_id, doc.anlage)
        doc.stored_name = documents.store(io.BytesIO(plain), doc.application_id, doc.anlage)
        doc.ciphertext = b""
        doc.save(update_fields=["stored_name", "ciphertext"])


class Migration(migrations.Migration):
    dependencies = [("duty", "0003_statement_mail")]
    operations = [
        migrations.AddField("applicationdocument", "stored_name", models.CharField(max_length=100, default="")),
        migrations.RunPython(to_disk, migrations.RunPython.noop),
        migrations.RemoveField("applicationdocument", "ciphertext"),
        migrations.AlterField("applicationdocument", "stored_name", models.CharField(max_length=100)),
    ]
