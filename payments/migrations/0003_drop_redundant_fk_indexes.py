"""Drop foreign-key indexes that the composite indexes already cover: every payment pays for
each index it inserts into. Plain DROP INDEX: Django's AlterField would also drop and re-add
(and re-validate) the foreign keys, locking the payments table for nothing."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0002_initial"),
        ("payments", "0002_cpm_codes_api_keys_rate_limits"),
        ("wallets", "0002_ledger_rules"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="payment",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="merchants.company",
                        verbose_name="company",
                    ),
                ),
                migrations.AlterField(
                    model_name="payment",
                    name="store",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="merchants.store",
                        verbose_name="store",
                    ),
                ),
                migrations.AlterField(
                    model_name="payment",
                    name="wallet",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="wallets.wallet",
                        verbose_name="wallet",
                    ),
                ),
                migrations.AlterField(
                    model_name="paymentsplit",
                    name="payment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="splits",
                        to="payments.payment",
                        verbose_name="payment",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX payments_payment_company_id_7c33876e;"
                    " DROP INDEX payments_payment_store_id_d13fbc69;"
                    " DROP INDEX payments_payment_wallet_id_b5d97d00;"
                    " DROP INDEX payments_paymentsplit_payment_id_b8317f88;",
                    reverse_sql=(
                        "CREATE INDEX payments_payment_company_id_7c33876e"
                        " ON payments_payment (company_id);"
                        " CREATE INDEX payments_payment_store_id_d13fbc69"
                        " ON payments_payment (store_id);"
                        " CREATE INDEX payments_payment_wallet_id_b5d97d00"
                        " ON payments_payment (wallet_id);"
                        " CREATE INDEX payments_paymentsplit_payment_id_b8317f88"
                        " ON payments_paymentsplit (payment_id);"
                    ),
                ),
            ],
        ),
    ]
