"""Remove the export kind column nothing read."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0005_auditlog_moved_to_core"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="exportfile",
            name="kind",
        ),
    ]
