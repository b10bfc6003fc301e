"""The per-factory audit head, filled from each existing chain's newest entry so that verification can tell
a truncated tail from the day of the upgrade on."""
import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Max
from django.utils import timezone


def fill_heads(apps, schema_editor):
    AuditEntry = apps.get_model("collaboration", "AuditEntry")
    AuditHead = apps.get_model("collaboration", "AuditHead")
    now = timezone.now()
    for row in AuditEntry.objects.values("factory_id").annotate(last=Max("seq")).iterator():
        last = AuditEntry.objects.get(factory_id=row["factory_id"], seq=row["last"])
        AuditHead.objects.create(factory_id=last.factory_id, seq=last.seq, hash=last.hash, updated_at=now)


class Migration(migrations.Migration):

    dependencies = [
        ("collaboration", "0002_comment_mentions_updated_at"),
        ("twins", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditHead",
            fields=[
                ("factory", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name="audit_head", serialize=False, to="twins.factory")),
                ("seq", models.PositiveIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("updated_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(fill_heads, migrations.RunPython.noop),
    ]
