"""事業担当 import residents and print notices (core.roles), now that both models exist."""

from django.db import migrations

from core.migrations import _roles


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_staff_roles"),
        ("wallets", "0008_notice_batches"),
    ]

    operations = [migrations.RunPython(_roles.create_roles, migrations.RunPython.noop)]
