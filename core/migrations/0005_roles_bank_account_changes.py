"""加盟店担当 approve payout bank account changes (core.roles)."""

from django.db import migrations

from core.migrations import _roles


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_roles_imports_notices"),
        ("merchants", "0009_bank_account_changes"),
    ]

    operations = [migrations.RunPython(_roles.create_roles, migrations.RunPython.noop)]
