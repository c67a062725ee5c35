"""Each store's QR sheet URL carries a random token of its own instead of a SECRET_KEY
signature (issue 10); every existing store gets one here."""

import secrets

from django.db import migrations, models

import merchants.models


def give_tokens(apps, schema_editor):
    Store = apps.get_model("merchants", "Store")
    for store in Store.objects.filter(sheet_token__isnull=True).only("pk"):
        store.sheet_token = secrets.token_urlsafe(16)
        store.save(update_fields=["sheet_token"])


class Migration(migrations.Migration):
    dependencies = [("merchants", "0009_bank_account_changes")]

    operations = [
        migrations.AddField(
            model_name="store",
            name="sheet_token",
            field=models.CharField(max_length=32, null=True, editable=False),
        ),
        migrations.RunPython(give_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="store",
            name="sheet_token",
            field=models.CharField(
                default=merchants.models.new_sheet_token,
                editable=False,
                max_length=32,
                unique=True,
                verbose_name="QR sheet token",
            ),
        ),
    ]
