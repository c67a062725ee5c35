"""Remove the charge entry kinds nothing used; the cancel window's help text without manual numbers."""

import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0002_ledger_rules"),
    ]

    operations = [
        migrations.AlterField(
            model_name="journalentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("grant", "Grant"),
                    ("payment", "Payment"),
                    ("payment_cancel", "Payment cancel"),
                    ("adjustment", "Balance adjustment"),
                    ("expiry", "Expiry"),
                    ("settlement", "Settlement"),
                    ("payout", "Payout"),
                ],
                max_length=20,
                verbose_name="transaction kind",
            ),
        ),
        migrations.AlterField(
            model_name="programme",
            name="cancel_window",
            field=models.DurationField(
                default=datetime.timedelta(days=1),
                help_text="How long after a payment the merchant may cancel it (e.g. 24 hours for a child-support ticket, 90 days for a premium voucher).",
                verbose_name="merchant cancel window",
            ),
        ),
    ]
