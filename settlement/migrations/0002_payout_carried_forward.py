# Payouts frozen before this migration carried nothing forward on record (0); what they left
# pending is still found live from the payments
# (settlement.selectors.pending_late_cancellations).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("settlement", "0001_settlement_runs_payouts"),
    ]

    operations = [
        migrations.AddField(
            model_name="payout",
            name="carried_forward",
            field=models.BigIntegerField(
                default=0,
                help_text="Late cancellations this payout could not absorb, still owed by the company when the period closed; deducted from its next payouts.",
                verbose_name="carried forward (yen)",
            ),
        ),
        migrations.AddConstraint(
            model_name="payout",
            constraint=models.CheckConstraint(
                condition=models.Q(("carried_forward__gte", 0)),
                name="payout_carried_forward_sign",
            ),
        ),
    ]
