"""AuditLog (from merchants) and RateLimit (from payments) move here; their tables keep their names."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("merchants", "0004_daily_summary_triggers"),
        ("payments", "0003_drop_redundant_fk_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables exist already: only Django's picture of which app owns them changes.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RateLimit",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("key", models.CharField(max_length=200, unique=True, verbose_name="key")),
                        ("window_start", models.DateTimeField(verbose_name="window start")),
                        ("count", models.PositiveIntegerField(default=0, verbose_name="count")),
                    ],
                    options={
                        "verbose_name": "rate limit counter",
                        "verbose_name_plural": "rate limit counters",
                        "db_table": "payments_ratelimit",
                    },
                ),
                migrations.CreateModel(
                    name="AuditLog",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(
                                auto_now_add=True, db_index=True, verbose_name="date and time"
                            ),
                        ),
                        (
                            "actor_label",
                            models.CharField(blank=True, max_length=100, verbose_name="actor"),
                        ),
                        (
                            "action",
                            models.CharField(db_index=True, max_length=100, verbose_name="action"),
                        ),
                        (
                            "object_type",
                            models.CharField(blank=True, max_length=50, verbose_name="object type"),
                        ),
                        (
                            "object_id",
                            models.CharField(blank=True, max_length=50, verbose_name="object ID"),
                        ),
                        (
                            "data",
                            models.JSONField(blank=True, default=dict, verbose_name="details"),
                        ),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="by",
                            ),
                        ),
                        (
                            "company",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to="merchants.company",
                                verbose_name="company",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "audit log entry",
                        "verbose_name_plural": "audit log",
                        "db_table": "merchants_auditlog",
                        "ordering": ["-created_at"],
                    },
                ),
            ]
        )
    ]
